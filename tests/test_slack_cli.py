"""`python -m bot.slack_app`: a missing token is one clear sentence on standard error and exit status 2."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import get_settings
from bot.slack_app import main
from tests.fake_slack_api import SIGNING_SECRET, FakeSlackApi, command_body, slack_request, wait_for_port

REPO = Path(__file__).resolve().parent.parent


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COACH_"))}
    clean.update(env, PYTHONPATH=str(REPO), COACH_DATA_DIR=str(tmp_path / "data"))
    # Run from an empty folder so that no .env file supplies a token.
    return subprocess.run([sys.executable, "-m", "bot.slack_app", *args], cwd=tmp_path, env=clean,
                          capture_output=True, text=True, timeout=60)


def test_missing_token_is_one_sentence_and_status_2(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "SLACK_BOT_TOKEN" in lines[0]


@pytest.mark.parametrize(("args", "env", "name"), [
    ([], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN"),
    (["--http"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
])
def test_each_mode_names_the_token_it_lacks(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path, args: list[str], env: dict[str, str], name: str) -> None:
    for key in [k for k in os.environ if k.startswith(("SLACK_", "COACH_"))]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)   # no .env here
    get_settings.cache_clear()
    try:
        assert main(args) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and name in err and "xoxb-1" not in err


def test_help_lists_http_mode(tmp_path: Path) -> None:
    result = _run(tmp_path, "--help")
    assert result.returncode == 0 and "--http" in result.stdout


def test_http_mode_serves_slack_on_the_configured_port_and_api_url(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeSlackApi() as api:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COACH_"))}
        env.update(PYTHONPATH=str(REPO), SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                   COACH_SLACK_API_URL=api.url, COACH_SLACK_PORT=str(port), COACH_DATA_DIR=str(tmp_path / "data"),
                   COACH_KNOWLEDGE_DIR=str(REPO / "tests" / "data" / "decks"),
                   COACH_LLM_BASE_URL="http://127.0.0.1:9/v1")  # no model: nothing here needs one
        process = subprocess.Popen([sys.executable, "-m", "bot.slack_app", "--http"], cwd=tmp_path, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            wait_for_port(port, process)
            url = f"http://127.0.0.1:{port}/slack/events"
            sent = slack_request(url, command_body("U1", "start 1", api.root + "response/U1"),
                                 "application/x-www-form-urlencoded")
            assert sent.status == 200
            api.wait_for(lambda: any("coach_answer" in json.dumps(m["blocks"]) for m in api.messages("DU1")), 30)
            assert slack_request(url, b"{}", "application/json", signature="v0=forged").status == 401
        finally:
            process.terminate()
            output = process.communicate(timeout=10)[0]
    assert "xoxb-test" not in output and SIGNING_SECRET not in output


def test_the_engine_never_imports_slack() -> None:
    code = ("import sys, bot.core.coach, bot.core.runtime, bot.core.schedule, bot.core.store.sql; "
            "print([m for m in sys.modules if m.split('.')[0] in ('slack_bolt', 'slack_sdk')])")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_socket_mode_uses_the_app_token_and_the_configured_api_url(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import slack_bolt.adapter.socket_mode as socket_mode

    from bot import slack_app
    from bot.config import Settings
    from bot.core import runtime
    from tests.fake_slack_api import build_coach

    started: dict[str, object] = {}

    class FakeHandler:
        def __init__(self, app: object, app_token: str, web_client: object) -> None:
            started.update(app=app, token=app_token, client=web_client)

        def start(self) -> None:
            started["started"] = True

    class FakeRuntime:
        def __init__(self, settings: Settings) -> None:
            self.coach = build_coach(tmp_path / "coach.db")

        def warm_up_in_background(self) -> None:
            started["warm"] = True

        def close(self) -> None:
            started["closed"] = True

    monkeypatch.setattr(socket_mode, "SocketModeHandler", FakeHandler)
    monkeypatch.setattr(runtime, "Runtime", FakeRuntime)
    with FakeSlackApi() as api:
        settings = Settings(SLACK_BOT_TOKEN="xoxb-test", SLACK_APP_TOKEN="xapp-test", COACH_SLACK_API_URL=api.url)
        slack_app.run(settings, http=False)
        assert started["token"] == "xapp-test" and started["started"] is True
        assert started["client"].base_url == api.url  # type: ignore[attr-defined]
        assert [c.method for c in api.calls()][:1] == ["auth.test"]
