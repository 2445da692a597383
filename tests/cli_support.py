"""Helpers for driving the terminal adapter: a scratch data folder, the CLI as a subprocess, an in-process runtime."""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_DECKS = Path(__file__).resolve().parent / "data" / "decks"
TRACEBACK = "Traceback (most recent call last)"


def scratch_dir() -> Path:
    """A new, empty data folder that any process may enter (pytest's own tmp folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="coach-scratch-"))
    folder.chmod(0o755)
    return folder


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a new user: only this data folder and the test deck; no other COACH_ or token setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "SLACK_", "DISCORD_"))}
    return env | {"COACH_DATA_DIR": str(data_dir), "COACH_KNOWLEDGE_DIR": str(TEST_DECKS), "PYTHONPATH": str(REPO),
                  "COLUMNS": "400"} | extra


def run_cli(args: list[str], env: dict[str, str], stdin: bytes | None = None, timeout: float = 180,
            prefix: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m bot.cli ARGS` in the repository, with stdin as bytes; output decoded with replacement."""
    proc = subprocess.run([*(prefix or []), sys.executable, "-m", "bot.cli", *args], cwd=REPO, env=env,
                          input=stdin if stdin is not None else b"", capture_output=True, timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def without_dac() -> list[str]:
    """A command prefix under which file permissions apply (root bypasses them; setpriv drops that power)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file permissions cannot be tested")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def attempts(db: Path, user: str | None = None) -> list[dict[str, Any]]:
    """Every stored attempt (answer, score, skipped, follow-up) of the SQLite database, oldest first."""
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        query = ("SELECT a.id, a.answer, a.score, a.skipped, a.is_follow_up, a.question_id, u.user_id FROM attempts a "
                 "JOIN users u ON u.id = a.user_pk" + (" WHERE u.user_id = ?" if user else "") + " ORDER BY a.id")
        return [dict(row) for row in conn.execute(query, (user,) if user else ())]


def open_sessions(db: Path) -> list[dict[str, Any]]:
    """Sessions still open (awaiting an answer or a follow-up)."""
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(
            "SELECT id, phase, position, question_ids FROM sessions WHERE phase LIKE 'AWAITING%'")]


def fake_runtime(data_dir: Path, *, llm: Any = None, use_llm: bool = True) -> Any:
    """A Runtime on the test deck with the hashing embedder and a scripted model: the terminal in-process."""
    from bot.config import Settings
    from bot.core.embedder import HashEmbedder
    from bot.core.runtime import Runtime
    from bot.core.testing import FakeLLM
    from tests.fake_slack_api import CRITIQUE

    settings = Settings(COACH_DATA_DIR=data_dir, COACH_KNOWLEDGE_DIR=TEST_DECKS)  # type: ignore[call-arg]
    model = llm if llm is not None else FakeLLM(respond=lambda prompt: json.dumps(CRITIQUE))
    return Runtime(settings, use_llm=use_llm, llm=model if use_llm else None, embedder=HashEmbedder())


def interview_args(**changes: Any) -> argparse.Namespace:
    """The parsed options of `interview`."""
    return argparse.Namespace(**({"topic": None, "count": None, "no_llm": False, "user": "tester"} | changes))


class Script:
    """What a user types, line by line, for Terminal(read=...): str lines, EOFError or KeyboardInterrupt at the end."""

    def __init__(self, lines: list[str], end: type[BaseException] = EOFError) -> None:
        self.lines = list(lines)
        self.end = end
        self.read_count = 0

    def __call__(self, prompt: str) -> str:
        if not self.lines:
            raise self.end()
        self.read_count += 1
        return self.lines.pop(0)


def stdin_reader(data: bytes) -> Callable[[str], str]:
    """input() over bytes, decoded as the terminal adapter configures standard input (UTF-8, U+FFFD for the rest)."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace", newline=None)

    def read(prompt: str) -> str:
        line = stream.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    return read


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Size and mtime of every file under folder (the lock file aside), to prove a command changed nothing."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".coach.lock"}
