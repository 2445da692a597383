"""The database: SQLAlchemy tables, engine set-up (SQLite or PostgreSQL) and ordered migrations."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


# ---------------------------------------------------------------- tables


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every engine (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # A naive time is ambiguous (local? UTC?): refuse it rather than store a wrong instant.
            raise ValueError("naive datetime given to the store; pass a timezone-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the coach's tables."""


class UserRow(Base):
    """Table `users`."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "user_id", name="uq_users_platform_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str | None] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    daily_time: Mapped[str] = mapped_column(String(5), default="09:00")
    daily_on: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created: Mapped[datetime] = mapped_column(UtcDateTime)
    deck: Mapped[str | None] = mapped_column(String(64))     # the user's own deck choice (migration 8)
    space: Mapped[str | None] = mapped_column(String(128))   # the server or workspace last used in (migration 8)


class SessionRow(Base):
    """Table `sessions`: one mock interview; `phase` holds a Phase member's name."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_phase", "user_pk", "phase"), Index("ix_sessions_phase", "phase"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id"))
    phase: Mapped[str] = mapped_column(String(32))
    deck: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str | None] = mapped_column(String(64))
    question_ids: Mapped[list[str]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
    follow_up: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    hints_used: Mapped[dict[str, int]] = mapped_column(JSON)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON)
    channel: Mapped[str | None] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(UtcDateTime)
    updated: Mapped[datetime] = mapped_column(UtcDateTime)
    finished: Mapped[datetime | None] = mapped_column(UtcDateTime)
    mode: Mapped[str | None] = mapped_column(String(16))     # a Mode member's name (migration 7); None: coach


class AttemptRow(Base):
    """Table `attempts`: one graded answer."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_user_created", "user_pk", "created"),
                      Index("ix_attempts_user_question", "user_pk", "question_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question_id: Mapped[str] = mapped_column(String(80))
    is_follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    answer: Mapped[str] = mapped_column(Text)
    score: Mapped[int] = mapped_column(Integer)
    key_points: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    feedback: Mapped[list[str]] = mapped_column(JSON)
    hinted: Mapped[bool] = mapped_column(Boolean, default=False)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    llm: Mapped[bool] = mapped_column(Boolean, default=False)
    entry_hash: Mapped[str | None] = mapped_column(String(64))   # the entry's content hash then (migration 4)
    shared: Mapped[bool | None] = mapped_column(Boolean, default=False)   # shown to the team (migration 4)
    created: Mapped[datetime] = mapped_column(UtcDateTime)
    delivery: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class CardRow(Base):
    """Table `review_cards`: the FSRS card of one user and question."""

    __tablename__ = "review_cards"
    __table_args__ = (Index("ix_review_cards_user_due", "user_pk", "due"),)

    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    due: Mapped[datetime] = mapped_column(UtcDateTime)
    last_rating: Mapped[int | None] = mapped_column(Integer)
    reviews: Mapped[int] = mapped_column(Integer, default=0)


class DailySendRow(Base):
    """Table `daily_sends`: at most one row per user and local day (the unique constraint is the lock)."""

    __tablename__ = "daily_sends"
    __table_args__ = (UniqueConstraint("user_pk", "local_date", name="uq_daily_sends_user_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id"))
    local_date: Mapped[str] = mapped_column(String(10))
    question_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(200))
    message_ref: Mapped[str | None] = mapped_column(String(200))
    owner: Mapped[str | None] = mapped_column(String(64))   # the process that claimed it (migration 2)
    created: Mapped[datetime] = mapped_column(UtcDateTime)


class SpaceRow(Base):
    """Table `spaces` (migration 9): settings of one Discord server or Slack workspace, such as its default deck."""

    __tablename__ = "spaces"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    space_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    deck: Mapped[str | None] = mapped_column(String(64))
    set_by: Mapped[str | None] = mapped_column(String(128))
    updated: Mapped[datetime] = mapped_column(UtcDateTime)


class ProcessedEventRow(Base):
    """Table `processed_events`: platform event ids already handled (retried deliveries are dropped)."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    created: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class FlagRow(Base):
    """Table `flags`: a user's report that a question is wrong; open until a reviewer fixes or dismisses it."""

    __tablename__ = "flags"
    # AUTOINCREMENT (migration 10): an id is never given again after `forget` deletes its flag, so an old
    # `review --dismiss N` cannot hit someone else's newer flag. PostgreSQL's sequences never reuse one anyway.
    __table_args__ = (Index("ix_flags_status", "status"), Index("ix_flags_user_status", "user_pk", "status"),
                      {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question_id: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))          # open | fixed | dismissed
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TeamRow(Base):
    """Table `teams`: a channel's team practice; its schedule is the daily setting of its own user row."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)   # the team's own ("slack-team") row
    state: Mapped[str] = mapped_column(String(16))           # active | paused | stopped
    manager: Mapped[str | None] = mapped_column(String(200))  # who set it up (a user key)
    created: Mapped[datetime] = mapped_column(UtcDateTime)


class SchemaVersionRow(Base):
    """Table `schema_version`: one row per migration applied."""

    __tablename__ = "schema_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    applied: Mapped[datetime] = mapped_column(UtcDateTime)


# ---------------------------------------------------------------- migrations

Migration = tuple[int, Callable[[Connection], None]]


def _v1_tables(conn: Connection) -> None:
    """Version 1: every table and index of the first release."""
    # checkfirst makes this idempotent; later migrations must also be (add a column only if missing), since
    # create_all here builds today's models, so a fresh database may already have what they add.
    Base.metadata.create_all(conn, checkfirst=True)


def _v2_daily_owner(conn: Connection) -> None:
    """Version 2: which process claimed a daily question, so that it may take its own unsent claim over at once."""
    add_column_if_missing(conn, DailySendRow.__tablename__, Column("owner", String(64)))


def _v3_attempt_delivery(conn: Connection) -> None:
    """Version 3: attempts.delivery, how a spoken answer was delivered (pace, fillers, pauses); NULL when typed."""
    add_column_if_missing(conn, "attempts", Column("delivery", JSON))


def _v4_attempt_versions(conn: Connection) -> None:
    """Version 4: each attempt keeps the content hash of the entry it answered, and whether it was shared."""
    add_column_if_missing(conn, AttemptRow.__tablename__, Column("entry_hash", String(64)))
    add_column_if_missing(conn, AttemptRow.__tablename__, Column("shared", Boolean))


def _v5_flags(conn: Connection) -> None:
    """Version 5: flagged questions and their review."""
    Base.metadata.tables[FlagRow.__tablename__].create(conn, checkfirst=True)


def _v6_teams(conn: Connection) -> None:
    """Version 6: team practice in a channel."""
    Base.metadata.tables[TeamRow.__tablename__].create(conn, checkfirst=True)


def _v7_session_mode(conn: Connection) -> None:
    """Version 7: the mode a session runs in (coach or interviewer), by name."""
    add_column_if_missing(conn, SessionRow.__tablename__, Column("mode", String(16)))


def _v8_user_deck(conn: Connection) -> None:
    """Version 8: a user's own deck choice, and the server or workspace whose default deck applies to them."""
    add_column_if_missing(conn, UserRow.__tablename__, Column("deck", String(64)))
    add_column_if_missing(conn, UserRow.__tablename__, Column("space", String(128)))


def _v9_spaces(conn: Connection) -> None:
    """Version 9: the `spaces` table (a server's or workspace's default deck)."""
    Base.metadata.tables[SpaceRow.__tablename__].create(conn, checkfirst=True)


def _v10_flag_ids_never_reused(conn: Connection) -> None:
    """Version 10: flag ids are never reused. SQLite gives max(id) + 1 unless the table is AUTOINCREMENT, and a table
    cannot be altered into one, so it is rebuilt with its rows; PostgreSQL's sequences never reuse an id already."""
    if conn.dialect.name != "sqlite":
        return
    created = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'flags'")).scalar()
    if created is None or "AUTOINCREMENT" in str(created).upper():
        return   # a database created since: version 1 built the table from today's model
    table = Base.metadata.tables[FlagRow.__tablename__]
    conn.execute(text("ALTER TABLE flags RENAME TO flags_before_v10"))
    for index in table.indexes:   # the renamed table keeps its indexes, whose names the new table needs
        conn.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
    table.create(conn)
    columns = ", ".join(c.name for c in table.columns)
    # Copying the rows sets the table's sequence to the highest id kept.
    conn.execute(text(f"INSERT INTO flags ({columns}) SELECT {columns} FROM flags_before_v10"))
    conn.execute(text("DROP TABLE flags_before_v10"))


def add_column_if_missing(conn: Connection, table: str, column: Column[Any]) -> None:
    """Add a (nullable) column unless it exists: the portable, idempotent step for later migrations."""
    if column.name not in {c["name"] for c in inspect(conn).get_columns(table)}:
        type_sql = column.type.compile(dialect=conn.dialect)
        conn.execute(text(f'ALTER TABLE {table} ADD COLUMN "{column.name}" {type_sql}'))


MIGRATIONS: list[Migration] = [(1, _v1_tables), (2, _v2_daily_owner), (3, _v3_attempt_delivery),
                               (4, _v4_attempt_versions), (5, _v5_flags), (6, _v6_teams), (7, _v7_session_mode),
                               (8, _v8_user_deck), (9, _v9_spaces), (10, _v10_flag_ids_never_reused)]


def migrate(engine: Engine, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply, in order, every migration not yet recorded in schema_version; returns the version reached."""
    versions = [v for v, _ in migrations]
    if versions != sorted(set(versions)):
        raise ValueError("migrations must have strictly increasing versions")
    # coach_write: on SQLite, BEGIN IMMEDIATE, so two processes starting at once take turns.
    with engine.execution_options(coach_write=True).begin() as conn:
        if conn.dialect.name == "postgresql":
            # Two processes starting at once would race on CREATE TABLE; the lock ends with the transaction.
            conn.execute(text("SELECT pg_advisory_xact_lock(727274)"))
        Base.metadata.tables[SchemaVersionRow.__tablename__].create(conn, checkfirst=True)
        applied = set(conn.scalars(select(SchemaVersionRow.version)))
        for version, apply in migrations:
            if version in applied:
                continue
            apply(conn)
            conn.execute(insert(SchemaVersionRow).values(version=version, applied=utc_now()))
        return max(applied | set(versions), default=0)


# ---------------------------------------------------------------- engine


def _sqlite_engine(url: str, memory: bool) -> Engine:
    """A SQLite engine: WAL, 10 s busy timeout, and our own BEGIN so writers can take the lock up front."""
    if memory:
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN is turned off; `_on_begin` below emits BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=10000")
        if not memory:
            _set_wal(cursor)
            # WAL + synchronous=NORMAL: a committed transaction survives the process being killed (SIGKILL,
            # crash), because the WAL is in the OS page cache; only a power loss or OS crash may drop the last
            # commits. That is the guarantee we need: an attempt committed before its feedback is shown is kept.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads then writes can fail at once with "database is locked" (it cannot
        # upgrade past a newer commit); BEGIN IMMEDIATE takes the write lock first, waiting on busy_timeout.
        immediate = conn.get_execution_options().get("coach_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _set_wal(cursor: Any, seconds: float = 10.0) -> None:
    """PRAGMA journal_mode=WAL, retried: on a new file several connections opening at once can get "database is
    locked" straight away (switching the journal mode does not wait on busy_timeout)."""
    import sqlite3
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def make_engine(url: str) -> Engine:
    """An engine for a SQLAlchemy URL; `postgresql://` uses psycopg 3; a SQLite file's folder is created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        memory = database in ("", ":memory:") or "mode=memory" in url
        if not memory and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(url, memory)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True)
