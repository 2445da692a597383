"""An LLM that loads in the background, so the first question is shown before the model is ready."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bot.core.background import build_model
from bot.core.llm.base import LLM, ChatPrompt, TokenCallback
from bot.errors import CoachError, ModelError


class LazyLLM:
    """Builds the real LLM on a background thread; generate() waits for it, prewarm() never does."""

    def __init__(self, factory: Callable[[], LLM], name: str = "llm") -> None:
        self._factory = factory
        self.name = name
        self._llm: LLM | None = None
        self._error: CoachError | None = None
        self._done = threading.Event()
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> LazyLLM:
        """Begin loading now (idempotent)."""
        with self._lock:
            if not self._started:
                self._started = True
                threading.Thread(target=self._load, name="llm-loader", daemon=True).start()
        return self

    def _load(self) -> None:
        try:
            self._llm, self._error = build_model(self._factory, "model", "grading continues with the rubric only.")
            self.name = getattr(self._llm, "name", self.name)
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        """Whether the model finished loading successfully."""
        return self._done.is_set() and self._llm is not None

    @property
    def failed(self) -> CoachError | None:
        """The load error, once loading failed."""
        return self._error if self._done.is_set() else None

    def get(self, timeout: float | None = None) -> LLM:
        """The loaded model; raises the load error (ModelError) if it failed."""
        self.start()
        if not self._done.wait(timeout):
            raise ModelError("The model is still loading; try again in a moment.")
        if self._llm is None:
            raise self._error or ModelError("The model could not be loaded.")
        return self._llm

    def generate(self, prompt: ChatPrompt, *, schema: dict[str, Any] | None = None, max_tokens: int = 400,
                 on_token: TokenCallback | None = None, session: str | None = None) -> str:
        """Wait for the model, then generate."""
        return self.get().generate(prompt, schema=schema, max_tokens=max_tokens, on_token=on_token, session=session)

    def prewarm(self, prompt: ChatPrompt, *, session: str | None = None) -> None:
        """Prewarm when the model is loaded; otherwise nothing (a prewarm must never wait)."""
        if self.ready and self._llm is not None:
            self._llm.prewarm(prompt, session=session)

    def describe(self) -> dict[str, Any]:
        """What the loaded model says about itself, or its state."""
        if self._llm is not None and hasattr(self._llm, "describe"):
            return dict(self._llm.describe())
        return {"state": "failed" if self._error else "loading" if self._started else "not started"}
