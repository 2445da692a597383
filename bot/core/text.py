"""Text helpers shared by the engine and the adapters: sentence splitting, normalisation, counts in words."""

from __future__ import annotations

import re
import unicodedata

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def normalise(text: str) -> str:
    """NFKC-normalised text without zero-width or bidi control characters, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = _ZERO_WIDTH.sub("", text)
    return re.sub(r"[ \t\r\f\v]+", " ", text).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences of a text (also split on blank lines and bullets), without empty ones."""
    parts = _SENTENCE_END.split(text)
    out = []
    for part in parts:
        part = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", part).strip()
        if len(part) > 1:
            out.append(part)
    return out


_SURROGATE_OR_NUL = re.compile("[\ud800-\udfff\x00]")


def as_text(value: str | bytes) -> str:
    """Any input as storable text: bytes decoded as UTF-8 with U+FFFD for what is not, lone surrogates and NUL too."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    return _SURROGATE_OR_NUL.sub("\ufffd", value)


def plural(count: int, noun: str, many: str | None = None) -> str:
    """A count with its noun in the right number: "1 attempt", "0 attempts", "2 entries" (many="entries")."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def clip(text: str, limit: int) -> str:
    """The text cut to at most `limit` characters, on a word boundary where one is near, with an ellipsis: a quote is
    never shown cut inside a word or a number ("share of al…")."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space > limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:") + "…"
