"""Platform-neutral values the engine hands to adapters: users, replies and actions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class UserRef:
    """A user on one platform: ("discord", "1234"), ("slack", "U01"), ("cli", "alice")."""

    platform: str
    user_id: str

    @property
    def key(self) -> str:
        """A string key unique across platforms."""
        return f"{self.platform}:{self.user_id}"


class Action(str, Enum):
    """What the user may do next; adapters render these as buttons or commands."""

    ANSWER = "answer"
    HINT = "hint"
    SKIP = "skip"
    REVEAL = "reveal"
    STOP = "stop"
    NEXT = "next"
    START = "start"


class ReplyKind(str, Enum):
    """What a reply is, so adapters can render each kind its own way."""

    QUESTION = "question"      # a new question (data: question_id, number, total, topics, difficulty)
    FOLLOW_UP = "follow_up"    # a follow-up question on the same entry (data: question_id, target_point)
    TRANSCRIPT = "transcript"  # what was heard in a spoken answer, before its score (data: transcript, delivery)
    SCORE = "score"            # rubric result, shown at once (data: the grade dict of DESIGN's `grade --json`)
    CRITIQUE = "critique"      # the model's critique, after the score (data: strengths, improvements, llm)
    HINT = "hint"
    REVEAL = "reveal"          # the reference answer, labelled as an example answer
    SKIPPED = "skipped"
    REPORT = "report"          # end-of-interview report card (data: per-question scores, topics, missed)
    STATS = "stats"            # progress (data: stats dict; image: PNG chart)
    INFO = "info"              # neutral information (topics list, help, daily settings)
    ERROR = "error"            # one clear sentence; nothing was lost


@dataclass
class Reply:
    """One message from the engine: text, the actions offered, an optional PNG, structured data."""

    kind: ReplyKind
    text: str
    actions: tuple[Action, ...] = ()
    image: bytes | None = None
    data: dict[str, Any] = field(default_factory=dict)
