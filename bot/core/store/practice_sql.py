"""The SQL side of flags, teams and a user's own data: a mixin of `SqlStore` (one short transaction per method)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.core.replies import UserRef
from bot.core.store.db import (
    AttemptRow,
    CardRow,
    DailySendRow,
    FlagRow,
    SessionRow,
    TeamRow,
    UserRow,
    utc_now,
)
from bot.core.store.practice_records import FlagRecord, TeamRecord
from bot.core.store.rows import attempt_record, daily_record, ref_of, session_record

if TYPE_CHECKING:
    from bot.core.store.records import AttemptRecord, DailySendRecord, SessionRecord


def _flag_record(row: FlagRow, user: UserRef) -> FlagRecord:
    return FlagRecord(id=row.id, user=user, question_id=row.question_id, reason=row.reason, status=row.status,
                      entry_hash=row.entry_hash, resolved_by=row.resolved_by, created=row.created,
                      resolved=row.resolved)


class PracticeSql:
    """Flags, teams, shared answers, export queries and forgetting a user, on the SqlStore's transactions."""

    if TYPE_CHECKING:
        def _tx(self, write: bool = False) -> AbstractContextManager[Session]: ...
        def _user_row(self, s: Session, ref: UserRef, *, create: bool, lock: bool = False) -> UserRow | None: ...
        def _user_pk(self, s: Session, ref: UserRef, lock: bool = False) -> int: ...

    # ------------------------------------------------------------ attempts across users

    def attempt(self, attempt_id: int) -> AttemptRecord | None:
        """One attempt by id, with the user it belongs to."""
        with self._tx() as s:
            found = s.execute(select(AttemptRow, UserRow).join(UserRow, AttemptRow.user_pk == UserRow.id)
                              .where(AttemptRow.id == attempt_id)).first()
            return attempt_record(found[0], ref_of(found[1])) if found is not None else None

    def session_attempts(self, session_id: int) -> list[AttemptRecord]:
        """Every attempt made in one session, whoever made it (a team's question is one session), oldest first."""
        with self._tx() as s:
            found = s.execute(select(AttemptRow, UserRow).join(UserRow, AttemptRow.user_pk == UserRow.id)
                              .where(AttemptRow.session_id == session_id).order_by(AttemptRow.id))
            return [attempt_record(row, ref_of(user)) for row, user in found]

    def share_attempt(self, attempt_id: int) -> None:
        """Mark an attempt as shared by its author."""
        with self._tx(write=True) as s:
            s.execute(update(AttemptRow).where(AttemptRow.id == attempt_id).values(shared=True))

    # ------------------------------------------------------------ flags

    def add_flag(self, ref: UserRef, question_id: str, reason: str, entry_hash: str | None) -> FlagRecord:
        """Record an open flag."""
        with self._tx(write=True) as s:
            row = FlagRow(user_pk=self._user_pk(s, ref), question_id=question_id, reason=reason[:2000],
                          entry_hash=entry_hash, status="open", created=utc_now())
            s.add(row)
            s.flush()
            return _flag_record(row, ref)

    def flag(self, flag_id: int) -> FlagRecord | None:
        """A flag by id."""
        with self._tx() as s:
            found = s.execute(select(FlagRow, UserRow).join(UserRow, FlagRow.user_pk == UserRow.id)
                              .where(FlagRow.id == flag_id)).first()
            return _flag_record(found[0], ref_of(found[1])) if found is not None else None

    def flags(self, status: str | None = "open") -> list[FlagRecord]:
        """Flags (of one status, or all), oldest first: the review queue."""
        with self._tx() as s:
            query = select(FlagRow, UserRow).join(UserRow, FlagRow.user_pk == UserRow.id)
            if status is not None:
                query = query.where(FlagRow.status == status)
            return [_flag_record(row, ref_of(user)) for row, user in s.execute(query.order_by(FlagRow.id))]

    def resolve_flags(self, question_id: str, status: str, by: str) -> int:
        """Close every open flag on a question (fixed or dismissed); how many were open."""
        with self._tx(write=True) as s:
            result = s.execute(update(FlagRow).where(FlagRow.question_id == question_id, FlagRow.status == "open")
                               .values(status=status, resolved_by=by[:200], resolved=utc_now()))
            return int(getattr(result, "rowcount", 0) or 0)

    def held_questions(self, ref: UserRef) -> set[str]:
        """Questions the user flagged that no reviewer has looked at yet: out of their schedule meanwhile."""
        with self._tx() as s:
            user = self._user_row(s, ref, create=False)
            if user is None:
                return set()
            return set(s.scalars(select(FlagRow.question_id).where(FlagRow.user_pk == user.id,
                                                                   FlagRow.status == "open")))

    # ------------------------------------------------------------ teams

    def save_team(self, ref: UserRef, state: str, manager: str | None = None) -> TeamRecord:
        """Create or update a team (its user row is created with it)."""
        with self._tx(write=True) as s:
            user = self._user_row(s, ref, create=True, lock=True)
            assert user is not None
            row = s.scalars(select(TeamRow).where(TeamRow.user_pk == user.id)).first()
            if row is None:
                row = TeamRow(user_pk=user.id, state=state, manager=manager, created=utc_now())
                s.add(row)
            row.state = state
            if manager is not None:
                row.manager = manager
            s.flush()
            return _team_record(row, user)

    def team(self, ref: UserRef) -> TeamRecord | None:
        """A team by its reference, or None."""
        with self._tx() as s:
            found = s.execute(select(TeamRow, UserRow).join(UserRow, TeamRow.user_pk == UserRow.id)
                              .where(UserRow.platform == ref.platform, UserRow.user_id == ref.user_id)).first()
            return _team_record(found[0], found[1]) if found is not None else None

    def recent_sessions(self, ref: UserRef, limit: int = 10) -> list[SessionRecord]:
        """The user's latest sessions, newest first."""
        with self._tx() as s:
            user = self._user_row(s, ref, create=False)
            if user is None:
                return []
            rows = s.scalars(select(SessionRow).where(SessionRow.user_pk == user.id)
                             .order_by(SessionRow.id.desc()).limit(limit))
            return [session_record(r, ref) for r in rows]

    def last_daily_send(self, ref: UserRef, before: str) -> DailySendRecord | None:
        """The latest daily send marked sent for a local day before `before` ('YYYY-MM-DD')."""
        with self._tx() as s:
            user = self._user_row(s, ref, create=False)
            if user is None:
                return None
            row = s.scalars(select(DailySendRow).where(DailySendRow.user_pk == user.id,
                                                       DailySendRow.local_date < before,
                                                       DailySendRow.status == "sent")
                            .order_by(DailySendRow.local_date.desc())).first()
            return daily_record(row, ref) if row is not None else None

    # ------------------------------------------------------------ forgetting a user

    def forget_user(self, ref: UserRef) -> dict[str, int]:
        """Delete everything stored about a user: attempts, sessions, review cards, daily sends, flags, settings."""
        counts: dict[str, int] = {}
        with self._tx(write=True) as s:
            user = self._user_row(s, ref, create=False, lock=True)
            if user is None:
                return counts
            for name, table in (("attempts", AttemptRow), ("review_cards", CardRow), ("daily_sends", DailySendRow),
                                ("flags", FlagRow)):
                result = s.execute(delete(table).where(table.user_pk == user.id))
                counts[name] = int(getattr(result, "rowcount", 0) or 0)
            # Attempts of other users never point at this user's sessions (a team's session belongs to the team).
            result = s.execute(delete(SessionRow).where(SessionRow.user_pk == user.id))
            counts["sessions"] = int(getattr(result, "rowcount", 0) or 0)
            s.execute(update(TeamRow).where(TeamRow.manager == ref.key).values(manager=None))
            s.execute(delete(TeamRow).where(TeamRow.user_pk == user.id))
            s.delete(user)
        return counts


def _team_record(row: TeamRow, user: UserRow) -> TeamRecord:
    return TeamRecord(ref=ref_of(user), state=row.state, time_zone=user.time_zone, daily_time=user.daily_time,
                      manager=row.manager, created=row.created)
