"""The levels of a network turned round: "the first layer already captures the most complex, whole-object patterns".

A point that pairs a position in the network with a level says which end does what: early layers see simple things
and later ones complex things ("each successive layer detects increasingly complex patterns"); with vanishing
gradients the early layers learn slowly. A clause that pairs one position with the other level contradicts it: the
first layer with whole objects, the layers near the output as the ones that stall. A clause that names both
positions or both levels ("from edges in the first layers to objects in the last") is a whole hierarchy, read as said
right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_EARLY = re.compile(r"(?i)\b(?:first|early|earlier|earliest|initial|lower(?!-)|shallow|shallower|beginning|"
                    r"(?:near|nearest|closest|close|next)\s+(?:to\s+)?the\s+input)\b")
_LATE = re.compile(r"(?i)\b(?:later|deeper|deepest|last|final|higher|subsequent|successive|consecutive|after\s+that|"
                   r"(?:near|nearest|closest|close|next)\s+(?:to\s+)?the\s+output)\b")
_SIMPLE = re.compile(r"(?i)\b(?:simple|simpler|simplest|basic|low-level|edges?|textures?|lines|corners|finer)\b")
_COMPLEX = re.compile(r"(?i)\b(?:complex|abstract|high-level|whole[- ]objects?|objects|object parts|faces|facial|"
                      r"shapes)\b")
_STALL = re.compile(r"(?i)\b(?:barely|hardly|stall\w*|stop(?:s|ped)? learning|(?:learn\w*|train\w*) (?:very )?slowly|"
                    r"suffer\w*)\b")
_LEARN = re.compile(r"(?i)\b(?:biggest|largest|healthy|normal(?:ly)?|keep (?:learning|training)|"
                    r"still (?:learn|train)\w*)\b")
# Each family of levels, with the way round the deck gives it when a point does not pair them itself: +1 pairs
# the early end with the family's first level
_LEVELS = ((_SIMPLE, _COMPLEX, 1), (_STALL, _LEARN, 0))
# A point that orders the levels without naming the early end: "increasingly complex", "than the previous one"
_ORDERED = re.compile(r"(?i)\b(?:increasingly|successive|previous)\b")
_CLAUSE = re.compile(r"[;:]|,\s+(?=(?:and|but|while|whereas|so|which|then)\b)|"
                     r"\s+(?:while|whereas|even though|although|though)\s+")


def _side(clause: str, one: re.Pattern[str], other: re.Pattern[str]) -> int:
    """+1 where the clause says only the first pattern's side, -1 only the other's, 0 both or neither."""
    a, b = bool(one.search(clause)), bool(other.search(clause))
    return 0 if a == b else (1 if a else -1)


def _pairing(text: str, lower: re.Pattern[str], upper: re.Pattern[str]) -> int:
    """How a text's first clause that pairs a position with a level pairs them: +1 early with the lower level."""
    for clause in _CLAUSE.split(text):
        position, level = _side(clause, _EARLY, _LATE), _side(clause, lower, upper)
        if position and level:
            return position * level
    return 0


def reversed_levels(sentence: str, points: Sequence[str], near: Sequence[int]) -> list[tuple[int, str]]:
    """The point and the clause where the sentence pairs a position and a level the other way from the point."""
    for lower, upper, usual in _LEVELS:
        for p in near:
            said = _pairing(points[p], lower, upper)
            if not said and usual and _ORDERED.search(points[p]) and (lower.search(points[p])
                                                                     or upper.search(points[p])):
                said = usual
            if not said:
                continue
            for clause in _CLAUSE.split(sentence):
                if _pairing(clause, lower, upper) == -said:
                    return [(p, clause.strip(" ,"))]
    return []
