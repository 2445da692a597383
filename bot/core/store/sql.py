"""Persistence: users, sessions, attempts, review cards and daily sends in one SQL database (SQLAlchemy 2.x).

`SqlStore(url)` works on SQLite (the default, a file in the data folder) and PostgreSQL. `SqlStore("sqlite://")`
is the in-memory twin for tests: one shared connection (StaticPool) behind a lock.
Every method runs one short transaction and returns plain dataclass records, never ORM objects.
Tables, engine set-up and migrations live in `bot.core.store.db`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.core.modes import Mode
from bot.core.phases import Phase
from bot.core.replies import UserRef
from bot.core.store.db import (
    MIGRATIONS,
    AttemptRow,
    CardRow,
    DailySendRow,
    Migration,
    ProcessedEventRow,
    SessionRow,
    SpaceRow,
    UserRow,
    make_engine,
    migrate,
    utc_now,
)
from bot.core.store.practice_sql import PracticeSql
from bot.core.store.records import (
    OPEN_PHASES,
    AttemptRecord,
    CardRecord,
    DailySendRecord,
    SessionRecord,
    Store,
    UserRecord,
)
from bot.core.store.rows import (
    attempt_record,
    card_record,
    check_user_fields,
    daily_record,
    ref_of,
    session_record,
    user_record,
)
from bot.errors import CoachError

__all__ = ["SqlStore"]

# ---------------------------------------------------------------- the store


class SqlStore(PracticeSql):
    """The Store on any SQLAlchemy URL; `SqlStore("sqlite://")` is the in-memory twin (StaticPool, one lock)."""

    def __init__(self, url: str, *, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        self.engine = make_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        memory = self.is_sqlite and isinstance(self.engine.pool, StaticPool)
        # The in-memory twin shares one connection, which threads must not use at the same time.
        self._lock: Any = threading.RLock() if memory else _NoLock()
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.engine.execution_options(coach_write=True), expire_on_commit=False)
        try:
            self.version = migrate(self.engine, migrations)
        except DBAPIError as exc:
            self.engine.dispose()
            # One sentence for the operator; the URL is left out because it may hold a password.
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise CoachError(f"Cannot open the {self.engine.dialect.name} database: {reason}.") from exc

    @contextmanager
    def _tx(self, write: bool = False) -> Iterator[Session]:
        """One short transaction, committed on success and rolled back on error."""
        with self._lock, (self._write if write else self._read)() as session, session.begin():
            yield session

    # ------------------------------------------------------------ users

    def _user_row(self, s: Session, ref: UserRef, *, create: bool, lock: bool = False) -> UserRow | None:
        """The user's row, created when asked; `lock` serializes this user's writers on PostgreSQL."""
        query = select(UserRow).where(UserRow.platform == ref.platform, UserRow.user_id == ref.user_id)
        if lock:
            query = query.with_for_update()
        row = s.scalars(query).first()
        if row is not None or not create:
            return row
        try:
            with s.begin_nested():   # a savepoint: losing a creation race must not abort the whole transaction
                s.add(UserRow(platform=ref.platform, user_id=ref.user_id, time_zone="UTC", daily_time="09:00",
                              daily_on=False, created=utc_now()))
        except IntegrityError:
            pass
        # Read it back (locked when asked), whoever won the race to create it.
        return s.scalars(query).one()

    def _user_pk(self, s: Session, ref: UserRef, lock: bool = False) -> int:
        row = self._user_row(s, ref, create=True, lock=lock)
        assert row is not None
        return row.id

    def get_or_create_user(self, ref: UserRef, display_name: str | None = None) -> UserRecord:
        """The user's record, created with defaults (UTC, 09:00, daily off) on first sight."""
        with self._tx(write=True) as s:
            row = self._user_row(s, ref, create=True)
            assert row is not None
            if display_name and row.display_name != display_name:
                row.display_name = display_name
            return user_record(row)

    def get_user(self, ref: UserRef) -> UserRecord | None:
        """The user's record, or None if never seen."""
        with self._tx() as s:
            row = self._user_row(s, ref, create=False)
            return user_record(row) if row is not None else None

    def update_user(self, ref: UserRef, **fields: Any) -> UserRecord:
        """Change display_name, time_zone (IANA name), daily_time ("HH:MM") or daily_on; ValueError if invalid."""
        check_user_fields(fields)
        with self._tx(write=True) as s:
            row = self._user_row(s, ref, create=True)
            assert row is not None
            for name, value in fields.items():
                setattr(row, name, bool(value) if name == "daily_on" else value)
            return user_record(row)

    def users_with_daily_on(self) -> list[UserRecord]:
        """Every user who asked for a daily question."""
        with self._tx() as s:
            rows = s.scalars(select(UserRow).where(UserRow.daily_on.is_(True)).order_by(UserRow.id))
            return [user_record(r) for r in rows]

    # ------------------------------------------------------------ sessions

    def create_session(self, ref: UserRef, question_ids: Sequence[str], topic: str | None = None,
                       channel: str | None = None, *, deck: str | None = None,
                       mode: Mode = Mode.COACH) -> SessionRecord:
        """Start a session awaiting its first answer; the user's open session, if any, becomes STOPPED."""
        now = utc_now()
        with self._tx(write=True) as s:
            user_pk = self._user_pk(s, ref, lock=True)
            s.execute(update(SessionRow)
                      .where(SessionRow.user_pk == user_pk, SessionRow.phase.in_(OPEN_PHASES))
                      .values(phase=Phase.STOPPED.name, finished=now, updated=now))
            row = SessionRow(user_pk=user_pk, phase=Phase.AWAITING_ANSWER.name, deck=deck, topic=topic,
                             question_ids=list(question_ids), position=0, follow_up=None, hints_used={}, extra={},
                             channel=channel, created=now, updated=now, finished=None, mode=mode.name)
            s.add(row)
            s.flush()
            return session_record(row, ref)

    def open_session(self, ref: UserRef) -> SessionRecord | None:
        """The user's open session (awaiting an answer or a follow-up), or None."""
        with self._tx() as s:
            user = self._user_row(s, ref, create=False)
            if user is None:
                return None
            row = s.scalars(select(SessionRow)
                            .where(SessionRow.user_pk == user.id, SessionRow.phase.in_(OPEN_PHASES))
                            .order_by(SessionRow.id.desc())).first()
            return session_record(row, ref) if row is not None else None

    def session(self, session_id: int) -> SessionRecord | None:
        """A session by id, or None."""
        with self._tx() as s:
            found = s.execute(select(SessionRow, UserRow).join(UserRow, SessionRow.user_pk == UserRow.id)
                              .where(SessionRow.id == session_id)).first()
            return session_record(found[0], ref_of(found[1])) if found is not None else None

    def save_session(self, record: SessionRecord) -> SessionRecord:
        """Write the session's mutable state; a closed phase gets its `finished` time."""
        now = utc_now()
        if not record.phase.is_open and record.finished is None:
            record.finished = now
        with self._tx(write=True) as s:
            row = s.get(SessionRow, record.id)
            if row is None:
                raise KeyError(f"no session {record.id}")
            row.phase = record.phase.name
            row.position = record.position
            row.question_ids = list(record.question_ids)
            row.follow_up = dict(record.follow_up) if record.follow_up is not None else None
            row.hints_used = dict(record.hints_used)
            row.extra = dict(record.extra)
            row.channel = record.channel
            row.topic = record.topic
            row.deck = record.deck
            row.finished = record.finished
            row.updated = now
        record.updated = now
        return record

    def open_sessions(self) -> list[SessionRecord]:
        """Every open session of every user, oldest first: what to resume after a restart."""
        with self._tx() as s:
            found = s.execute(select(SessionRow, UserRow).join(UserRow, SessionRow.user_pk == UserRow.id)
                              .where(SessionRow.phase.in_(OPEN_PHASES)).order_by(SessionRow.id))
            return [session_record(row, ref_of(user)) for row, user in found]

    # ------------------------------------------------------------ attempts

    def add_attempt(self, record: AttemptRecord) -> AttemptRecord:
        """Store an attempt; it is committed when this returns, so its feedback may then be shown."""
        created = record.created or utc_now()
        with self._tx(write=True) as s:
            row = AttemptRow(session_id=record.session_id, user_pk=self._user_pk(s, record.user),
                             question_id=record.question_id, is_follow_up=record.is_follow_up, answer=record.answer,
                             score=int(record.score), key_points=list(record.key_points),
                             feedback=list(record.feedback), hinted=record.hinted, skipped=record.skipped,
                             llm=record.llm, created=created, delivery=record.delivery,
                             entry_hash=record.entry_hash, shared=record.shared)
            s.add(row)
            s.flush()
            record.id, record.created = row.id, created
        return record

    def update_attempt(self, record: AttemptRecord) -> AttemptRecord:
        """Rewrite a stored attempt's grading (score, key points, feedback, flags), e.g. once the critique is in."""
        if record.id is None:
            raise KeyError("the attempt was never added")
        with self._tx(write=True) as s:
            row = s.get(AttemptRow, record.id)
            if row is None:
                raise KeyError(f"no attempt {record.id}")
            row.score, row.key_points, row.feedback = int(record.score), list(record.key_points), list(record.feedback)
            row.hinted, row.skipped, row.llm = record.hinted, record.skipped, record.llm
            row.delivery = record.delivery
        return record

    def attempts(self, ref: UserRef, since: datetime | None = None, question_id: str | None = None,
                 session_id: int | None = None) -> list[AttemptRecord]:
        """The user's attempts, oldest first, optionally since a time, for one question or one session."""
        with self._tx() as s:
            user = self._user_row(s, ref, create=False)
            if user is None:
                return []
            query = select(AttemptRow).where(AttemptRow.user_pk == user.id)
            if since is not None:
                query = query.where(AttemptRow.created >= since)
            if question_id is not None:
                query = query.where(AttemptRow.question_id == question_id)
            if session_id is not None:
                query = query.where(AttemptRow.session_id == session_id)
            rows = s.scalars(query.order_by(AttemptRow.created, AttemptRow.id))
            return [attempt_record(r, ref) for r in rows]

    # ------------------------------------------------------------ review cards

    def get_card(self, ref: UserRef, question_id: str) -> CardRecord | None:
        """The user's review card for a question, or None if never reviewed."""
        with self._tx() as s:
            user = self._user_row(s, ref, create=False)
            row = s.get(CardRow, (user.id, question_id)) if user is not None else None
            return card_record(row, ref) if row is not None else None

    def save_card(self, record: CardRecord) -> None:
        """Insert or replace the user's card for a question."""
        with self._tx(write=True) as s:
            user_pk = self._user_pk(s, record.user, lock=True)
            row = s.get(CardRow, (user_pk, record.question_id))
            if row is None:
                row = CardRow(user_pk=user_pk, question_id=record.question_id)
                s.add(row)
            row.card, row.due = dict(record.card), record.due
            row.last_rating, row.reviews = record.last_rating, record.reviews

    def cards(self, ref: UserRef) -> list[CardRecord]:
        """Every card of the user, soonest due first."""
        with self._tx() as s:
            user = self._user_row(s, ref, create=False)
            if user is None:
                return []
            rows = s.scalars(select(CardRow).where(CardRow.user_pk == user.id)
                             .order_by(CardRow.due, CardRow.question_id))
            return [card_record(r, ref) for r in rows]

    # ------------------------------------------------------------ daily sends

    def claim_daily(self, ref: UserRef, local_date: str, question_id: str, owner: str | None = None) -> bool:
        """Record the day's question before sending it; True only for the first claimer of that user and day."""
        try:
            with self._tx(write=True) as s:
                s.add(DailySendRow(user_pk=self._user_pk(s, ref), local_date=local_date, question_id=question_id,
                                   status="claimed", owner=owner, created=utc_now()))
        except IntegrityError:
            return False
        return True

    def reclaim_daily(self, ref: UserRef, local_date: str, older_than: datetime, owner: str | None = None) -> bool:
        """Take over a claim never marked sent, made before `older_than` (its sender died) or by `owner` itself."""
        with self._tx(write=True) as s:
            user = self._user_row(s, ref, create=False)
            if user is None:
                return False
            stale = DailySendRow.created < older_than
            if owner is not None:
                stale = stale | (DailySendRow.owner == owner)
            # Compare-and-set: of two processes reclaiming at once, only one matches the old `created`.
            result = s.execute(update(DailySendRow)
                               .where(DailySendRow.user_pk == user.id, DailySendRow.local_date == local_date,
                                      DailySendRow.status == "claimed", stale)
                               .values(created=utc_now(), owner=owner))
            return bool(getattr(result, "rowcount", 0))

    def mark_daily_sent(self, ref: UserRef, local_date: str, channel: str | None = None,
                        message_ref: str | None = None) -> None:
        """Mark the day's question as delivered, with where it went."""
        with self._tx(write=True) as s:
            user = self._user_row(s, ref, create=False)
            if user is None:
                raise KeyError(f"no daily send for {ref.key} on {local_date}")
            s.execute(update(DailySendRow)
                      .where(DailySendRow.user_pk == user.id, DailySendRow.local_date == local_date)
                      .values(status="sent", channel=channel, message_ref=message_ref))

    def daily_send(self, ref: UserRef, local_date: str) -> DailySendRecord | None:
        """The user's daily send for a local day ('YYYY-MM-DD'), or None."""
        with self._tx() as s:
            user = self._user_row(s, ref, create=False)
            if user is None:
                return None
            row = s.scalars(select(DailySendRow).where(DailySendRow.user_pk == user.id,
                                                       DailySendRow.local_date == local_date)).first()
            return daily_record(row, ref) if row is not None else None

    # ------------------------------------------------------------ servers and workspaces

    def space_deck(self, platform: str, space_id: str) -> str | None:
        """The default deck a Discord server or Slack workspace picked, or None."""
        with self._tx() as s:
            row = s.get(SpaceRow, (platform, space_id))
            return row.deck if row is not None else None

    def set_space_deck(self, platform: str, space_id: str, deck: str | None, set_by: str | None = None) -> None:
        """Set (or, with None, clear) a server's or workspace's default deck."""
        with self._tx(write=True) as s:
            row = s.get(SpaceRow, (platform, space_id))
            if row is None:
                try:
                    with s.begin_nested():   # two admins at once: the loser updates the winner's row below
                        s.add(SpaceRow(platform=platform, space_id=space_id, deck=deck, set_by=set_by,
                                       updated=utc_now()))
                    return
                except IntegrityError:
                    row = s.get(SpaceRow, (platform, space_id))
                    assert row is not None
            row.deck, row.set_by, row.updated = deck, set_by, utc_now()

    # ------------------------------------------------------------ events and upkeep

    def claim_event(self, event_id: str) -> bool:
        """True the first time a platform event id is seen, False for a retried delivery of it."""
        try:
            with self._tx(write=True) as s:
                s.add(ProcessedEventRow(event_id=event_id, created=utc_now()))
        except IntegrityError:
            return False
        return True

    def prune_events(self, older_than: datetime) -> int:
        """Forget processed event ids older than a time (platforms stop retrying after minutes)."""
        with self._tx(write=True) as s:
            result = s.execute(delete(ProcessedEventRow).where(ProcessedEventRow.created < older_than))
            return int(getattr(result, "rowcount", 0) or 0)

    def integrity_check(self) -> str:
        """SQLite's `PRAGMA integrity_check` ("ok" when sound); "ok" on other engines."""
        if not self.is_sqlite:
            return "ok"
        with self._lock, self.engine.connect() as conn:
            rows = conn.exec_driver_sql("PRAGMA integrity_check").fetchall()
            return "; ".join(str(r[0]) for r in rows)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


class _NoLock:
    """A stand-in for a lock where the database does its own locking."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


# Lets mypy check that SqlStore implements every method of Store.
_IMPLEMENTS_STORE: type[Store] = SqlStore
