"""The claims that several processes and retried deliveries coordinate through: the day's question for a user
(claimed before it is sent) and platform event ids (handled once). A mixin of `SqlStore`."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.replies import UserRef
from bot.core.store.db import DailySendRow, ProcessedEventRow, UserRow, utc_now
from bot.core.store.records import DailySendRecord
from bot.core.store.rows import daily_record


class ClaimsSql:
    """Daily sends and processed events, on the SqlStore's transactions."""

    if TYPE_CHECKING:
        def _tx(self, write: bool = False) -> AbstractContextManager[Session]: ...
        def _user_row(self, s: Session, ref: UserRef, *, create: bool, lock: bool = False) -> UserRow | None: ...
        def _user_pk(self, s: Session, ref: UserRef, lock: bool = False) -> int: ...

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

    # ------------------------------------------------------------ platform events

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
