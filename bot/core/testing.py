"""Test doubles of the engine's pluggable parts, each with a queue of scripted results and a history."""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.core.embedder import HashEmbedder
from bot.core.index import MemoryIndex
from bot.core.llm.base import ChatPrompt, TokenCallback
from bot.core.replies import Reply, UserRef
from bot.core.speech.base import Transcript, Word
from bot.core.store.records import Store
from bot.errors import UserUnreachable

if TYPE_CHECKING:
    from bot.core.bank import Bank
    from bot.core.coach import Coach
    from bot.core.speech.audio import AudioClip

# The fakes' clock stands still here unless a test brings its own: the scheduler orders equally ranked questions by
# a hash of the day, so a coach on the real clock would ask another first question on another day.
TEST_NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)

__all__ = ["FakeDailyPort", "FakeLLM", "FakeTranscriber", "HashEmbedder", "MemoryIndex", "fake_coach",
           "fake_transcript", "in_lines"]


def in_lines(text: str, labels: tuple[str, ...]) -> str:
    """A scripted critique given as JSON ({"strengths", "improvements", "follow_up"}) written in the line format a
    prompt's labels ask for, as the real model would; any other text is returned as it is."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not labels or not isinstance(data, dict) or not {"strengths", "improvements"} <= set(data):
        return text
    strengths, improvements = data.get("strengths"), data.get("improvements")
    if not isinstance(strengths, list) or not isinstance(improvements, list):
        return text
    values = {"Right": strengths[:1], "Missing": improvements[:1], "Wrong": improvements[:1],
              "Stronger": improvements[1:2], "Follow-up": [data.get("follow_up")]}
    out = []
    for label in labels:
        value = values.get(label.split(" ", 1)[0].rstrip(":"), [])
        head = label if label.endswith(":") else label[: label.rindex(": ") + 1]  # the model writes the opener too
        out.append(f"{head} {value[0] if value and isinstance(value[0], str) else ''}".rstrip())
    return "\n".join(out)


def pieces(text: str, labels: tuple[str, ...] = ()) -> list[str]:
    """Text as a model streams it: word by word, except the labels code writes, which come whole (the real model
    evaluates them in one batch rather than sampling them); the pieces join into the text."""
    out: list[str] = []
    for number, line in enumerate(text.split("\n")):
        if number:
            out.append("\n")
        label = next((lab for lab in labels if line.startswith(lab)), "")
        out += [label] if label else []
        rest = line[len(label):]
        words = re.findall(r"\s*\S+", rest)
        out += words + ([rest[len("".join(words)):]] if rest[len("".join(words)):] else [])
    return out


class FakeLLM:
    """A scripted LLM: answers come from a queue (or a function); every call is recorded."""

    name = "fake"

    def __init__(self, responses: list[str | dict[str, Any]] | None = None,
                 respond: Callable[[ChatPrompt], str] | None = None, fail: Exception | None = None) -> None:
        self.responses: deque[str | dict[str, Any]] = deque(responses or [])
        self.respond = respond
        self.fail = fail
        self.calls: list[ChatPrompt] = []
        self.prewarmed: list[tuple[str | None, ChatPrompt]] = []
        self._lock = threading.Lock()

    def generate(self, prompt: ChatPrompt, *, schema: dict[str, Any] | None = None, max_tokens: int = 400,
                 on_token: TokenCallback | None = None, session: str | None = None) -> str:
        """Next scripted response, streamed word by word."""
        with self._lock:
            self.calls.append(prompt)
            if self.fail is not None:
                raise self.fail
            if self.responses:
                item = self.responses.popleft()
                text = item if isinstance(item, str) else json.dumps(item)
            elif self.respond is not None:
                text = self.respond(prompt)
            else:
                text = "{}"
            text = in_lines(text, prompt.labels)
        if on_token is not None:
            for piece in pieces(text, prompt.labels):
                on_token(piece)
        return text

    def prewarm(self, prompt: ChatPrompt, *, session: str | None = None) -> None:
        """Record the prewarm."""
        self.prewarmed.append((session, prompt))


class FakeDailyPort:
    """A platform for the daily dispatcher: records each post; set `unreachable` or `fail` to refuse them."""

    def __init__(self, platform: str = "test") -> None:
        self.platform = platform
        self.sent: list[tuple[UserRef, str, Reply]] = []      # (user, local day, reply), in order
        self.already: dict[tuple[str, str], str] = {}          # (user key, day) -> a message posted by another
        self.unreachable: set[str] = set()                     # user keys the platform refuses for good
        self.fail: Exception | None = None                     # raised by the next send (a crash, a 500)
        self.calls: list[str] = []

    def place(self, user: UserRef) -> str:
        """The user's DM."""
        self.calls.append(f"place {user.key}")
        if user.key in self.unreachable:
            raise UserUnreachable(f"{user.key} is deactivated.")
        return f"dm-{user.user_id}"

    def send(self, user: UserRef, place: str, reply: Reply, day: str) -> str:
        """Record the post; its message id."""
        self.calls.append(f"send {user.key} {day}")
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        self.sent.append((user, day, reply))
        return f"m{len(self.sent)}"

    def posted(self, user: UserRef, place: str, day: str, since: datetime) -> str | None:
        """A message some earlier sender posted for that day."""
        self.calls.append(f"posted {user.key} {day}")
        return self.already.get((user.key, day))


def frozen_clock() -> datetime:
    """TEST_NOW, always."""
    return TEST_NOW


def fake_coach(bank: Bank, store: Store, *, llm: Any = None, clock: Callable[[], datetime] = frozen_clock,
               **options: Any) -> Coach:
    """The real Coach with fast parts: a hashing embedder, a scripted model (or none), the given bank and store, and
    the clock standing at TEST_NOW unless one is given."""
    from bot.core.coach import Coach
    from bot.core.grading.grader import Grader
    from bot.core.schedule import Scheduler

    grader = Grader(HashEmbedder(), llm=llm)
    return Coach(bank, grader, store, Scheduler(store, bank, clock=clock), clock=clock, **options)


def fake_transcript(text: str, *, wpm: float = 150.0, pauses: dict[int, float] | None = None,
                    start: float = 0.5) -> Transcript:
    """A transcript of `text` spoken evenly at `wpm`, with extra silence (seconds) before the word indexes given."""
    step = 60.0 / wpm
    words, t = [], start
    for i, token in enumerate(text.split()):
        t += (pauses or {}).get(i, 0.0)
        words.append(Word(token, t, t + step * 0.8))
        t += step
    return Transcript(text=" ".join(text.split()), words=tuple(words), duration=t + 0.5, language="en",
                      language_probability=0.99, speech_seconds=t - start)


class FakeTranscriber:
    """A scripted transcriber: results (text, Transcript or an exception to raise) come from a queue."""

    name = "fake-speech"

    def __init__(self, results: list[str | Transcript | Exception] | None = None, *, wpm: float = 150.0) -> None:
        self.results: deque[str | Transcript | Exception] = deque(results or [])
        self.wpm = wpm
        self.calls: list[tuple[AudioClip, str | None]] = []
        self.prompts: list[str | None] = []
        self._lock = threading.Lock()

    def transcribe(self, clip: AudioClip, *, user_key: str | None = None, prompt: str | None = None) -> Transcript:
        """The next scripted result; every call is recorded with its user and prompt."""
        with self._lock:
            self.calls.append((clip, user_key))
            self.prompts.append(prompt)
            item = self.results.popleft() if self.results else "I don't know."
        if isinstance(item, Exception):
            raise item
        return item if isinstance(item, Transcript) else fake_transcript(item, wpm=self.wpm)
