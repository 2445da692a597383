"""A thing given to the other party: "a second opinion that reinforces the model's diagnosis" for "the models act as a
second opinion supporting a doctor's diagnosis".

A point that names two parties and gives one of them a thing with a possessive ("a doctor's diagnosis") is said the
wrong way round by a sentence that says what the point says and gives that thing to the other party ("the model's
diagnosis") without giving it to the first too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.grading.conflicts import stem
from bot.core.grading.vocabulary import is_content, text_stems

_OWNED = re.compile(r"\b([A-Za-z][\w-]*)['’]s?\s+([A-Za-z][\w-]*)")
MIN_SHARED = 2  # content stems the sentence shares with the point, past the two parties and the thing


def _owned(text: str) -> set[tuple[str, str]]:
    """The (owner, thing) stems of a text's possessives: "a doctor's diagnosis", "the models' outputs"."""
    out = set()
    for m in _OWNED.finditer(text):
        mark = text[m.end(1):m.start(2)].strip()
        if mark in ("'s", "’s") or (mark in ("'", "’") and m.group(1).endswith("s")):
            out.add((stem(m.group(1).lower()), stem(m.group(2).lower())))
    return out


_CLAUSE = re.compile(r"[;:]|,\s+|\s+(?:while|whereas|but)\s+")


def given_over(sentence: str, points: Sequence[str], near: Sequence[int]) -> list[tuple[int, str]]:
    """The point and the clause where the point's owned thing is given to the point's other party."""
    if not _owned(sentence):
        return []
    for clause in _CLAUSE.split(sentence):
        mine = _owned(clause)
        words = {s for s in text_stems(clause)[0] if is_content(s)}
        for p in near:
            stems = {s for s in text_stems(points[p])[0] if is_content(s)}
            for owner, thing in _owned(points[p]):
                others = {o for o, t in mine if t == thing and o != owner and o in stems}
                rest = words & stems - {owner, thing, *others}
                # the first party keeps the thing elsewhere in the sentence: both are said
                if others and (owner, thing) not in _owned(sentence) and len(rest) >= MIN_SHARED:
                    return [(p, clause.strip())]
    return []
