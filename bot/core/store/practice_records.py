"""Records and store methods of flagged questions, team practice and a user's own data (export, forget)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.core.replies import UserRef

if TYPE_CHECKING:
    from bot.core.store.records import AttemptRecord, DailySendRecord, SessionRecord


@dataclass
class FlagRecord:
    """A user's report that a question is wrong."""

    id: int
    user: UserRef
    question_id: str
    reason: str
    status: str                      # open | fixed | dismissed
    entry_hash: str | None = None
    resolved_by: str | None = None
    created: datetime | None = None
    resolved: datetime | None = None


@dataclass
class TeamRecord:
    """A channel's team practice: its own user row (`ref`) holds the time zone, the time and on/off."""

    ref: UserRef                     # ("slack-team", channel id)
    state: str                       # active | paused | stopped
    time_zone: str = "UTC"
    daily_time: str = "09:00"
    manager: str | None = None
    created: datetime | None = None


class PracticeStore(Protocol):
    """The part of the store behind flags, teams, export and forget."""

    def attempt(self, attempt_id: int) -> AttemptRecord | None: ...
    def session_attempts(self, session_id: int) -> list[AttemptRecord]: ...
    def share_attempt(self, attempt_id: int) -> None: ...
    def add_flag(self, ref: UserRef, question_id: str, reason: str, entry_hash: str | None) -> FlagRecord: ...
    def flag(self, flag_id: int) -> FlagRecord | None: ...
    def flags(self, status: str | None = "open") -> list[FlagRecord]: ...
    def resolve_flags(self, question_id: str, status: str, by: str) -> int: ...
    def held_questions(self, ref: UserRef) -> set[str]: ...
    def save_team(self, ref: UserRef, state: str, manager: str | None = None) -> TeamRecord: ...
    def team(self, ref: UserRef) -> TeamRecord | None: ...
    def recent_sessions(self, ref: UserRef, limit: int = 10) -> list[SessionRecord]: ...
    def last_daily_send(self, ref: UserRef, before: str) -> DailySendRecord | None: ...
    def forget_user(self, ref: UserRef) -> dict[str, int]: ...
