"""The SQL store: sessions, attempts, migrations, daily claims, event de-duplication and concurrent writers.

Runs on a SQLite file, and also on PostgreSQL when COACH_TEST_POSTGRES_URL is set (scripts/test sets it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Column, Connection, Integer, inspect, text

from bot.core.phases import Phase
from bot.core.replies import UserRef
from bot.core.store.db import MIGRATIONS, Base, add_column_if_missing, make_engine, migrate
from bot.core.store.records import AttemptRecord, CardRecord
from bot.core.store.sql import SqlStore
from bot.errors import CoachError
from tests.narrow import must
from tests.olddb import OLD_USER, old_database

ALICE = UserRef("discord", "1001")
BOB = UserRef("slack", "U02")
PG_ENV = "COACH_TEST_POSTGRES_URL"


def _reset_postgres(url: str) -> None:
    """Drop the coach's tables so each test starts from an empty database."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS extra_table"))
        Base.metadata.drop_all(conn)
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    """A fresh database URL: a SQLite file, or the PostgreSQL test server when one is configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/coach.db"
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    _reset_postgres(url)
    yield url
    _reset_postgres(url)


@pytest.fixture()
def make_store(db_url: str) -> Iterator[Callable[[], SqlStore]]:
    """A factory of SqlStore objects on the test database, all closed afterwards."""
    made: list[SqlStore] = []

    def factory() -> SqlStore:
        made.append(SqlStore(db_url))
        return made[-1]

    yield factory
    for store in made:
        store.close()


@pytest.fixture()
def store(make_store: Callable[[], SqlStore]) -> SqlStore:
    """One store on the test database."""
    return make_store()


# ---------------------------------------------------------------- users


def test_user_defaults_and_update(store: SqlStore) -> None:
    user = store.get_or_create_user(ALICE, display_name="Alice")
    assert (user.time_zone, user.daily_time, user.daily_on, user.display_name) == ("UTC", "09:00", False, "Alice")
    assert user.created is not None and user.created.tzinfo is not None
    updated = store.update_user(ALICE, time_zone="Asia/Tokyo", daily_time="07:30", daily_on=True)
    assert (updated.time_zone, updated.daily_time, updated.daily_on) == ("Asia/Tokyo", "07:30", True)
    assert [u.ref for u in store.users_with_daily_on()] == [ALICE]
    assert store.get_user(BOB) is None


@pytest.mark.parametrize("fields", [{"time_zone": "Mars/Olympus"}, {"daily_time": "25:00"}, {"colour": "red"}])
def test_update_user_rejects_bad_values(store: SqlStore, fields: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        store.update_user(ALICE, **fields)


# ---------------------------------------------------------------- sessions


def test_create_open_and_resume_session(make_store: Callable[[], SqlStore]) -> None:
    store = make_store()
    record = store.create_session(ALICE, ["dropout", "gans"], topic="regularization", channel="thread-9")
    assert record.phase is Phase.AWAITING_ANSWER and record.current_question_id == "dropout"
    record.phase = Phase.AWAITING_FOLLOW_UP
    record.follow_up = {"text": "Why scale at inference?", "target_point": 2}
    record.hints_used = {"dropout": 1}
    store.save_session(record)

    again = make_store()   # as after a restart
    resumed = again.open_sessions()
    assert [s.id for s in resumed] == [record.id]
    session = resumed[0]
    assert session.user == ALICE and session.phase is Phase.AWAITING_FOLLOW_UP
    assert session.follow_up == {"text": "Why scale at inference?", "target_point": 2}
    assert session.hints_used == {"dropout": 1} and session.channel == "thread-9"
    assert again.open_session(ALICE) == session
    assert again.open_session(BOB) is None


def test_new_session_stops_the_open_one(store: SqlStore) -> None:
    first = store.create_session(ALICE, ["a1"])
    other_user = store.create_session(BOB, ["b1"])
    second = store.create_session(ALICE, ["a2", "a3"])
    old = store.session(first.id)
    assert old is not None and old.phase is Phase.STOPPED and old.finished is not None
    assert store.open_session(ALICE) == store.session(second.id)
    assert {s.id for s in store.open_sessions()} == {second.id, other_user.id}


def test_finished_session_is_no_longer_open(store: SqlStore) -> None:
    record = store.create_session(ALICE, ["a1"])
    record.phase, record.position = Phase.FINISHED, 1
    saved = store.save_session(record)
    assert saved.finished is not None and saved.current_question_id is None
    assert store.open_session(ALICE) is None and store.open_sessions() == []


def test_phase_is_stored_by_name(store: SqlStore) -> None:
    record = store.create_session(ALICE, ["a1"])
    record.phase = Phase.AWAITING_FOLLOW_UP
    store.save_session(record)
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT phase FROM sessions WHERE id = :id"), {"id": record.id}).scalar_one()
    assert stored == "AWAITING_FOLLOW_UP"


# ---------------------------------------------------------------- attempts and cards


def _attempt(user: UserRef = ALICE, question_id: str = "dropout", score: int = 72, **kw: object) -> AttemptRecord:
    return AttemptRecord(user=user, question_id=question_id, score=score, answer="It drops units at random.",
                         key_points=[{"text": "random units", "covered": True, "similarity": 0.8,
                                      "evidence": "It drops units at random."}],
                         feedback=["Say why it regularizes."], **kw)  # type: ignore[arg-type]


def test_attempt_is_committed_and_seen_by_a_second_store(make_store: Callable[[], SqlStore]) -> None:
    writer, reader = make_store(), make_store()
    session = writer.create_session(ALICE, ["dropout"])
    saved = writer.add_attempt(_attempt(session_id=session.id, llm=True))
    assert saved.id is not None and saved.created is not None
    [seen] = reader.attempts(ALICE)
    assert seen == saved
    assert seen.key_points[0]["evidence"] == "It drops units at random." and seen.feedback == saved.feedback


def test_update_attempt_after_the_critique(make_store: Callable[[], SqlStore]) -> None:
    writer, reader = make_store(), make_store()
    saved = writer.add_attempt(_attempt(score=72))
    saved.feedback, saved.llm, saved.score = ["Strong on mechanism.", "Mention inference scaling."], True, 60
    writer.update_attempt(saved)
    [seen] = reader.attempts(ALICE)
    assert (seen.feedback, seen.llm, seen.score, seen.answer) == (saved.feedback, True, 60, saved.answer)
    with pytest.raises(KeyError):
        writer.update_attempt(_attempt())


def test_attempt_filters(store: SqlStore) -> None:
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    for day, qid in enumerate(["a", "b", "a"]):
        store.add_attempt(_attempt(question_id=qid, created=start + timedelta(days=day)))
    store.add_attempt(_attempt(user=BOB, question_id="a"))
    assert [a.question_id for a in store.attempts(ALICE)] == ["a", "b", "a"]
    assert len(store.attempts(ALICE, question_id="a")) == 2
    assert [a.created for a in store.attempts(ALICE, since=start + timedelta(days=1))] == [
        start + timedelta(days=1), start + timedelta(days=2)]
    assert store.attempts(UserRef("cli", "nobody")) == []


def test_card_roundtrip_and_upsert(store: SqlStore) -> None:
    due = datetime(2025, 3, 2, 8, tzinfo=UTC)
    store.save_card(CardRecord(ALICE, "dropout", {"state": 2, "due": due.isoformat()}, due, 3, 1))
    store.save_card(CardRecord(ALICE, "gans", {"state": 2}, due - timedelta(days=1), 1, 1))
    store.save_card(CardRecord(ALICE, "dropout", {"state": 2}, due + timedelta(days=5), 4, 2))
    card = store.get_card(ALICE, "dropout")
    assert card is not None and card.due == due + timedelta(days=5) and card.last_rating == 4 and card.reviews == 2
    assert [c.question_id for c in store.cards(ALICE)] == ["gans", "dropout"]
    assert store.get_card(BOB, "dropout") is None


def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        store.save_card(CardRecord(ALICE, "dropout", {}, datetime(2025, 1, 1), None))


# ---------------------------------------------------------------- daily sends and events


def test_claim_daily_once_across_stores(make_store: Callable[[], SqlStore]) -> None:
    one, two = make_store(), make_store()
    assert one.claim_daily(ALICE, "2025-03-01", "dropout") is True
    assert two.claim_daily(ALICE, "2025-03-01", "gans") is False
    assert two.claim_daily(ALICE, "2025-03-02", "gans") is True
    assert two.claim_daily(BOB, "2025-03-01", "gans") is True
    sent = one.daily_send(ALICE, "2025-03-01")
    assert sent is not None and (sent.question_id, sent.status) == ("dropout", "claimed")
    two.mark_daily_sent(ALICE, "2025-03-01", channel="D01", message_ref="1700000000.0001")
    sent = one.daily_send(ALICE, "2025-03-01")
    assert sent is not None and (sent.status, sent.channel, sent.message_ref) == ("sent", "D01", "1700000000.0001")
    assert one.daily_send(ALICE, "2025-02-28") is None


def test_reclaim_only_a_stale_unsent_claim(make_store: Callable[[], SqlStore]) -> None:
    one, two = make_store(), make_store()
    one.claim_daily(ALICE, "2025-03-01", "dropout")
    assert two.reclaim_daily(ALICE, "2025-03-01", older_than=datetime.now(UTC) - timedelta(minutes=10)) is False
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert two.reclaim_daily(ALICE, "2025-03-01", older_than=later) is True
    one.mark_daily_sent(ALICE, "2025-03-01")
    assert one.reclaim_daily(ALICE, "2025-03-01", older_than=later + timedelta(hours=1)) is False


def test_a_process_takes_over_its_own_unsent_claim_at_once_and_others_only_when_stale(
        make_store: Callable[[], SqlStore]) -> None:
    one, two = make_store(), make_store()
    assert one.claim_daily(ALICE, "2025-03-01", "dropout", owner="process-1")
    fresh = datetime.now(UTC) - timedelta(minutes=10)
    assert two.reclaim_daily(ALICE, "2025-03-01", older_than=fresh, owner="process-2") is False   # alive elsewhere
    assert one.reclaim_daily(ALICE, "2025-03-01", older_than=fresh, owner="process-1") is True    # its own
    assert must(two.daily_send(ALICE, "2025-03-01")).owner == "process-1"
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert two.reclaim_daily(ALICE, "2025-03-01", older_than=later, owner="process-2") is True    # stale now
    assert must(one.daily_send(ALICE, "2025-03-01")).owner == "process-2"
    assert one.reclaim_daily(ALICE, "2025-03-01", older_than=fresh, owner="process-1") is False   # no longer its


def test_a_first_release_database_gets_the_claim_owner_column(tmp_path: Path) -> None:
    url = old_database(   # as the first release made it: daily_sends without `owner`
        tmp_path / "old.db", 2, "ALTER TABLE daily_sends DROP COLUMN owner",
        OLD_USER.format(platform="slack", user_id="U1", daily_on=1),
        "INSERT INTO daily_sends (user_pk, local_date, question_id, status, created) "
        "VALUES (1, '2025-03-01', 'dropout', 'claimed', '2025-03-01 09:00:00')")
    store = SqlStore(url)
    try:
        assert store.version == MIGRATIONS[-1][0]
        kept = store.daily_send(UserRef("slack", "U1"), "2025-03-01")
        assert kept is not None and kept.status == "claimed" and kept.owner is None
        assert store.reclaim_daily(UserRef("slack", "U1"), "2025-03-01", datetime.now(UTC), owner="p")
    finally:
        store.close()


def test_session_mode_user_deck_and_space_default_survive_a_new_store(make_store: Callable[[], SqlStore]) -> None:
    from bot.core.modes import Mode

    one = make_store()
    session = one.create_session(ALICE, ["dropout"], mode=Mode.INTERVIEWER, deck="mini")
    one.update_user(ALICE, deck="mini", space="g1")
    one.set_space_deck("discord", "g1", "databases", set_by="1001")
    one.set_space_deck("discord", "g1", "mini", set_by="1002")   # a second admin changes it
    two = make_store()
    reopened = two.open_session(ALICE)
    assert reopened is not None and reopened.id == session.id and reopened.mode is Mode.INTERVIEWER
    assert reopened.deck == "mini"
    assert (must(two.get_user(ALICE)).deck, must(two.get_user(ALICE)).space) == ("mini", "g1")
    assert two.space_deck("discord", "g1") == "mini" and two.space_deck("slack", "g1") is None
    two.set_space_deck("discord", "g1", None)
    assert one.space_deck("discord", "g1") is None


def test_claim_event_once(make_store: Callable[[], SqlStore]) -> None:
    one, two = make_store(), make_store()
    assert one.claim_event("Ev01") is True
    assert one.claim_event("Ev01") is False
    assert two.claim_event("Ev01") is False
    assert two.claim_event("Ev02") is True
    assert one.prune_events(datetime.now(UTC) + timedelta(seconds=1)) == 2
    assert one.claim_event("Ev01") is True


# ---------------------------------------------------------------- migrations


def test_fresh_database_is_at_latest_version(store: SqlStore, db_url: str) -> None:
    latest = MIGRATIONS[-1][0]
    assert store.version == latest
    with store.engine.connect() as conn:
        assert list(conn.execute(text("SELECT version FROM schema_version ORDER BY version")).scalars()) == [
            v for v, _ in MIGRATIONS]
        tables = set(inspect(conn).get_table_names())
    assert {"users", "sessions", "attempts", "review_cards", "daily_sends", "processed_events",
            "schema_version"} <= tables


def test_migrations_run_in_order_once(db_url: str) -> None:
    calls: list[int] = []

    latest = MIGRATIONS[-1][0]

    def v2(conn: Connection) -> None:
        calls.append(latest + 1)
        add_column_if_missing(conn, "users", Column("level", Integer))

    def v3(conn: Connection) -> None:
        calls.append(latest + 2)
        add_column_if_missing(conn, "users", Column("level", Integer))   # idempotent: already there

    migrations = [*MIGRATIONS, (latest + 1, v2), (latest + 2, v3)]
    engine = make_engine(db_url)
    try:
        assert migrate(engine, migrations) == latest + 2
        assert migrate(engine, migrations) == latest + 2    # a second run is a no-op
        assert calls == [latest + 1, latest + 2]
        with engine.connect() as conn:
            assert "level" in {c["name"] for c in inspect(conn).get_columns("users")}
            versions = list(conn.execute(text("SELECT version FROM schema_version ORDER BY version")).scalars())
        assert versions == [v for v, _ in migrations]   # every one, in order (numbers may leave gaps)
        with pytest.raises(ValueError):
            migrate(engine, [(2, v2), (1, v3)])
    finally:
        engine.dispose()


def test_stores_starting_at_once_migrate_once(db_url: str) -> None:
    errors: list[str] = []
    stores: list[SqlStore] = []

    def start() -> None:
        try:
            stores.append(SqlStore(db_url))
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with stores[0].engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM schema_version")).scalar_one() == len(MIGRATIONS)
    finally:
        for store in stores:
            store.close()


def test_store_opens_an_existing_database(make_store: Callable[[], SqlStore]) -> None:
    first = make_store()
    first.get_or_create_user(ALICE)
    second = make_store()
    assert second.version == first.version and second.get_user(ALICE) is not None
    assert second.integrity_check() == "ok"


# ---------------------------------------------------------------- durability and concurrency


def test_attempt_survives_sigkill(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/killed.db"
    child = (
        "import os, signal\n"
        "from bot.core.store.sql import SqlStore, AttemptRecord\n"
        "from bot.core.replies import UserRef\n"
        f"store = SqlStore({url!r})\n"
        "saved = store.add_attempt(AttemptRecord(UserRef('cli', 'k'), 'dropout', 64, answer='kept'))\n"
        "print(saved.id, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"   # feedback would be shown here; die instead
    )
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == -9, result.stderr
    store = SqlStore(url)
    try:
        [attempt] = store.attempts(UserRef("cli", "k"))
        assert (attempt.id, attempt.answer, attempt.score) == (int(result.stdout.strip()), "kept", 64)
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def _hammer(store: SqlStore, worker: int, writes: int, errors: list[str]) -> None:
    """Mixed writes of one thread: attempts, read-then-write cards, events, sessions."""
    ref = UserRef("cli", f"w{worker % 2}")    # two threads share a user, so user rows are contended too
    due = datetime(2025, 1, 1, tzinfo=UTC)
    for i in range(writes):
        try:
            kind = i % 4
            if kind == 0:
                store.add_attempt(_attempt(user=ref, question_id=f"q{i}", score=i % 100))
            elif kind == 1:
                store.save_card(CardRecord(ref, f"q{i % 7}", {"i": i}, due + timedelta(minutes=i), 3))
            elif kind == 2:
                store.claim_event(f"{worker}-{i}")
            else:
                store.create_session(ref, [f"q{i}"])
        except Exception as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("shared", [False, True], ids=["store-per-thread", "one-store"])
def test_concurrent_writers_never_see_locked(make_store: Callable[[], SqlStore], shared: bool) -> None:
    threads_n, writes = 3, 300
    base = make_store()
    stores = [base] * threads_n if shared else [make_store() for _ in range(threads_n)]
    errors: list[str] = []
    threads = [threading.Thread(target=_hammer, args=(stores[n], n, writes, errors)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [], errors[:5]
    assert sum(1 for e in errors if "locked" in e) == 0
    total = sum(len(base.attempts(UserRef("cli", f"w{k}"))) for k in range(2))
    assert total == threads_n * writes // 4
    assert len(base.open_sessions()) == 2    # at most one open session per user, despite the races


def test_in_memory_twin_is_shared_and_thread_safe() -> None:
    store = SqlStore("sqlite://")
    errors: list[str] = []
    threads = [threading.Thread(target=_hammer, args=(store, n, 100, errors)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.integrity_check() == "ok"
    assert len(store.open_sessions()) == 2


def test_sqlite_settings(store: SqlStore) -> None:
    if not store.is_sqlite:
        pytest.skip("SQLite only")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1    # NORMAL


def test_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(CoachError, match="Cannot open the postgresql database") as caught:
        SqlStore("postgresql://coach:s3cret@127.0.0.1:1/none?connect_timeout=2")
    assert "s3cret" not in str(caught.value)


def test_postgres_url_without_driver_uses_psycopg() -> None:
    engine = make_engine("postgresql://coach@127.0.0.1:1/none")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


# ---------------------------------------------------------------- flag ids (migration 10)


def test_flag_ids_are_never_reused_after_forget(store: SqlStore) -> None:
    first = [store.add_flag(ALICE, q, "wrong", None).id for q in ("dropout", "pooling")]
    store.forget_user(ALICE)
    again = [store.add_flag(ALICE, q, "wrong", None).id for q in ("dropout", "pooling")]
    assert min(again) > max(first), (first, again)
    assert store.flag(first[0]) is None   # an old `review --dismiss N` finds nothing rather than someone else's flag


def test_migration_10_rebuilds_an_old_sqlite_flags_table_and_keeps_its_rows(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(url)
    migrate(engine, MIGRATIONS[:9])
    with engine.begin() as conn:   # the flags table as versions 5 to 9 made it: no AUTOINCREMENT
        conn.execute(text("DROP TABLE flags"))
        conn.execute(text("CREATE TABLE flags (id INTEGER NOT NULL PRIMARY KEY, user_pk INTEGER NOT NULL "
                          "REFERENCES users (id), question_id VARCHAR(80) NOT NULL, reason TEXT NOT NULL, "
                          "entry_hash VARCHAR(64), status VARCHAR(16) NOT NULL, resolved_by VARCHAR(200), "
                          "created DATETIME NOT NULL, resolved DATETIME)"))
        conn.execute(text("CREATE INDEX ix_flags_status ON flags (status)"))
        conn.execute(text("CREATE INDEX ix_flags_user_status ON flags (user_pk, status)"))
        conn.execute(text("INSERT INTO users (platform, user_id, time_zone, daily_time, daily_on, created) "
                          "VALUES ('discord', '1001', 'UTC', '09:00', 0, '2025-03-01 08:00:00')"))
        for n in (1, 2):
            conn.execute(text("INSERT INTO flags (id, user_pk, question_id, reason, status, created) "
                              f"VALUES ({n}, 1, 'q{n}', 'wrong', 'open', '2025-03-01 09:00:00')"))
    engine.dispose()
    store = SqlStore(url)
    try:
        assert store.version == 10
        assert [f.question_id for f in store.flags("open")] == ["q1", "q2"]   # the rows survive the rebuild
        store.forget_user(ALICE)
        assert store.flags("open") == [] and store.add_flag(ALICE, "dropout", "wrong", None).id == 3
    finally:
        store.close()


def test_the_docs_name_only_migrations_the_code_has() -> None:
    import re
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    known = {v for v, _ in MIGRATIONS}
    for doc in [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]:
        words = doc.read_text()
        for match in re.finditer(r"[Mm]igrations? ((?:\d+(?:[–-]\d+)?(?: \([^)]*\))?(?:, | and )?)+)", words):
            numbers = {int(n) for n in re.findall(r"(?<![\w(`])\d+(?![\w`])", re.sub(r"\([^)]*\)", "", match[1]))}
            assert numbers <= known, (doc.name, match[0], sorted(known))
