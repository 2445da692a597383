"""Two bot processes side by side on one PostgreSQL and one Chroma server: nothing lost, each sees the other's writes.

Each process builds its Runtime from the same URLs (and even the same data folder), then, at the same moment,
indexes the bank, searches it and writes users, sessions, attempts, review cards, event claims and a daily claim.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.core.bank import load_bank
from bot.core.embedder import HashEmbedder
from bot.core.index import ChromaIndex
from bot.core.replies import UserRef
from bot.core.store.db import MIGRATIONS, make_engine
from bot.core.store.sql import SqlStore
from tests.test_scale_servers import REPO, Server, postgres_url

DECKS = Path(__file__).resolve().parent / "data" / "decks"
WRITES = 40
QUERIES = ["What does dropout do to neurons during training?", "momentum in gradient descent"]

# One bot process: builds the engine from the environment, waits for the start signal, writes, then reads back.
CHILD = r'''
import json, os, sys, time
from datetime import UTC, datetime
from pathlib import Path

from bot.config import Settings
from bot.core.embedder import HashEmbedder
from bot.core.replies import UserRef
from bot.core.runtime import Runtime
from bot.core.store.records import AttemptRecord, CardRecord

name, writes, signal = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
queries = json.loads(sys.argv[4])
runtime = Runtime(Settings(), use_llm=False, embedder=HashEmbedder())
store = runtime.store
print("ready", flush=True)
while not (signal / "go").exists():
    time.sleep(0.01)

report = runtime.reindex()   # both at once: the collection is created by one of them
me, shared = UserRef("discord", name), UserRef("slack", "shared")
events, sessions = [], []
for i in range(writes):
    store.get_or_create_user(shared, display_name="Shared")
    session = store.create_session(me, [f"q{i}"], channel=f"{name}-{i}")
    sessions.append(session.id)
    store.add_attempt(AttemptRecord(me, "dropout", i, answer=f"{name} {i}", session_id=session.id))
    store.add_attempt(AttemptRecord(shared, "momentum", i, answer=f"{name} {i}"))
    store.save_card(CardRecord(shared, f"c{i % 5}", {"by": name, "i": i}, datetime(2025, 1, 1, tzinfo=UTC), 3, i))
    if store.claim_event(f"event-{i}"):
        events.append(i)
daily = store.claim_daily(shared, "2025-06-01", "dropout")
search = {q: [h.entry.id for h in runtime.index().search(q, k=3)] for q in queries}
(signal / f"done-{name}").touch()
while len(list(signal.glob("done-*"))) < 2:
    time.sleep(0.01)
other = "b" if name == "a" else "a"
seen = {"other_attempts": len(store.attempts(UserRef("discord", other))),
        "shared_attempts": len(store.attempts(shared)), "open_sessions": len(store.open_sessions())}
print(json.dumps({"events": events, "sessions": sessions, "daily": daily, "search": search, "seen": seen,
                  "embedded": report.embedded_texts}), flush=True)
runtime.close()
'''


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of its own on the PostgreSQL test server, dropped afterwards (other suites may share the server)."""
    url = postgres_url()
    name = f"coach_scale_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield str(admin.url.set(database=name).render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _start(name: str, signal: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """One bot process; it prints "ready" once its engine is built."""
    return subprocess.Popen([sys.executable, "-c", CHILD, name, str(WRITES), str(signal), json.dumps(QUERIES)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)


def _finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    """The process's report (its last output line); fails with its stderr if it failed."""
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err[-3000:]
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_two_processes_share_postgres_and_chroma(database: str, chroma: Server, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COACH_DATABASE_URL": database, "COACH_CHROMA_URL": chroma.url,
           "COACH_KNOWLEDGE_DIR": str(DECKS), "COACH_DATA_DIR": str(tmp_path / "data"),   # one folder for both
           "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1"}
    signal = tmp_path / "signal"
    signal.mkdir()
    processes = {name: _start(name, signal, env) for name in ("a", "b")}
    for process in processes.values():   # both engines built (their migrations raced already)
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline().strip() == "ready", process.stderr.read()[-3000:]
    (signal / "go").touch()
    a, b = (_finish(p) for p in processes.values())

    # Claims: every event taken exactly once, the day's question by one process only.
    assert sorted(a["events"] + b["events"]) == list(range(WRITES))
    assert [a["daily"], b["daily"]].count(True) == 1
    # Each saw all of the other's writes once both were done.
    for report in (a, b):
        assert report["seen"] == {"other_attempts": WRITES, "shared_attempts": 2 * WRITES, "open_sessions": 2}
    assert not set(a["sessions"]) & set(b["sessions"])

    store = SqlStore(database)
    try:
        shared = store.attempts(UserRef("slack", "shared"))
        assert sorted(x.answer for x in shared) == sorted(f"{n} {i}" for n in "ab" for i in range(WRITES))
        assert len(store.cards(UserRef("slack", "shared"))) == 5
        assert store.daily_send(UserRef("slack", "shared"), "2025-06-01") is not None
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one() == 3
            assert conn.execute(text("SELECT COUNT(*) FROM schema_version")).scalar_one() == len(MIGRATIONS)
    finally:
        store.close()

    # One index on the server, complete, searched alike by both processes and by the embedded store.
    bank = load_bank(DECKS)
    served = ChromaIndex(HashEmbedder(), url=chroma.url)
    assert served.freshness(bank)["fresh"] is True
    local = ChromaIndex(HashEmbedder(), path=tmp_path / "local")
    local.sync(bank)
    want = {q: [h.entry.id for h in local.search(q, k=3)] for q in QUERIES}
    local.close()
    assert a["search"] == b["search"] == want
