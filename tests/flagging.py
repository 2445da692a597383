"""What the claim check finds in an answer, as the claim-check tests compare it: (kind, quoted words)."""

from __future__ import annotations

from pathlib import Path

from bot.core.bank import Bank, Entry, load_bank
from bot.core.grading.grader import Grader


def flags(grader: Grader, entry: Entry, text: str) -> list[tuple[str, str]]:
    """(kind, quote) of every contradiction the grader finds in an answer to the entry."""
    return [(c.kind, c.quote) for c in grader.rubric_grade(entry, text).contradictions]


def deck_of(folder: Path, text: str) -> Bank:
    """A bank loaded from one deck file written into `folder` (a test's own deck, in the bank format)."""
    (folder / "deck.yaml").write_text(text, encoding="utf-8")
    return load_bank(folder)
