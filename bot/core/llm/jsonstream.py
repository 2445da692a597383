"""Turns a model's JSON output, as it streams, into readable prose for the user."""

from __future__ import annotations

from collections.abc import Callable

LABELS = {"strengths": "What went well", "improvements": "To improve", "follow_up": "Follow-up question"}
_ESCAPES = {"n": "\n", "t": " ", '"': '"', "\\": "\\", "/": "/", "b": "", "f": "", "r": ""}


class JsonProse:
    """Feeds on raw JSON pieces; passes the text of the labelled string values to `emit` as it arrives."""

    def __init__(self, emit: Callable[[str], None], labels: dict[str, str] | None = None) -> None:
        self.emit = emit
        self.labels = LABELS if labels is None else labels
        self._in_string = False
        self._escape = ""
        self._is_key = True
        self._key = ""
        self._key_buf: list[str] = []
        self._stack: list[str] = []
        self._shown: set[str] = set()
        self._emitting = False

    def __call__(self, piece: str) -> None:
        """Consume one piece of raw output."""
        for ch in piece:
            self._feed(ch)

    def _feed(self, ch: str) -> None:
        if self._in_string:
            self._string_char(ch)
        elif ch == '"':
            self._open_string()
        elif ch in "{[":
            self._stack.append(ch)
            self._is_key = ch == "{"
        elif ch in "}]":
            if self._stack:
                self._stack.pop()
            self._is_key = bool(self._stack) and self._stack[-1] == "{"
        elif ch == ":":
            self._is_key = False
        elif ch == ",":
            self._is_key = bool(self._stack) and self._stack[-1] == "{"

    def _open_string(self) -> None:
        self._in_string = True
        if self._is_key:
            self._key_buf = []
            return
        label = self.labels.get(self._key)
        self._emitting = label is not None and len(self._stack) <= 2
        if self._emitting:
            first = self._key not in self._shown
            self._shown.add(self._key)
            if first:  # a blank line between sections, none before the first
                self.emit(("\n" if len(self._shown) > 1 else "") + f"{label}:\n")
            if self._stack and self._stack[-1] == "[":
                self.emit("• ")

    def _string_char(self, ch: str) -> None:
        if self._escape:
            self._escape += ch
            if self._escape.startswith("\\u"):
                if len(self._escape) < 6:
                    return
                text = _unicode(self._escape[2:])
            else:
                text = _ESCAPES.get(ch, ch)
            self._escape = ""
            self._out(text)
            return
        if ch == "\\":
            self._escape = ch
        elif ch == '"':
            self._close_string()
        else:
            self._out(ch)

    def _out(self, text: str) -> None:
        if self._is_key:
            self._key_buf.append(text)
        elif self._emitting:
            self.emit(text)

    def _close_string(self) -> None:
        self._in_string = False
        if self._is_key:
            self._key = "".join(self._key_buf)
        elif self._emitting:
            self.emit("\n")
            self._emitting = False


def _unicode(hex_digits: str) -> str:
    try:
        return chr(int(hex_digits, 16))
    except ValueError:
        return ""
