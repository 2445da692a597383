"""Platform-neutral values between the engine and adapters: users, the requests they make, the replies they get."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

MAX_COUNT = 20   # questions in one mock interview


def count_problem(count: int) -> str | None:
    """One sentence when a mock interview's number of questions is out of range, else None."""
    if 1 <= count <= MAX_COUNT:
        return None
    return f"A mock interview has 1 to {MAX_COUNT} questions; {count} is too {'many' if count > MAX_COUNT else 'few'}."


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
    """What a user asks the coach to do; the ones a reply offers are rendered as buttons or commands."""

    ANSWER = "answer"
    HINT = "hint"
    SKIP = "skip"
    REVEAL = "reveal"
    STOP = "stop"
    START = "start"
    STATS = "stats"
    TOPICS = "topics"
    DAILY = "daily"
    FLAG = "flag"          # report a question as wrong (text: the reason)
    REVIEW = "review"      # the flag queue; op fix or dismiss one (reviewers only)
    EXPORT = "export"      # the user's own attempts as a file (op: jsonl, csv or anki)
    FORGET = "forget"      # delete the user's data (confirm: True once they confirmed)
    TEAM = "team"          # team practice in a channel (op: setup, stop, pause, resume, status)
    SHARE = "share"        # show one's own team answer to the team (target: the attempt id)
    DECK = "deck"


@dataclass(frozen=True)
class Upload:
    """A file that came with a message, as the platform describes it; `read(limit)` downloads it (only when the coach
    asks), returning at most limit + 1 bytes so that a file larger than it said is still cut off."""

    read: Callable[[int], bytes]
    filename: str | None = None
    mime: str | None = None
    size: int | None = None        # bytes, as the platform states them: checked before anything is downloaded
    seconds: float | None = None   # a voice message's length, when the platform states it


@dataclass(frozen=True)
class Request:
    """One user action as an adapter hands it to `Coach.act`; each action reads only the fields it names."""

    user: UserRef
    action: Action
    text: str = ""                 # ANSWER: the answer as the user wrote it
    turn: str | None = None        # the `Reply.turn` a button, form or thread was made for; None: the current one
    place: str | None = None       # START: where the session lives; ANSWER typed as a message: where it was typed
    files: int = 0                 # ANSWER: files or images that came with the message
    uploads: tuple[Upload, ...] = ()   # ANSWER: those files, readable: a recording among them is a spoken answer
    delivery: dict[str, Any] | None = None  # ANSWER spoken: pace, fillers, pauses (bot.core.voice); never scored
    topic: str | None = None       # START
    count: int | None = None       # START
    daily: bool | None = None      # DAILY: on or off; None changes neither (the status, or a zone update)
    time: str | None = None        # DAILY: local time, HH:MM or H:MM
    zone: str | None = None        # DAILY: IANA time zone
    chart: bool = True             # STATS: with the PNG chart
    op: str | None = None          # REVIEW, TEAM: the sub-command; EXPORT: the format
    target: str | None = None      # REVIEW: the flag id; SHARE: the attempt id; FLAG: a question id
    fields: dict[str, Any] | None = None   # REVIEW fix: the new question, answer and/or key_points
    admin: bool = False            # the platform says this user manages the server or workspace
    present: bool = True           # TEAM setup: the bot is a member of `place`
    confirm: bool = False          # FORGET: the user confirmed
    name: str | None = None        # SHARE: the name to show the team
    mode: str | None = None        # START: "coach" (the default) or "interviewer"
    deck: str | None = None        # START: this interview's deck; DECK: the deck to pick, "default" or "all"
    space: str | None = None       # the Discord server or Slack workspace the request came from, if any
    for_space: bool = False        # DECK: set the space's default deck rather than the user's own


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
    FILE = "file"              # a file for the user alone (data: filename, content bytes, count)
    SHARED = "shared"          # a post for a team's thread (data: place, message_ref)
    ERROR = "error"            # one clear sentence; nothing was lost


@dataclass
class Reply:
    """One message from the engine: text, the actions offered, an optional PNG, structured data."""

    kind: ReplyKind
    text: str
    actions: tuple[Action, ...] = ()
    image: bytes | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def turn(self) -> str | None:
        """The session and question this reply's actions act on ("12:dropout"), None when it offers none.

        Adapters carry it in every button, form and thread they make and hand it back in `Request.turn`, so the
        coach can refuse, in one sentence, an action on a question that is no longer open.
        """
        if self.actions and self.data.get("turn"):   # a token of its own (a team question shown to one member)
            return str(self.data["turn"])
        session, question = self.data.get("session_id"), self.data.get("question_id")
        return turn_token(session, question) if self.actions and session is not None and question else None


def turn_token(session_id: int, question_id: str) -> str:
    """The token of one question of one session."""
    return f"{session_id}:{question_id}"


def short_turn(turn: str) -> str:
    """The token in at most 34 characters, for platforms with short ids (a Discord custom id holds 100)."""
    session, _, question = turn.partition(":")
    if len(question) <= 21:
        return turn
    return f"{session}:{question[:12]}~{hashlib.sha256(question.encode()).hexdigest()[:8]}"
