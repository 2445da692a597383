"""The speech-to-text protocol: an audio clip in, a transcript with word timestamps out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.errors import CoachError

if TYPE_CHECKING:
    from bot.core.speech.audio import AudioClip


class BadAudio(CoachError):
    """Audio that cannot be an answer (silent, noise, too long, damaged, another language): one clear sentence."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason   # a stable code for adapters and tests: "too_long", "silence", "language", ...


@dataclass(frozen=True)
class Word:
    """One spoken word and when it was said, in seconds from the start of the clip."""

    text: str
    start: float
    end: float
    probability: float = 1.0


@dataclass(frozen=True)
class Transcript:
    """What was heard: the text, each word's timing, and what the model says about the audio."""

    text: str
    words: tuple[Word, ...]
    duration: float                          # seconds of audio in the clip
    language: str | None = None
    language_probability: float | None = None
    speech_seconds: float | None = None      # seconds the voice-activity detector kept
    timed: bool = True                       # False when word times were spread over segments (no word timestamps)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The transcript as plain data (word times rounded to 10 ms)."""
        return {"text": self.text, "duration": round(self.duration, 2), "language": self.language,
                "language_probability": None if self.language_probability is None
                else round(self.language_probability, 3),
                "speech_seconds": None if self.speech_seconds is None else round(self.speech_seconds, 2),
                "timed": self.timed,
                "words": [[w.text, round(w.start, 2), round(w.end, 2)] for w in self.words]}


class Transcriber(Protocol):
    """Turns a decoded or probed clip into a transcript; raises BadAudio for audio that holds no English answer."""

    name: str

    def transcribe(self, clip: AudioClip, *, user_key: str | None = None, prompt: str | None = None) -> Transcript:
        """The transcript of the clip; user_key says who asks (a worker runs one job per user at a time), prompt is
        the question being answered, whose words the model should expect (measured: fewer misheard terms)."""
        ...
