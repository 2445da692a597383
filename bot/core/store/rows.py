"""Rows to records, and the check of a user's settings: what the SQL store does around each query."""

from __future__ import annotations

from typing import Any

from bot.core.localtime import parse_daily_time, zone_problem
from bot.core.modes import Mode
from bot.core.phases import Phase
from bot.core.replies import UserRef
from bot.core.store.db import AttemptRow, CardRow, DailySendRow, SessionRow, UserRow
from bot.core.store.records import AttemptRecord, CardRecord, DailySendRecord, SessionRecord, UserRecord

USER_FIELDS = frozenset({"display_name", "time_zone", "daily_time", "daily_on", "deck", "space"})


def ref_of(row: UserRow) -> UserRef:
    """The user a row is about."""
    return UserRef(row.platform, row.user_id)


def user_record(row: UserRow) -> UserRecord:
    """A user row as a record."""
    return UserRecord(ref=ref_of(row), display_name=row.display_name, time_zone=row.time_zone,
                      daily_time=row.daily_time, daily_on=row.daily_on, created=row.created, deck=row.deck,
                      space=row.space)


def session_record(row: SessionRow, user: UserRef) -> SessionRecord:
    """A session row as a record."""
    return SessionRecord(id=row.id, user=user, phase=Phase[row.phase], question_ids=list(row.question_ids),
                         position=row.position, topic=row.topic, deck=row.deck, follow_up=row.follow_up,
                         hints_used=dict(row.hints_used or {}), extra=dict(row.extra or {}), channel=row.channel,
                         created=row.created, updated=row.updated, finished=row.finished,
                         mode=Mode.stored(row.mode))


def attempt_record(row: AttemptRow, user: UserRef) -> AttemptRecord:
    """An attempt row as a record."""
    return AttemptRecord(user=user, question_id=row.question_id, score=row.score, answer=row.answer,
                         session_id=row.session_id, is_follow_up=row.is_follow_up,
                         key_points=list(row.key_points or []), feedback=list(row.feedback or []),
                         hinted=row.hinted, skipped=row.skipped, llm=row.llm, id=row.id, created=row.created,
                         delivery=row.delivery, entry_hash=row.entry_hash, shared=bool(row.shared))


def card_record(row: CardRow, user: UserRef) -> CardRecord:
    """A review-card row as a record."""
    return CardRecord(user=user, question_id=row.question_id, card=dict(row.card), due=row.due,
                      last_rating=row.last_rating, reviews=row.reviews)


def daily_record(row: DailySendRow, user: UserRef) -> DailySendRecord:
    """A daily-send row as a record."""
    return DailySendRecord(user=user, local_date=row.local_date, question_id=row.question_id, status=row.status,
                           channel=row.channel, message_ref=row.message_ref, owner=row.owner, created=row.created)


def check_user_fields(fields: dict[str, Any]) -> None:
    """Raise ValueError, in one sentence, for an unknown field, time zone or daily time."""
    unknown = set(fields) - USER_FIELDS
    if unknown:
        raise ValueError(f"Unknown user field(s): {', '.join(sorted(unknown))}.")
    if "time_zone" in fields and zone_problem(str(fields["time_zone"])):
        raise ValueError(zone_problem(str(fields["time_zone"])))
    if "daily_time" in fields and parse_daily_time(str(fields["daily_time"])) != fields["daily_time"]:
        raise ValueError(f"Daily time '{fields['daily_time']}' is not a 24-hour HH:MM time such as 09:00.")
