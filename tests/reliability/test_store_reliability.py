"""Durability under SIGKILL and concurrent writers on one SQLite file (cases 10 and 11)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import OperationalError

from bot.core.coach import Coach
from bot.core.ratelimit import RateLimiter
from bot.core.replies import Action, ReplyKind, Request, UserRef
from bot.core.store.records import AttemptRecord, CardRecord
from bot.core.store.sql import SqlStore
from bot.core.testing import FakeLLM
from tests.fake_slack_api import CRITIQUE, build_coach

CHILD = Path(__file__).resolve().parent / "durability_child.py"
KILLS = 100


def _read_until(proc: subprocess.Popen[str], prefix: str, seen: list[str]) -> str:
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        assert line, "the child ended"
        seen.append(line.strip())
        if line.startswith(prefix):
            return line.strip()


def _open_session_id(db: Path) -> int:
    """The id of the interview left open in the database (0 when none)."""
    store = SqlStore(f"sqlite:///{db}")
    try:
        session = store.open_session(UserRef("slack", "UDUR"))
        return session.id if session is not None else 0
    finally:
        store.close()


def test_case10_sigkill_loses_no_shown_attempt_and_resumes(tmp_path: Path, record: Any) -> None:
    db, rng = tmp_path / "durable.db", random.Random(10)
    SqlStore(f"sqlite:///{db}").close()
    proc = subprocess.Popen([sys.executable, str(CHILD), str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, bufsize=1)
    assert proc.stdin is not None
    lines: list[str] = []
    resumed, wrong_resumes = 0, 0
    try:
        for _ in range(KILLS):
            expected = _open_session_id(db)
            proc.stdin.write("go\n")
            proc.stdin.flush()
            pid = int(_read_until(proc, "PID", lines).split()[1])
            resume = _read_until(proc, "RESUME", lines).split()
            resumed += resume[1] != "0"
            # The restarted process must pick up exactly the interview the killed one left open.
            wrong_resumes += int(resume[1]) != expected
            time.sleep(rng.uniform(0.02, 0.45))
            os.kill(pid, signal.SIGKILL)
            _read_until(proc, "DEAD", lines)
    finally:
        proc.kill()
        proc.wait()
    shown = {int(line.split()[1]) for line in lines if line.startswith("ATTEMPT")}
    store = SqlStore(f"sqlite:///{db}")
    stored = {a.id for a in store.attempts(UserRef("slack", "UDUR"))}
    integrity = store.integrity_check()
    store.close()
    lost = shown - stored
    record(10, "Durability under SIGKILL", f"{KILLS} SIGKILLs at random moments of a process answering through "
           "Coach.answer (SQLite, WAL)", f"{len(shown)} attempts shown, {len(lost)} lost; integrity_check "
           f"“{integrity}”; {resumed} restarts resumed an open interview, {wrong_resumes} resumed the wrong one")
    assert integrity == "ok" and not lost and len(shown) >= KILLS // 4
    assert wrong_resumes == 0 and resumed > KILLS // 2


# ---------------------------------------------------------------------------------------------- case 11

WRITES = 1000


def _writer(db: Path, platform: str, write: Callable[[SqlStore, UserRef, int], None]) -> tuple[int, int, str]:
    """WRITES writes through a store of its own; (done, "database is locked" errors, another error or "")."""
    store, done, locked = SqlStore(f"sqlite:///{db}"), 0, 0
    try:
        for i in range(WRITES):
            try:
                write(store, UserRef(platform, f"u{i % 20}"), i)
                done += 1
            except OperationalError as exc:
                if "locked" not in str(exc):
                    return done, locked, str(exc)
                locked += 1
    finally:
        store.close()
    return done, locked, ""


def _attempt(store: SqlStore, user: UserRef, i: int) -> None:
    store.add_attempt(AttemptRecord(user=user, question_id="dropout", score=i % 100, answer=f"answer {i}"))


def _daily(store: SqlStore, user: UserRef, i: int) -> None:
    day = (datetime(2025, 1, 1) + timedelta(days=i // 20)).date().isoformat()
    if store.claim_daily(user, day, "dropout"):
        store.mark_daily_sent(user, day, channel="D1", message_ref=str(i))
    else:
        store.save_card(CardRecord(user=user, question_id="momentum", card={"i": i},
                                   due=datetime.now(UTC) + timedelta(days=1)))


def test_case11_three_writers_and_twenty_users_at_once(tmp_path: Path, record: Any) -> None:
    db = tmp_path / "shared.db"
    SqlStore(f"sqlite:///{db}").close()
    started = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda job: _writer(db, *job), [("discord", _attempt), ("slack", _attempt),
                                                                ("scheduler", _daily)]))
    seconds = time.monotonic() - started
    locked, errors = sum(r[1] for r in results), [r[2] for r in results if r[2]]
    graded, lost, calls = _twenty_users(tmp_path / "coach.db")
    record(11, "Concurrent writers", f"Discord, Slack and the scheduler: {WRITES} writes each, 3 threads with a "
           "SqlStore each on one SQLite file; 20 users answering at once through one Coach",
           f"{sum(r[0] for r in results)}/{3 * WRITES} writes in {seconds:.1f} s, {locked} “database is locked”; "
           f"20 users: {graded} graded once, {lost} lost, {calls} model calls")
    assert locked == 0 and not errors and sum(r[0] for r in results) == 3 * WRITES
    assert graded == 20 and lost == 0 and calls == 20


def _twenty_users(db: Path) -> tuple[int, int, int]:
    llm = FakeLLM(respond=lambda prompt: json.dumps(CRITIQUE))
    coach: Coach = build_coach(db, llm=llm)
    coach.rate_limiter = RateLimiter(limit=1000)
    users = [UserRef("discord", f"user{i}") for i in range(20)]
    for user in users:
        list(coach.act(Request(user, Action.START, topic="regularization", count=1)))
    barrier = threading.Barrier(20)

    def answer(user: UserRef) -> list[Any]:
        barrier.wait()
        text = f"Dropout turns off random neurons while training ({user.user_id})."
        return list(coach.act(Request(user, Action.ANSWER, text=text)))

    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(answer, users))
    graded = sum(sum(r.kind is ReplyKind.SCORE for r in rs) == 1 and len(coach.store.attempts(u)) == 1
                 for u, rs in zip(users, replies, strict=True))
    lost = sum(not coach.store.attempts(u) for u in users)
    return graded, lost, len(llm.calls)
