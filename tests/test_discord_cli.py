"""`python -m bot.discord_bot` as operators run it: the command payload, a missing token, scrubbed logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot import discord_bot
from bot.config import Settings

REPO = Path(__file__).resolve().parent.parent


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The module in a clean folder (no .env), with only the given Discord settings."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COACH_"))}
    environ |= {"PYTHONPATH": str(REPO), "COACH_DATA_DIR": str(tmp_path / "data")} | env
    return subprocess.run([sys.executable, "-m", "bot.discord_bot", *args], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=60)


def test_print_commands_lists_the_group_its_subcommands_and_options(tmp_path: Path) -> None:
    done = _run(["--print-commands"], tmp_path)
    assert done.returncode == 0, done.stderr
    [group] = json.loads(done.stdout)
    assert group["name"] == "interview" and group["type"] == 1
    subs = {o["name"]: o for o in group["options"]}
    assert set(subs) == {"start", "answer", "hint", "skip", "reveal", "stop", "stats", "topics", "daily", "flag",
                         "review", "export", "forget", "deck"}
    assert all(o["type"] == 1 for o in subs.values())   # SUB_COMMAND
    start = {o["name"]: o for o in subs["start"]["options"]}
    assert start["topic"]["type"] == 3 and start["topic"]["autocomplete"] and not start["topic"]["required"]
    assert start["count"]["type"] == 4 and (start["count"]["min_value"], start["count"]["max_value"]) == (1, 20)
    assert [c["value"] for c in start["mode"]["choices"]] == ["coach", "interviewer"] and not start["mode"]["required"]
    deck = {o["name"]: o for o in subs["deck"]["options"]}
    assert deck["name"]["autocomplete"] and not deck["name"]["required"]
    assert [c["value"] for c in deck["scope"]["choices"]] == ["me", "server"]
    daily = {o["name"]: o for o in subs["daily"]["options"]}
    assert daily["state"]["required"] and [c["value"] for c in daily["state"]["choices"]] == ["on", "off"]
    assert not daily["time"]["required"] and daily["timezone"]["autocomplete"]
    for name in ("answer", "hint", "skip", "reveal", "stop", "stats", "topics"):
        assert subs[name]["options"] == []


def test_missing_token_is_one_sentence_and_exit_status_2(tmp_path: Path) -> None:
    done = _run([], tmp_path, DISCORD_TOKEN="")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "DISCORD_TOKEN is not set" in done.stderr
    assert done.stdout == ""


def test_the_token_never_reaches_the_log(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    token = "MTA5.fake-token-value.xyz"

    async def leaky_serve(runtime: object, settings: Settings, given: str) -> None:
        log = logging.getLogger("discord.http")
        log.warning("connecting with %s", given)
        try:
            raise RuntimeError(f"login failed for {given}")
        except RuntimeError:
            log.exception("gateway error")

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    monkeypatch.setattr(discord_bot, "serve", leaky_serve)
    try:
        settings = Settings(DISCORD_TOKEN=token, COACH_DATA_DIR=tmp_path)  # type: ignore[call-arg]
        assert discord_bot.run(settings) == 0
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    err = capsys.readouterr().err
    assert "connecting with" in err and "login failed for" in err and "Traceback" in err
    assert token not in err


def test_the_client_pings_nobody_and_asks_for_message_content_only_when_told(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("COACH_DISCORD_MESSAGE_CONTENT", raising=False)
    plain = discord_bot.make_client(Settings(COACH_DATA_DIR=tmp_path))  # type: ignore[call-arg]
    assert not plain.intents.message_content and plain.allowed_mentions is not None
    assert plain.allowed_mentions.to_dict() == {"parse": []} and not isinstance(plain, discord.AutoShardedClient)
    monkeypatch.setenv("COACH_DISCORD_MESSAGE_CONTENT", "1")
    sharded = discord_bot.make_client(Settings(COACH_DATA_DIR=tmp_path, COACH_DISCORD_SHARDS=2))  # type: ignore[call-arg]
    assert sharded.intents.message_content and isinstance(sharded, discord.AutoShardedClient)
    assert sharded.shard_count == 2
