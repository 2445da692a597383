"""What the claim check finds in an answer, as the claim-check tests compare it: (kind, quoted words)."""

from __future__ import annotations

from bot.core.bank import Entry
from bot.core.grading.grader import Grader


def flags(grader: Grader, entry: Entry, text: str) -> list[tuple[str, str]]:
    """(kind, quote) of every contradiction the grader finds in an answer to the entry."""
    return [(c.kind, c.quote) for c in grader.rubric_grade(entry, text).contradictions]
