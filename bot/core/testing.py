"""Test doubles of the engine's pluggable parts, each with a queue of scripted results and a history."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from bot.core.embedder import HashEmbedder
from bot.core.index import MemoryIndex
from bot.core.llm.base import ChatPrompt, TokenCallback

__all__ = ["FakeLLM", "HashEmbedder", "MemoryIndex"]


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
        if on_token is not None:
            for piece in text.split(" "):
                on_token(piece + " ")
        return text

    def prewarm(self, prompt: ChatPrompt, *, session: str | None = None) -> None:
        """Record the prewarm."""
        self.prewarmed.append((session, prompt))
