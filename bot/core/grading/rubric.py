"""The rubric: key points matched to the answer's sentences by embedding similarity, scored in code."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.bank import Entry
from bot.core.embedder import Embedder

# How a key point is matched: the cosine similarity of the point with each sentence and each pair of adjacent
# sentences of the answer, minus TOPIC_DISCOUNT times that unit's similarity to the question, so that a sentence
# which only restates the topic ("Dropout is a regularizer.") does not match every point of a dropout question.
TOPIC_DISCOUNT = 0.10
# A point is covered when its best match reaches THRESHOLD. Calibrated on the point-level labels of the labeled
# answers (strong and partial ones; wrong ones say true-sounding words and are left to the contradiction check):
# the threshold with the best F1 is kept. Re-run `python benchmarks/calibrate_rubric.py` after changing the deck,
# the labels or the embedder; it prints F1 and accuracy per threshold and the pairwise order of the scores.
THRESHOLD = 0.43
# A covered point earns COVERED_BASE of its share at the threshold, rising to all of it FULL_AFTER above: a close
# paraphrase beats a vague mention, so strong answers rank above wrong ones that only reuse the right words.
COVERED_BASE = 0.8
FULL_AFTER = 0.25
# Just below the threshold a point earns partial credit, up to PARTIAL_MAX, falling to 0 over PARTIAL_BAND.
PARTIAL_BAND = 0.10
PARTIAL_MAX = 0.5
# Relevance is the best raw similarity of any answer sentence to the question or a key point (the reference's
# checkable statements). The reference paragraphs themselves are not used: they mention neighbouring topics
# (the dropout answer talks about batch normalization), which let off-topic answers reach 0.77 on the labeled
# set, against 0.48 at most with the key points, while every partial answer stays above 0.51.
# The score is multiplied by 0 at OFF_TOPIC, rising to 1 at ON_TOPIC.
OFF_TOPIC = 0.45
ON_TOPIC = 0.52
CACHE_SIZE = 512


@dataclass(frozen=True)
class PointMatch:
    """One key point and the answer sentence that matches it best."""

    text: str
    similarity: float
    evidence: str | None
    credit: float

    @property
    def covered(self) -> bool:
        """Whether the point passed the threshold."""
        return self.credit >= COVERED_BASE


@dataclass(frozen=True)
class RubricResult:
    """Every point's match, the answer's relevance, and the score they give."""

    points: tuple[PointMatch, ...]
    relevance: float
    score: int
    # Each point's similarity with each sentence (not the pairs): where contradictions are looked for.
    by_sentence: tuple[tuple[float, ...], ...] = field(default=(), compare=False, repr=False)

    @property
    def off_topic(self) -> bool:
        """Whether the answer is not about the question: low relevance and no point covered."""
        return self.relevance < ON_TOPIC and not any(p.covered for p in self.points)


@dataclass(frozen=True)
class EntryVectors:
    """Cached embeddings of an entry: its key points and its question."""

    points: np.ndarray
    question: np.ndarray


def credit(similarity: float, threshold: float = THRESHOLD) -> float:
    """A point's share earned: COVERED_BASE to 1 when covered, up to PARTIAL_MAX just below the threshold."""
    if similarity >= threshold:
        return COVERED_BASE + (1 - COVERED_BASE) * min(1.0, (similarity - threshold) / FULL_AFTER)
    floor = threshold - PARTIAL_BAND
    return max(0.0, (similarity - floor) / PARTIAL_BAND) * PARTIAL_MAX


def relevance_factor(relevance: float) -> float:
    """0 when off-topic, 1 when clearly on topic, linear in between."""
    return float(np.clip((relevance - OFF_TOPIC) / (ON_TOPIC - OFF_TOPIC), 0.0, 1.0))


def score_of(credits: Sequence[float], relevance: float) -> int:
    """The rubric score: the mean credit of the points, times the relevance factor, as 0-100."""
    if not credits:
        return 0
    return int(round(100 * float(np.mean(credits)) * relevance_factor(relevance)))


def windows(sentences: Sequence[str]) -> list[str]:
    """Pairs of adjacent sentences, so a point explained over two sentences can still match."""
    return [f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False)]


class Rubric:
    """Matches an answer's sentences against an entry's key points; one embed call per warm answer."""

    def __init__(self, embedder: Embedder, threshold: float = THRESHOLD) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._cache: OrderedDict[tuple[str, str], EntryVectors] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, entry: Entry) -> EntryVectors:
        """The entry's cached vectors (embedded on first use: call it when the question is shown)."""
        key = (entry.id, entry.content_hash())
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        matrix = self.embedder.embed([*entry.points, entry.question])
        cached = EntryVectors(points=matrix[:-1], question=matrix[-1])
        with self._lock:
            self._cache[key] = cached
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return cached

    def grade(self, entry: Entry, sentences: Sequence[str]) -> RubricResult:
        """Match every key point with its best sentence or window of the answer, then score."""
        vectors = self.vectors(entry)
        if not sentences:
            points = tuple(PointMatch(p, 0.0, None, 0.0) for p in entry.points)
            return RubricResult(points, 0.0, 0)
        units = self.embedder.embed([*sentences, *windows(sentences)])
        raw = vectors.points @ units.T
        on_question = units @ vectors.question
        relevance = float(max(raw[:, : len(sentences)].max(), on_question[: len(sentences)].max()))
        sims = raw - TOPIC_DISCOUNT * on_question[None, :]
        points = tuple(self._match(text, row, sentences) for text, row in zip(entry.points, sims, strict=True))
        by_sentence = tuple(tuple(round(float(v), 4) for v in row[: len(sentences)]) for row in sims)
        return RubricResult(points, relevance, score_of([p.credit for p in points], relevance), by_sentence)

    def _match(self, text: str, row: np.ndarray, sentences: Sequence[str]) -> PointMatch:
        """A point's best unit; for a window the evidence is its better-matching sentence."""
        best = int(row.argmax())
        similarity = float(row[best])
        n = len(sentences)
        index = best if best < n else (best - n if row[best - n] >= row[best - n + 1] else best - n + 1)
        return PointMatch(text, round(similarity, 4), sentences[index], credit(similarity, self.threshold))

    def match_point(self, entry: Entry, point_index: int, sentences: Sequence[str]) -> PointMatch:
        """One key point against an answer (a follow-up's answer), without the relevance scaling."""
        if not sentences:
            return PointMatch(entry.points[point_index], 0.0, None, 0.0)
        vectors = self.vectors(entry)
        units = self.embedder.embed([*sentences, *windows(sentences)])
        row = units @ vectors.points[point_index] - TOPIC_DISCOUNT * (units @ vectors.question)
        return self._match(entry.points[point_index], row, sentences)
