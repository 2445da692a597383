"""One thread owns the speech model: it loads it, then serves a FIFO queue, one job per user at a time."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from bot.core.background import UserQueue, build_model
from bot.core.speech.audio import AudioClip
from bot.core.speech.base import Transcriber, Transcript
from bot.errors import CoachError, ModelError, UserBusyError


@dataclass
class _Job:
    user_key: str
    clip: AudioClip
    prompt: str | None = None
    future: Future[Transcript] = field(default_factory=Future)


class SpeechWorker(UserQueue[_Job]):
    """A Transcriber that runs every call on its own daemon thread, which builds the model on first use.

    Other users' text answers and the LLM never wait on a transcription; two recordings of one user at once get
    UserBusyError for the second.
    """

    def __init__(self, factory: Callable[[], Transcriber], *, name: str = "speech") -> None:
        super().__init__()
        self._factory = factory
        self.name = name
        self._model: Transcriber | None = None
        self._error: CoachError | None = None
        self._preload = False
        self._thread = threading.Thread(target=self._loop, name="speech-worker", daemon=True)
        self._thread.start()

    def start(self) -> SpeechWorker:
        """Load the model now, in the background (the terminal's --voice does this at start)."""
        with self._cond:
            self._preload = True
            self._cond.notify()
        return self

    @property
    def ready(self) -> bool:
        """Whether the model is loaded."""
        return self._model is not None

    @property
    def failed(self) -> CoachError | None:
        """The load error, once loading failed."""
        return self._error

    def transcribe(self, clip: AudioClip, *, user_key: str | None = None, prompt: str | None = None) -> Transcript:
        """Queue the clip behind earlier ones and wait for its transcript (BadAudio and ModelError come through)."""
        key = user_key or f"anonymous-{id(clip)}"
        job = _Job(key, clip, prompt)
        self._enqueue(job, closed=ModelError("Voice answers are not available right now; please type your answer."),
                      busy=UserBusyError("Your previous recording is still being transcribed; one moment."))
        return job.future.result()

    def pending(self) -> dict[str, int]:
        """Queue length and busy users, for doctor and logs."""
        with self._cond:
            return {"jobs": len(self._jobs), "busy_users": len(self._busy)}

    def describe(self) -> dict[str, Any]:
        """The loaded model's description, or its state."""
        if self._model is not None and hasattr(self._model, "describe"):
            return dict(self._model.describe())
        return {"state": "failed" if self._error else "loaded" if self._model else "not loaded"}

    def close(self) -> None:
        """Stop taking jobs and cancel the queued ones; the running one finishes."""
        with self._cond:
            self._close_queue()

    # -- the thread ----------------------------------------------------------------------------------------------

    def _load(self) -> Transcriber:
        """Build the model once; a failure is kept and raised for every job as one sentence."""
        if self._model is None and self._error is None:
            self._model, self._error = build_model(self._factory, "speech model", "please type your answer.")
            self.name = getattr(self._model, "name", self.name)
        if self._model is None:
            raise self._error or ModelError("The speech model could not be loaded; please type your answer.")
        return self._model

    def _next(self) -> _Job | None:
        """Wait for a job (loading the model first when a preload was asked for); None once closed."""
        while True:
            with self._cond:
                while not self._closed and not self._jobs and not self._wants_preload():
                    self._cond.wait()
                if self._jobs:
                    return self._jobs.popleft()
                if self._closed:
                    return None
            with contextlib.suppress(CoachError):  # the jobs that follow report a load error
                self._load()

    def _wants_preload(self) -> bool:
        return self._preload and self._model is None and self._error is None

    def _loop(self) -> None:
        while (job := self._next()) is not None:
            self._serve(job, lambda: self._load().transcribe(job.clip, user_key=job.user_key, prompt=job.prompt))

