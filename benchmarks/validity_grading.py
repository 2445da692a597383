"""The UNT answers graded rubric-only, exactly as the product grades them, with embeddings batched up front."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.unt import StudentAnswer
from bot.core.bank import Entry
from bot.core.embedder import Embedder, Encoded
from bot.core.grading import rubric
from bot.core.grading.grader import Grade, Grader, penalised_credits
from bot.core.grading.guards import screen

BLOCKED = ("empty", "dont_know", "gibberish", "echo", "off_topic")   # guards that score 0 before the rubric


class BatchedEmbedder:
    """Wraps an embedder: texts encoded in large batches up front, then served from memory (same vectors)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._encoded: dict[str, Encoded] = {}

    def prefetch(self, texts: Sequence[str]) -> None:
        """Encode every text not seen yet, in one call."""
        new = [t for t in dict.fromkeys(texts) if t not in self._encoded]
        if new:
            self._encoded.update(zip(new, self.inner.encode(new), strict=True))

    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        """Encodings from memory (anything unseen is encoded now)."""
        self.prefetch(texts)
        return [self._encoded[t] for t in texts]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence vectors from memory."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([e.vector for e in self.encode(texts)])


def rubric_texts(entries: Sequence[Entry], answers: Sequence[StudentAnswer]) -> list[str]:
    """What the rubric will encode: the points and every answer's sentences (a miss only costs time)."""
    return [p for e in entries for p in e.points] + [s for a in answers for s in screen(a.text).sentences]


@dataclass
class Row:
    """One graded answer."""

    answer: StudentAnswer
    grade: Grade
    seconds: float = 0.0
    llm_score: int | None = None
    contradictions: int = 0

    def similarities(self) -> np.ndarray:
        """Each key point's similarity (0 for a blocked answer)."""
        return np.array([p.similarity for p in self.grade.key_points], float)


def grade_all(grader: Grader, bank: dict[str, Entry], answers: Sequence[StudentAnswer]) -> list[Row]:
    """Rubric-only grades of every answer, timed."""
    rows = []
    for answer in answers:
        entry = bank[answer.entry_id]
        started = time.perf_counter()
        grade = grader.rubric_grade(entry, answer.text)
        rows.append(Row(answer, grade, seconds=time.perf_counter() - started))
    return rows


def rescored(row: Row, threshold_few: float, band_few: float) -> float:
    """The product's score of a row with other constants: same guards, same contradiction penalty."""
    grade = row.grade
    if grade.guard in BLOCKED or grade.result is None:
        return 0.0
    sims = row.similarities()
    threshold, band = (threshold_few, band_few) if len(sims) <= rubric.FEW_POINTS else (rubric.THRESHOLD, rubric.BAND)
    credits = [rubric.credit(float(v), band, threshold) for v in sims]
    if grade.contradictions:
        return float(penalised_credits(credits, {c.point for c in grade.contradictions}))
    return float(rubric.terse_capped(rubric.score_of(credits), len(sims), grade.sentences))
