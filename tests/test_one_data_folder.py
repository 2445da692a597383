"""Two processes on one data folder, for real: a Slack bot holds the index (real MiniLM, real Chroma, SQLite) while
the terminal's read-only commands run beside it and a second bot starts on the same folder; `index` alone is
refused, in one sentence."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fake_slack_api import FORM, SIGNING_SECRET, FakeSlackApi, command_body, slack_request, wait_for_port

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(data: Path, api: FakeSlackApi, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COACH_", "DISCORD_"))}
    env.update(PYTHONPATH=str(REPO), SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SIGNING_SECRET,
               COACH_SLACK_API_URL=api.url, COACH_SLACK_PORT=str(port), COACH_DATA_DIR=str(data),
               COACH_KNOWLEDGE_DIR=str(REPO / "tests" / "data" / "decks"), COACH_N_THREADS="1",
               COACH_LLM_BASE_URL="http://127.0.0.1:9/v1")   # no model: nothing here needs one
    return env


@contextmanager
def _serving(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen([sys.executable, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(int(env["COACH_SLACK_PORT"]), process, timeout=120)
        yield process
    finally:
        process.terminate()
        process.communicate(timeout=30)


def _cli(args: list[str], env: dict[str, str], cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_terminal_commands_and_a_second_bot_work_while_a_bot_holds_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with FakeSlackApi() as api:
        env = _env(data, api, _free_port())
        with _serving(["-m", "bot.slack_app", "--http"], env, tmp_path):
            snapshot = data / "chroma" / "snapshot.npz"
            api.wait_for(snapshot.exists, timeout=180)   # warmed up: the index is synced and held
            asked = _cli(["ask", "why switch off random neurons while training", "--k", "1", "--json"], env, tmp_path)
            assert asked.returncode == 0, asked.stderr[-1500:]
            assert json.loads(asked.stdout)["results"][0]["id"] == "dropout"
            graded = _cli(["grade", "--question", "What is dropout?", "--no-llm", "--json"], env, tmp_path,
                          stdin="Dropout randomly turns off neurons during training so the network overfits less.")
            assert graded.returncode == 0, graded.stderr[-1500:]
            assert json.loads(graded.stdout)["question_id"] == "dropout"
            stats = _cli(["stats", "--user", "someone", "--json"], env, tmp_path)
            assert stats.returncode == 0, stats.stderr[-1500:]
            doctor = _cli(["doctor"], env, tmp_path)
            assert "Another process" not in doctor.stdout + doctor.stderr and "index" in doctor.stdout
            writer = _cli(["index"], env, tmp_path)
            lines = [line for line in writer.stderr.splitlines() if line.strip()]
            assert writer.returncode == 2 and len(lines) == 1 and "Another process is using the index" in lines[0]
            # A second bot on the same folder (here through `python -m bot.serve`) serves at once.
            second = dict(env, COACH_SLACK_PORT=str(_free_port()))
            with _serving(["-m", "bot.serve", "--slack", "--http"], second, tmp_path):
                url = f"http://127.0.0.1:{second['COACH_SLACK_PORT']}/slack/events"
                sent = slack_request(url, command_body("U2", "start 1", api.root + "response/U2"), FORM)
                assert sent.status == 200
                api.wait_for(lambda: any("coach_answer" in json.dumps(m["blocks"]) for m in api.messages("DU2")),
                             timeout=120)
