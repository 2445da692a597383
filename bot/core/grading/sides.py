"""A text as stems and term occurrences, and how a clause of an answer lines up with a key point."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.grading import anchors
from bot.core.grading import conflict_words as W
from bot.core.grading.conflicts import stem
from bot.core.grading.vocabulary import GENERIC, NUMBER, Term, Vocabulary, is_content, text_stems

# A term is checked against the point's terms that stand within this many content words of a shared word.
WINDOW = 2
SUBJECT_AFTER = 1  # content words that may stand before a subject ("In a GAN, the ...")


@dataclass
class Side:
    """A text as stems, its content positions and its term occurrences."""

    stems: list[str]
    spans: list[tuple[int, int]]
    occurrences: list[tuple[int, int, Term]]
    compounds: frozenset[tuple[str, str]] = frozenset()
    text: str = ""

    def content(self, group: int | None = None) -> list[int]:
        """Positions of content words outside the terms (of one group, or of any); a compound's modifier is part of
        its head."""
        inside = {k for a, b, t in self.occurrences if group is None or t.group == group for k in range(a, b)}
        return [k for k, s in enumerate(self.stems) if k not in inside and is_content(s)
                and not (k + 1 < len(self.stems) and (s, self.stems[k + 1]) in self.compounds)]


_LEADING_PRONOUN = re.compile(r"^(?:It|They|This|These)\b(?!\s+(?:is|are)\s+(?:a|an|the)\b)")


def point_side(text: str, vocabulary: Vocabulary) -> Side:
    """A key point as stems; a leading "It" or "They" stands for what the question asks about."""
    # "This Person Does Not Exist uses GANs": "This" is a determiner there, it stands for nothing.
    if vocabulary.topic and _LEADING_PRONOUN.match(text) and anchors.pronoun_first(text):
        text = _LEADING_PRONOUN.sub(vocabulary.topic, text, count=1)
    return text_side(text, vocabulary)


def text_side(text: str, vocabulary: Vocabulary) -> Side:
    """A text as stems with its term occurrences."""
    stems, spans = text_stems(text)
    # "-1": the sign is not a token of its own.
    stems = [f"-{s}" if NUMBER.fullmatch(s) and a > 0 and text[a - 1] == "-" and (a == 1 or not text[a - 2].isalnum())
             else s for s, (a, _) in zip(stems, spans, strict=True)]
    occurrences = vocabulary.find(stems, owned=False) + \
        [(k, k + 1, Term((s,), -1, 0)) for k, s in enumerate(stems) if NUMBER.fullmatch(s)]
    return Side(stems, spans, sorted(occurrences, key=lambda x: x[0]), vocabulary.compounds, text)


GENERIC_STEMS = frozenset(stem(w) for families in W.FAMILIES for family in families for w in family)


def generic(term: Term) -> bool:
    """Whether a term is a generic word ("low", "first"): it may stand on either side of what it describes."""
    return term.group >= GENERIC or (len(term.stems) == 1 and term.stems[0] in GENERIC_STEMS)


def window(group: int) -> int:
    """How far a term reaches: a generic word ("low", "first") only its neighbour, a named term further."""
    return 1 if group >= GENERIC else WINDOW


def lists(side: Side, group: int) -> list[list[tuple[int, int, Term]]]:
    """The group's occurrences in runs joined only by commas, "and", "or" ("edges, shapes and textures")."""
    runs: list[list[tuple[int, int, Term]]] = []
    for occurrence in [o for o in side.occurrences if o[2].group == group]:
        if runs and all(side.stems[k] in (",", "and", "or") or side.stems[k] in W.WEAK
                        for k in range(runs[-1][-1][1], occurrence[0])):
            runs[-1].append(occurrence)
        else:
            runs.append([occurrence])
    return runs


def near(side: Side, position: int, group: int, before: bool | None = None) -> list[tuple[int, Term]]:
    """Terms of a group within reach of a position, with their distance; only those before it (or after it) when
    asked: a named term keeps its side of the shared word ("GPUs are faster than CPUs"). Every item of a list is
    as near as its nearest item."""
    content = side.content(group)
    out = []
    for run in lists(side, group):
        distances = []
        for a, b, _ in run:
            if before is not None and (a < position) != before:
                continue
            lo, hi = min(a, position), max(b - 1, position)
            between = sum(1 for k in content if lo < k < hi)
            blocked = any(side.stems[k] in W.PUNCT for k in range(lo + 1, hi)
                          if not run[0][0] <= k < run[-1][1])
            # A describing word (a generic family) after "and" is said of what follows it: in "textures and more
            # complex features" complex describes the features, not the textures.
            blocked = blocked or (group >= GENERIC and a > position and
                                  any(side.stems[k] in ("and", "or") for k in range(position + 1, a)))
            if between < window(group) and not blocked:
                distances.append(between)
        if distances:
            out += [(min(distances), term) for _, _, term in run]
    return sorted(out, key=lambda x: x[0])


def overlap(a: Side, b: Side, terms: bool = True) -> tuple[int, float]:
    """Content words and terms of a that b has too, and their share of b's: words match by stem (one may contain
    the other), terms only exactly ("labeled" is not "unlabeled")."""
    words = {a.stems[k] for k in a.content()}
    theirs = {b.stems[k] for k in b.content()}
    mine = {" ".join(t.stems) for _, _, t in a.occurrences}
    their_terms = {" ".join(t.stems) for _, _, t in b.occurrences}
    shared = {w for w in words if any(w == t or (min(len(w), len(t)) >= 5 and (w in t or t in w)) for t in theirs)}
    count = len(shared) + (len(mine & their_terms) if terms else 0)
    return count, count / max(1, len(theirs) + len(their_terms))


def best_point(clause: str, points: Sequence[str], vocabulary: Vocabulary) -> int | None:
    """The key point a clause shares most words and terms with (None when none stands out)."""
    side = text_side(clause, vocabulary)
    scored = sorted(((overlap(side, point_side(p, vocabulary)), i) for i, p in enumerate(points)), reverse=True)
    if not scored or scored[0][0][0] == 0 or (len(scored) > 1 and scored[1][0][0] == scored[0][0][0]):
        return None
    return scored[0][1]


def leading(side: Side, position: int) -> bool:
    """Whether at most SUBJECT_AFTER content words stand before this position."""
    return sum(1 for k in range(position) if is_content(side.stems[k])) <= SUBJECT_AFTER


def share_of(clause: Side, point: Side) -> float:
    """The share of the point's content words and terms that the clause says."""
    return overlap(clause, point)[1]
