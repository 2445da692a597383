"""Two sibling terms that trade places: "oversample the majority class or undersample the minority class".

A point that names two siblings, each next to a word of its own ("oversamples the minority class or undersamples the
majority class"), is said the wrong way round by a clause that puts each sibling next to the other's word. The
word-aligned check (claims.py) lets any term within reach of a shared word agree, and in a short point both siblings
are within reach of both words; here only the word right beside each term counts, and both must be exchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.grading import conflict_words as W
from bot.core.grading import sides
from bot.core.grading.vocabulary import GENERIC, Vocabulary, clauses, is_content

# Words that may stand between a term and the word it goes with ("oversample the minority class").
_LINKS = frozenset({"the", "a", "an", "each", "every", "its", "their", "is", "are", "be", "get", "gets"})


def _beside(side: sides.Side, start: int, end: int, step: int) -> str | None:
    """The content word right before (step -1) or after (step 1) a term, across articles only."""
    k = start - 1 if step < 0 else end
    while 0 <= k < len(side.stems) and side.stems[k] in _LINKS:
        k += step
    if not 0 <= k < len(side.stems) or side.stems[k] in W.PUNCT or not is_content(side.stems[k]):
        return None
    if any(a <= k < b for a, b, _ in side.occurrences):
        return None
    return side.stems[k]


def _pairs(side: sides.Side, group: int, step: int) -> dict[int, set[str]]:
    """Each class of a group with the words beside its occurrences."""
    out: dict[int, set[str]] = {}
    for a, b, term in side.occurrences:
        if term.group == group and (word := _beside(side, a, b, step)) is not None:
            out.setdefault(term.cls, set()).add(word)
    return out


def crossed(sentence: str, points: Sequence[str], vocabulary: Vocabulary, candidates: Sequence[int]
            ) -> list[tuple[int, str]]:
    """(point, quote) for each clause that exchanges the words of a point's two sibling terms."""
    out = []
    for a, b in clauses(sentence):
        clause = sides.text_side(sentence[a:b], vocabulary)
        for p in candidates:
            point = sides.point_side(points[p], vocabulary)
            named = [t for _, _, t in point.occurrences if 0 <= t.group < GENERIC]
            for group in {t.group for t in named}:
                classes = {t.cls for t in named if t.group == group}
                if len(classes) != 2 or sum(t.group == group for t in named) != 2:
                    continue
                for step in (-1, 1):
                    theirs, mine = _pairs(point, group, step), _pairs(clause, group, step)
                    if len(theirs) != 2 or set(mine) != classes:
                        continue
                    first, second = sorted(classes)
                    words = theirs[first] | theirs[second]
                    if theirs[first] & theirs[second] or not mine[first] | mine[second] <= words:
                        continue
                    if mine[first] <= theirs[second] and mine[second] <= theirs[first]:
                        out.append((p, sentence[a:b].strip()))
    return out
