"""What the store hands to the engine: plain records, and the protocol of the store itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.modes import Mode
from bot.core.phases import Phase
from bot.core.replies import UserRef
from bot.core.store.db import utc_now
from bot.core.store.practice_records import PracticeStore

__all__ = ["AttemptRecord", "CardRecord", "DailySendRecord", "OPEN_PHASES", "SessionRecord", "Store", "UserRecord",
           "utc_now"]

OPEN_PHASES = tuple(p.name for p in Phase if p.is_open)


# ---------------------------------------------------------------- records handed to callers


@dataclass
class UserRecord:
    """A user's settings."""

    ref: UserRef
    display_name: str | None = None
    time_zone: str = "UTC"
    daily_time: str = "09:00"
    daily_on: bool = False
    created: datetime | None = None
    deck: str | None = None     # the user's own deck ("*": every deck); None: the space's default
    space: str | None = None    # the server or workspace the user last used the coach in

    @property
    def zone(self) -> ZoneInfo:
        """The user's time zone (UTC when the stored name is unknown to this machine)."""
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


@dataclass
class SessionRecord:
    """One mock interview; the coach mutates it and hands it back to `save_session`."""

    id: int
    user: UserRef
    phase: Phase
    question_ids: list[str]
    position: int = 0
    topic: str | None = None
    deck: str | None = None
    follow_up: dict[str, Any] | None = None    # the pending follow-up: {"text": str, "target_point": int}
    hints_used: dict[str, int] = field(default_factory=dict)   # question id -> hints shown
    extra: dict[str, Any] = field(default_factory=dict)        # coach-owned state that needs no column
    channel: str | None = None                 # platform place: Discord thread id, Slack DM channel
    created: datetime | None = None
    updated: datetime | None = None
    finished: datetime | None = None
    mode: Mode = Mode.COACH

    @property
    def current_question_id(self) -> str | None:
        """The id of the question at `position`, None past the end."""
        return self.question_ids[self.position] if 0 <= self.position < len(self.question_ids) else None


@dataclass
class AttemptRecord:
    """One graded answer (or a skip); `session_id` is None for daily questions."""

    user: UserRef
    question_id: str
    score: int
    answer: str = ""
    session_id: int | None = None
    is_follow_up: bool = False
    key_points: list[dict[str, Any]] = field(default_factory=list)   # {"text", "covered", "similarity", "evidence"}
    feedback: list[str] = field(default_factory=list)
    hinted: bool = False
    skipped: bool = False
    llm: bool = False
    id: int | None = None
    created: datetime | None = None
    delivery: dict[str, Any] | None = None   # a spoken answer's pace, fillers, pauses, length; None when typed
    entry_hash: str | None = None      # the entry's content hash when it was answered: later fixes mark it outdated
    shared: bool = False               # a team answer its author chose to show the team


@dataclass
class CardRecord:
    """A user's review schedule for one question; `card` is the FSRS card as a dict."""

    user: UserRef
    question_id: str
    card: dict[str, Any]
    due: datetime
    last_rating: int | None = None
    reviews: int = 0


@dataclass
class DailySendRecord:
    """The daily question of one user and local day: claimed before sending, then marked sent."""

    user: UserRef
    local_date: str
    question_id: str
    status: str                 # "claimed" | "sent"
    channel: str | None = None
    message_ref: str | None = None
    owner: str | None = None    # the process that claimed it
    created: datetime | None = None


class Store(PracticeStore, Protocol):
    """What the engine needs from persistence."""

    def get_or_create_user(self, ref: UserRef, display_name: str | None = None) -> UserRecord: ...
    def get_user(self, ref: UserRef) -> UserRecord | None: ...
    def update_user(self, ref: UserRef, **fields: Any) -> UserRecord: ...
    def users_with_daily_on(self) -> list[UserRecord]: ...
    def create_session(self, ref: UserRef, question_ids: Sequence[str], topic: str | None = None,
                       channel: str | None = None, *, deck: str | None = None,
                       mode: Mode = Mode.COACH) -> SessionRecord: ...
    def open_session(self, ref: UserRef) -> SessionRecord | None: ...
    def session(self, session_id: int) -> SessionRecord | None: ...
    def save_session(self, record: SessionRecord) -> SessionRecord: ...
    def open_sessions(self) -> list[SessionRecord]: ...
    def add_attempt(self, record: AttemptRecord) -> AttemptRecord: ...
    def update_attempt(self, record: AttemptRecord) -> AttemptRecord: ...
    def attempts(self, ref: UserRef, since: datetime | None = None, question_id: str | None = None,
                 session_id: int | None = None) -> list[AttemptRecord]: ...
    def get_card(self, ref: UserRef, question_id: str) -> CardRecord | None: ...
    def save_card(self, record: CardRecord) -> None: ...
    def cards(self, ref: UserRef) -> list[CardRecord]: ...
    def claim_daily(self, ref: UserRef, local_date: str, question_id: str, owner: str | None = None) -> bool: ...
    def reclaim_daily(self, ref: UserRef, local_date: str, older_than: datetime,
                      owner: str | None = None) -> bool: ...
    def mark_daily_sent(self, ref: UserRef, local_date: str, channel: str | None = None,
                        message_ref: str | None = None) -> None: ...
    def daily_send(self, ref: UserRef, local_date: str) -> DailySendRecord | None: ...
    def space_deck(self, platform: str, space_id: str) -> str | None: ...
    def set_space_deck(self, platform: str, space_id: str, deck: str | None, set_by: str | None = None) -> None: ...
    def claim_event(self, event_id: str) -> bool: ...
    def prune_events(self, older_than: datetime) -> int: ...
    def integrity_check(self) -> str: ...
    def close(self) -> None: ...

