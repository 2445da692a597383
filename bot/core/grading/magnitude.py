"""A large effect said to be small: "cutting the training time by about 10 to 20 percent" for "train much faster".

A point that says something is much faster, much more or needs large amounts is contradicted by a clause that puts
a small figure on the same thing: a gain of a few percent, or "a few hundred examples are enough". The clause must
share the point's words, and a clause that compares with the other side ("while classic models get by with a few
hundred examples") or denies is left alone: it says the point again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.grading.vocabulary import is_content, text_stems

# A point's large effect: "much faster", "significantly more", "large amounts of data"
_LARGE = re.compile(r"(?i)\b(?:much|far|significantly|dramatically|substantially|vastly|massively)\s+"
                    r"(?:faster|more|quicker|higher|larger|greater|better)\b|"
                    r"\b(?:large|huge|massive|vast|enormous)\s+(?:amounts?|quantities|volumes?)\b")
# What a clause says small: a gain of at most _FEW percent, or a few hundred examples being enough
_PERCENT = re.compile(r"(?i)\b(?:by|only|just|about|around|roughly|merely)\s+(?:about\s+|around\s+|roughly\s+)?"
                      r"(\d+(?:\.\d+)?)(?:\s*(?:to|-|–)\s*(\d+(?:\.\d+)?))?\s*(?:percent|%)")
_FEW = 30.0
_ENOUGH = re.compile(r"(?i)\b(?:a\s+few|only\s+a\s+few|several)\s+(?:dozen|hundred)\b.*\b(?:enough|suffice\w*|"
                     r"sufficient)\b")
_ASIDE = re.compile(r"(?i)\b(?:while|whereas|unlike|than|traditional|classic\w*|shallow|not|no|never|n't|without|"
                    r"instead|rather)\b|n't\b")
_CLAUSE = re.compile(r"[;:]|,\s+(?=(?:and|but|while|whereas|so|which|although|though)\b)")
MIN_SHARED = 2  # content stems a clause shares with the point


def _small(clause: str) -> bool:
    """Whether the clause puts a small figure on an effect."""
    for m in _PERCENT.finditer(clause):
        top = float(m.group(2) or m.group(1))
        if top <= _FEW:
            return True
    return bool(_ENOUGH.search(clause))


def shrunk(sentence: str, points: Sequence[str], near: Sequence[int]) -> list[tuple[int, str]]:
    """The point and the clause where the sentence makes the point's large effect small."""
    large = [p for p in near if _LARGE.search(points[p])]
    if not large:
        return []
    for clause in _CLAUSE.split(sentence):
        if not _small(clause) or _ASIDE.search(clause):
            continue
        words = {s for s in text_stems(clause)[0] if is_content(s)}
        # the point the clause says most of: "very little training data" is the data point's, not "large volumes"
        shared = {p: len(words & {s for s in text_stems(points[p])[0] if is_content(s)}) for p in large}
        best = max(large, key=lambda p: shared[p])
        if shared[best] >= MIN_SHARED:
            return [(best, clause.strip(" ,"))]
    return []
