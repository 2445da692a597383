"""The pairwise check: each sentence against the key points it restates, for a denial, an opposite or a number."""

from __future__ import annotations

from collections.abc import Sequence, Set
from typing import TYPE_CHECKING

from bot.core.grading import conflict_words as W
from bot.core.grading.bindings import binding_conflict
from bot.core.grading.conflicts import (
    Contradiction,
    negated,
    negation_conflict,
    stem,
    tokenize,
    tokens,
    topic_stems,
)
from bot.core.grading.opposites import opposite_conflict
from bot.core.grading.values import number_conflict, numbers, range_conflict, ranges
from bot.core.grading.vocabulary import clauses

if TYPE_CHECKING:
    from bot.core.grading.rubric import RubricResult

# A sentence is checked against the points it matches best, within this much similarity of its best one.
MARGIN = 0.05
# A sentence that gives a range is checked against the nearest point with a range from this similarity (plain cosine).
RANGE_FLOOR = 0.3


def conflict(sentence: str, point: str, topic: set[str], plain: Set[str] = frozenset(),
             aside: Set[str] = frozenset()) -> tuple[str, str] | None:
    """The first conflict between a sentence and a key point: its kind and the sentence's words that show it."""
    _, spans = tokenize(sentence)
    for kind, found in (("negation", negation_conflict(sentence, point, topic, plain, aside)),
                        ("opposite", opposite_conflict(sentence, point))):
        if found:
            a, b = found
            return kind, sentence[spans[a][0]:spans[b - 1][1]]
    chars = number_conflict(sentence, point) or binding_conflict(sentence, point)
    return ("number", sentence[chars[0]:chars[1]].strip()) if chars else None


def _given_elsewhere(quote: str, points: Sequence[str], p: int) -> bool:
    """Whether every number of the quote is one another key point gives."""
    said = numbers(quote)
    if ranges(quote):
        return False
    others = {n for q, point in enumerate(points) if q != p for n in numbers(point)}
    return bool(said) and all(n in others for n in said)


def _ranged_by_another(sentence: str, points: Sequence[str], ranged: Sequence[int], p: int) -> bool:
    """Whether each range of the sentence is the range of the term its clause is about, another point's than p:
    "Tanh maps into -1 to 1, which trains better than sigmoid" states tanh's range, whatever point its words are
    nearest, while in "sigmoid gives -1 to 1, while tanh keeps between 0 and 1" each clause gives the other's. What
    a clause is about is the point whose own words (those no other ranged point has) it says first."""
    own = {q: {stem(w) for w in tokens(points[q])} - {stem(w) for r in ranged if r != q for w in tokens(points[r])}
           for q in ranged}
    subjects = []
    for low, high, (at, _) in ranges(sentence):
        clause = next((sentence[a:b] for a, b in clauses(sentence) if a <= at < b), sentence)
        said = [stem(w) for w in tokens(clause)]
        first = {q: next((i for i, w in enumerate(said) if w in own[q] and w not in W.WEAK), len(said)) for q in ranged}
        subject = min(first, key=lambda q: first[q], default=None)
        if subject is None or first[subject] == len(said) or \
                not any((low, high) == (a, b) for a, b, _ in ranges(points[subject])):
            return False
        subjects.append(subject)
    return bool(subjects) and any(q != p for q in subjects)


def pairs(result: RubricResult, sentences: Sequence[str], floor: float) -> list[tuple[int, int]]:
    """(sentence, point) pairs worth checking: the sentence is about the point, not merely near the topic.

    A pair qualifies when the similarity earns partial credit at least and the point is the sentence's best match
    (within MARGIN) or the sentence is the point's evidence; checking every pair flagged correct answers.
    """
    out = []
    for s in range(min(len(sentences), len(result.by_sentence[0]) if result.by_sentence else 0)):
        best = max(row[s] for row in result.by_sentence)
        for p, row in enumerate(result.by_sentence):
            if row[s] >= floor and (row[s] >= best - MARGIN or result.points[p].evidence == sentences[s]):
                out.append((s, p))
    return out


def find(question: str, points: Sequence[str], result: RubricResult, sentences: Sequence[str],
         floor: float, aside: Sequence[Set[str]] = ()) -> list[Contradiction]:
    """The answer's statements that contradict a key point: at most one per point, each with its quote; aside: the
    stems each point says only in a modifier."""
    topic = topic_stems(question, points)
    plain = negated(tokens(" ".join(sentences)))[1]
    found: dict[int, Contradiction] = {}
    ranged = [p for p, point in enumerate(points) if ranges(point)]
    for s, p in pairs(result, sentences, floor):
        if p in found:
            continue
        hit = conflict(sentences[s], points[p], topic, plain, aside[p] if aside else frozenset())
        # A number another point gives is that point's, said in a merged sentence ("limits requests, and you get a
        # 429"), not a wrong value for this one.
        if hit and hit[0] == "number" and (_given_elsewhere(hit[1], points, p) or
                                           (ranges(hit[1]) and _ranged_by_another(sentences[s], points, ranged, p))):
            continue
        if hit:
            found[p] = Contradiction(p, hit[1], points[p], hit[0])
    # A range is checked against the range of the point nearest it, whatever the rest of the sentence says ("The
    # rate is usually between 0.7 and 0.9." is far from the point by its words): it is wrong when it is none of the
    # point's, overlapping or not ("from minus one to one" for softmax's "between 0 and 1").
    for s, sentence in enumerate(sentences[: len(result.by_sentence[0]) if result.by_sentence else 0]):
        if not ranged or not ranges(sentence):
            continue
        p = max(ranged, key=lambda q: result.by_sentence[q][s])
        if _ranged_by_another(sentence, points, ranged, p):
            continue
        if p not in found and result.by_sentence[p][s] >= RANGE_FLOOR and (other := range_conflict(sentence,
                                                                                                   points[p])):
            found[p] = Contradiction(p, sentence[other[0]:other[1]].strip(), points[p], "number")
    return [found[p] for p in sorted(found)]
