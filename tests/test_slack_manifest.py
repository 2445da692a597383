"""The app manifest asks for exactly what the adapter uses."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack_app import COMMAND

MANIFEST = Path(__file__).resolve().parent.parent / "slack" / "manifest.yaml"


def test_manifest_creates_the_app_in_one_step() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {"chat:write", "im:write", "im:history", "commands",
                                                              "users:read", "files:write", "channels:read",
                                                              "groups:read", "channels:history", "groups:history"}
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"message.im", "app_home_opened"}
    assert settings["interactivity"]["is_enabled"] is True and settings["socket_mode_enabled"] is True
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"] and not home["messages_tab_read_only_enabled"]
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [COMMAND]
