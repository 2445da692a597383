"""The shared test harness: the network fails loudly except loopback; the environment is wiped for every test;
fixtures for a coach on fast fakes, the Discord recorder and bot, and the Slack app on loopback."""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

if TYPE_CHECKING:
    from bot.core.coach import Coach
    from bot.core.store.sql import SqlStore
    from bot.core.testing import FakeLLM
    from tests.discord_harness import Harness
    from tests.fake_discord import FakeDiscord
    from tests.fake_slack_api import Slack

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE = REPO / "knowledge"
TEST_DECKS = Path(__file__).resolve().parent / "data" / "decks"
SECOND_DECK = TEST_DECKS / "more" / "databases.yaml"   # kept apart: the harness's coach has the mini deck only

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: tuple[Any, ...] | str | bytes) -> None:
    """Refuse any connection that does not stay on this machine."""
    host = address[0] if isinstance(address, tuple) else address
    inet = self.family in (socket.AF_INET, socket.AF_INET6)
    if inet and isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")):
        raise RuntimeError(f"Tests may not reach the network ({host}).")
    _real_connect(self, address)


# typeshed declares connect on _socket.socket; every socket the tests open is a socket.socket.
socket.socket.connect = _loopback_only  # type: ignore[method-assign,assignment]

# Settings a test may not inherit from the shell or a developer's .env: tokens, URLs of servers, behaviour switches.
# Kept: where the packaged model is assembled, and the knobs of the test runs themselves.
_KEPT = ("COACH_DATA_DIR", "COACH_MODEL_PATH", "COACH_MODEL", "COACH_N_THREADS", "COACH_TEST_", "COACH_RELIABILITY_",
         "COACH_LLM_LABELED_")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the same settings: no platform token, no server URL, no .env file."""
    from bot.config import Settings, get_settings

    for name in list(os.environ):
        if name.startswith(("DISCORD_", "SLACK_")) or (name.startswith("COACH_") and not name.startswith(_KEPT)):
            monkeypatch.delenv(name)
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    """A test that runs an entry point in-process leaves no handler on a captured stream that pytest then closes."""
    # Without this, a later record (from any thread) written to a closed capture prints "--- Logging error ---".
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def real_embedder():
    """The packaged all-MiniLM-L6-v2 model, loaded once per test session."""
    from bot.core.embedder import SentenceEmbedder

    embedder = SentenceEmbedder()
    embedder.load()
    return embedder


@pytest.fixture(scope="session")
def real_retrieval_embedder():
    """The index's packaged all-mpnet-base-v2 model, loaded once per test session."""
    from bot.core.embedder import retrieval_embedder

    embedder = retrieval_embedder()
    embedder.load()
    return embedder


@pytest.fixture(scope="session")
def grader(real_embedder):
    """The rubric grader on the real embedder, shared by the claim-check tests (modules with a grader of their own,
    a fake LLM's or a cached embedder's, define it locally)."""
    from bot.core.grading.grader import Grader

    return Grader(real_embedder)


@pytest.fixture(scope="session")
def real_bank():
    """The real bank of knowledge/."""
    from bot.core.bank import load_bank

    return load_bank(KNOWLEDGE)


@pytest.fixture()
def test_bank():
    """A small deck for fast unit tests."""
    from bot.core.bank import load_bank

    return load_bank(TEST_DECKS)


@pytest.fixture()
def knowledge(tmp_path: Path) -> Path:
    """A copy of the test deck that a test may edit."""
    import shutil

    folder = tmp_path / "knowledge"
    shutil.copytree(TEST_DECKS, folder)
    return folder


@pytest.fixture()
def two_decks(tmp_path: Path) -> Path:
    """A knowledge folder with two decks installed: the mini deck and the databases deck."""
    import shutil

    folder = tmp_path / "two-decks"
    folder.mkdir()
    shutil.copy(TEST_DECKS / "mini.yaml", folder)
    shutil.copy(SECOND_DECK, folder)
    return folder


@pytest.fixture()
def edit_deck(knowledge: Path) -> Callable[..., None]:
    """Change fields of one entry of the copied test deck: edit_deck("momentum", question="...")."""
    import yaml

    def edit(entry_id: str, **changes: object) -> None:
        path = knowledge / "mini.yaml"
        data = yaml.safe_load(path.read_text())
        for question in data["questions"]:
            if question["id"] == entry_id:
                question.update(changes)
        path.write_text(yaml.safe_dump(data))

    return edit


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One Chroma server (`chroma run`) for the module."""
    from tests.test_scale_servers import start_chroma

    folder = tmp_path_factory.mktemp("chroma-server")
    server = start_chroma(folder / "data", folder / "chroma.log")
    yield server
    server.stop()


# ---- a coach on fast parts ---------------------------------------------------------------------------------------


@pytest.fixture()
def store() -> Iterator[SqlStore]:
    """An in-memory store."""
    from bot.core.store.sql import SqlStore

    sql = SqlStore("sqlite://")
    yield sql
    sql.close()


@pytest.fixture()
def llm() -> FakeLLM:
    """A scripted model: always the same critique (strengths, improvements and a follow-up)."""
    from bot.core.testing import FakeLLM
    from tests.discord_harness import CRITIQUE

    return FakeLLM(respond=lambda prompt: json.dumps(CRITIQUE))


@pytest.fixture()
def coach(test_bank: Any, store: SqlStore, llm: FakeLLM) -> Coach:
    """The real Coach on the mini deck with a hashing embedder, the scripted model and the in-memory store."""
    from bot.core.testing import fake_coach
    from tests.discord_harness import NOW

    return fake_coach(test_bank, store, llm=llm, clock=lambda: NOW)


# ---- the chat platforms -------------------------------------------------------------------------------------------


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    """Discord's HTTP API, recorded: installed as discord.py's webhook transport (interaction callbacks, followups)."""
    from discord.webhook.async_ import AsyncWebhookAdapter

    from tests.fake_discord import FakeDiscord

    recorder = FakeDiscord()

    async def request(self: AsyncWebhookAdapter, route: Any, session: Any = None, **kwargs: Any) -> Any:
        return await recorder.webhook_request(route, session, **kwargs)

    monkeypatch.setattr(AsyncWebhookAdapter, "request", request)
    return recorder


@pytest_asyncio.fixture()
async def h(fake: FakeDiscord, store: SqlStore, llm: FakeLLM) -> AsyncIterator[Harness]:
    """The Discord bot on the recorder, set up as at start (dynamic items registered, loop attached)."""
    from tests.discord_harness import Harness, make_coach, new_bot

    bot = new_bot(make_coach(store, llm), fake)
    await bot.client._async_setup_hook()
    yield Harness(bot, fake)
    await bot.client.close()
    bot.shutdown()


@pytest.fixture()
def slack(tmp_path: Path) -> Iterator[Slack]:
    """The Slack app on loopback, with the fake Web API and the coach behind it."""
    from tests.fake_slack_api import running

    with running(tmp_path) as served:
        yield served


# ---- LLM layer (tiny random GGUF for llama.cpp tests) ---------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random llama-architecture GGUF with a ChatML template (a few hundred KB), written once."""
    try:
        from tests.tinymodel import write_tiny_gguf
    except ImportError:  # tests/ is on sys.path but the repository root is not
        from tinymodel import write_tiny_gguf  # type: ignore[no-redef]

    return write_tiny_gguf(tmp_path_factory.mktemp("tinymodel") / "tiny.gguf")


# ---- grading (real model for the contradiction check) -----------------------------------------------------------


@pytest.fixture(scope="session")
def grading_llm():
    """The packaged 1.5B model in-process (assembled under COACH_DATA_DIR on first use); skipped when not installed."""
    import os

    from bot.config import Settings
    from bot.core.llm.llama import LlamaCppLLM
    from bot.core.llm.modelfile import resolve_model_path
    from bot.errors import ModelError

    try:
        path = resolve_model_path(Settings())  # type: ignore[call-arg]
    except ModelError as exc:
        pytest.skip(str(exc))
    model = LlamaCppLLM(path, n_threads=os.cpu_count() or 1, n_ctx=4096)
    yield model
    model.close()


@pytest.fixture()
def scratch():
    """A new user's data folder (open to any process, unlike pytest's tmp folders), removed afterwards."""
    import shutil

    from tests.cli_support import scratch_dir

    folder = scratch_dir()
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)


# ---- speech (real audio from espeak-ng, the packaged Whisper base) ------------------------------------------------


@pytest.fixture(scope="session")
def espeak() -> str:
    """espeak-ng, installed with apt when missing (skips only when apt cannot be used here)."""
    from tests import speech_audio

    path = speech_audio.espeak_path()
    if path is None:
        pytest.skip("espeak-ng is not installed and apt cannot install it here (not root, or no apt)")
    return path


@pytest.fixture(scope="session")
def whisper(tmp_path_factory: pytest.TempPathFactory):
    """The packaged Whisper base, assembled into a fresh data folder and loaded as the coach runs it."""
    from bot.config import Settings
    from bot.core.speech.modelfile import resolve_speech_model
    from bot.core.speech.whisper import FasterWhisperTranscriber

    settings = Settings(COACH_DATA_DIR=str(tmp_path_factory.mktemp("speech-data")))
    return FasterWhisperTranscriber(resolve_speech_model(settings), cpu_threads=2)
