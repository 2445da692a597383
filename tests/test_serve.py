"""`python -m bot.serve`: Discord and Slack from one process, on one model, one index and one store."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot import discord_bot, serve
from bot.config import Settings
from bot.core.embedder import HashEmbedder
from bot.core.replies import UserRef
from bot.core.runtime import Runtime
from bot.core.testing import FakeLLM
from tests.discord_harness import CRITIQUE, GOOD_ANSWER, Harness, alice, new_bot, started
from tests.fake_discord import FakeDiscord
from tests.fake_slack_api import FORM, SIGNING_SECRET, FakeSlackApi, command_body, dm_event, event_body, slack_request

REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_one_process_serves_discord_and_slack_on_one_model(tmp_path: Path, fake: FakeDiscord,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[FakeLLM] = []

    def build_model(self: Runtime) -> FakeLLM:
        built.append(FakeLLM(respond=lambda prompt: json.dumps(CRITIQUE)))
        return built[-1]

    monkeypatch.setattr(Runtime, "_build_llm", build_model)
    monkeypatch.setattr("bot.core.embedder.SentenceEmbedder", lambda model=None: HashEmbedder())
    seen: dict[str, Any] = {}

    async def discord_side(runtime: Runtime, settings: Settings, token: str) -> None:
        """What the Discord client would do once connected: a user answers; meanwhile a Slack user answers too."""
        bot = new_bot(runtime.coach, fake)
        await bot.client._async_setup_hook()
        h = Harness(bot, fake)
        _, question, thread = await started(h, topic="regularization", count=1)
        opened = await h.press(question, "answer", channel=thread)
        await h.submit(h.fake.callbacks(opened)[0], GOOD_ANSWER, channel=thread)
        await asyncio.to_thread(slack_side, settings)
        seen["coach"] = runtime.coach
        await bot.client.close()
        bot.shutdown()

    def slack_side(settings: Settings) -> None:
        url = f"http://127.0.0.1:{settings.slack_port}/slack/events"
        assert slack_request(url, command_body("U1", "start regularization 1", api.root + "response/U1"), FORM)\
            .status == 200
        api.wait_for(lambda: any("coach_answer" in json.dumps(m["blocks"]) for m in api.messages("DU1")))
        slack_request(url, event_body(dm_event("U1", GOOD_ANSWER, ts="1000.000100"), "Ev1"), "application/json")
        api.wait_for(lambda: any("Follow-up" in json.dumps(m["blocks"]) for m in api.messages("DU1")))

    monkeypatch.setattr(discord_bot, "serve", discord_side)
    with FakeSlackApi() as api:
        settings = Settings(COACH_DATA_DIR=tmp_path / "data", COACH_KNOWLEDGE_DIR=REPO / "tests" / "data" / "decks",
                            DISCORD_TOKEN="discord-test", SLACK_BOT_TOKEN="xoxb-test",  # type: ignore[call-arg]
                            SLACK_SIGNING_SECRET=SIGNING_SECRET, COACH_SLACK_API_URL=api.url,
                            COACH_SLACK_PORT=_free_port())
        serve.run(settings, discord_on=True, slack_on=True, http=True)
    coach = seen["coach"]
    assert len(built) == 1, "the model was loaded more than once"
    critiqued = [p.variable for p in built[0].calls]
    assert len(critiqued) == 2 and all("Dropout randomly turns off" in text for text in critiqued)
    assert len(coach.store.attempts(alice())) == 1 and len(coach.store.attempts(UserRef("slack", "U1"))) == 1


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COACH_", "DISCORD_"))}
    clean.update(env, PYTHONPATH=str(REPO), COACH_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "bot.serve", *args], cwd=tmp_path, env=clean, capture_output=True,
                          text=True, timeout=60)


def test_without_any_token_serve_says_so_in_one_sentence(tmp_path: Path) -> None:
    result = _run(tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "DISCORD_TOKEN" in lines[0] and "SLACK_BOT_TOKEN" in lines[0]


def test_a_missing_token_of_an_asked_platform_is_named_before_anything_loads(tmp_path: Path) -> None:
    result = _run(tmp_path, "--slack", "--discord", DISCORD_TOKEN="x", SLACK_BOT_TOKEN="xoxb-1")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1 and "SLACK_APP_TOKEN" in lines[0] and "xoxb-1" not in lines[0]
    assert not (tmp_path / "data" / "coach.db").exists()
