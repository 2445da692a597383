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

__all__ = ["FakeLLM", "HashEmbedder", "MemoryIndex", "in_lines"]


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
            for piece in text.split(" "):
                on_token(piece + " ")
        return text

    def prewarm(self, prompt: ChatPrompt, *, session: str | None = None) -> None:
        """Record the prewarm."""
        self.prewarmed.append((session, prompt))
