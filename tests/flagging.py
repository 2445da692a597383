"""What the claim check finds in an answer, as the claim-check tests compare it: (kind, quoted words)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.bank import Bank, Entry, load_bank
from bot.core.grading.grader import Grader


def flags(grader: Grader, entry: Entry, text: str) -> list[tuple[str, str]]:
    """(kind, quote) of every contradiction the grader finds in an answer to the entry."""
    return [(c.kind, c.quote) for c in grader.rubric_grade(entry, text).contradictions]


def deck_of(folder: Path, text: str) -> Bank:
    """A bank loaded from one deck file written into `folder` (a test's own deck, in the bank format)."""
    (folder / "deck.yaml").write_text(text, encoding="utf-8")
    return load_bank(folder)


@dataclass(frozen=True)
class Question:
    """One question of a test's own deck (without points, the coach drafts them)."""

    qid: str
    question: str
    answer: str
    points: Sequence[str] = ()
    deck: str = "test"
    topic: str = "general"
    difficulty: int = 1


def one_question(folder: Path, q: Question) -> Entry:
    """The entry of a one-question deck written into `folder` in the bank format."""
    item: dict[str, object] = {"id": q.qid, "question": q.question, "topics": [q.topic], "difficulty": q.difficulty,
                               "kind": "concept", "answer": " ".join(q.answer.split()) + "\n"}
    if q.points:
        item["key_points"] = list(q.points)
    text = yaml.safe_dump({"deck": q.deck, "title": f"{q.deck.title()} questions", "topics": [q.topic],
                           "questions": [item]}, sort_keys=False, width=120)
    return deck_of(folder, text).get(q.qid)
