"""The language model's protocol: a chat prompt in a fixed and a variable part, streamed generation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

TokenCallback = Callable[[str], None]


@dataclass(frozen=True)
class ChatPrompt:
    """A system text and a user turn split into a fixed start (prewarmed) and a variable rest."""

    system: str
    fixed: str
    variable: str = ""
    # A line format: the reply's first line starts with labels[0], each later line with the next label, and a
    # newline after the last line ends it. An in-process model writes the labels itself (code, not sampling); a
    # server is only told about them in the prompt.
    labels: tuple[str, ...] = ()

    @property
    def user(self) -> str:
        """The whole user turn."""
        return self.fixed + self.variable


@dataclass
class Request:
    """One generation handed to a model that decodes several at once; the model fills in text or error."""

    prompt: ChatPrompt
    schema: dict[str, Any] | None = None
    max_tokens: int = 400
    on_token: TokenCallback | None = None
    session: str | None = None
    done: Callable[[Request], None] | None = None  # called once finished, on the model's thread
    text: str | None = None
    error: BaseException | None = None
    stats: Any = field(default=None, repr=False)


class LLM(Protocol):
    """A chat model that can stream, follow a JSON schema, and prewarm a prompt's fixed part."""

    name: str

    def generate(self, prompt: ChatPrompt, *, schema: dict[str, Any] | None = None, max_tokens: int = 400,
                 on_token: TokenCallback | None = None, session: str | None = None) -> str:
        """The model's whole output; each piece is also passed to on_token as it is produced."""
        ...

    def prewarm(self, prompt: ChatPrompt, /, *, session: str | None = None) -> object:
        """Evaluate system + fixed now so that a later generate() with the same start is fast."""
        ...


def grammar_schema(node: Any) -> Any:
    """The schema as llama.cpp's grammar converter handles it: small integer ranges become enums."""
    if isinstance(node, list):
        return [grammar_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: grammar_schema(value) for key, value in node.items()}
    # The converter ignores minimum/maximum; an enum makes the range (and so a score) binding.
    low, high = out.get("minimum"), out.get("maximum")
    if out.get("type") == "integer" and isinstance(low, int) and isinstance(high, int) and 0 <= high - low <= 200:
        out = {k: v for k, v in out.items() if k not in ("type", "minimum", "maximum")}
        out["enum"] = list(range(low, high + 1))
    return out
