"""Shared fixtures. The network fails loudly in tests, except loopback."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
KNOWLEDGE = REPO / "knowledge"
TEST_DECKS = Path(__file__).resolve().parent / "data" / "decks"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    """Refuse any connection that does not stay on this machine."""
    host = address[0] if isinstance(address, tuple) else address
    inet = self.family in (socket.AF_INET, socket.AF_INET6)
    if inet and isinstance(host, str) and not (host.startswith("127.") or host in ("localhost", "::1")):
        raise RuntimeError(f"Tests may not reach the network ({host}).")
    _real_connect(self, address)


socket.socket.connect = _loopback_only  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def real_embedder():
    """The packaged all-MiniLM-L6-v2 model, loaded once per test session."""
    from bot.core.embedder import SentenceEmbedder

    embedder = SentenceEmbedder()
    embedder.load()
    return embedder


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
