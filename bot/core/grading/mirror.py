"""The mirror check: a clause that says, in the reference's own words, what the reference says of a sibling term.

"Dropout is applied only at prediction time" has the words of the reference's "dropout is only applied during
training" with the phase exchanged; "if the learning rate is too small, each update overshoots the minimum" has the
words of "too high a learning rate overshoots". For each term of a clause (a named term of the entry, or a phase or
direction word), the reference statements (its key points and the clauses of its answer) that share most of the
clause's other content words are looked up: when they name a sibling term and never this one, and no statement
with this term says as much, the clause mirrors the reference. It must also turn nothing around that the statement
does not (a negation), and not name the sibling itself (it then describes both sides).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.grading import anchors
from bot.core.grading import conflict_words as W
from bot.core.grading.vocabulary import GENERIC, LOOSE, Term, Vocabulary, clauses, is_content, text_stems

# A statement mirrors a clause when it has at least MIN_SHARED of the clause's content words (its terms left out) ...
MIN_SHARED = 3
# ... and at least this share of them.
MIN_SHARE = 0.5
# ... of which at least this many stand near the term in the clause and near the sibling in the statement.
MIN_ANCHORED = 2
_PHASE = GENERIC + W.PHASES


@dataclass(frozen=True)
class Mirror:
    """A clause that gives the reference's claim to a sibling term: the key point, the answer's words, the terms."""

    point: int
    quote: str
    said: str
    expected: str


def _has(statement: frozenset[str], term: Term) -> bool:
    """Whether a statement's stems include the term."""
    return set(term.stems) <= statement


def mirrors(sentence: str, points: Sequence[str], vocabulary: Vocabulary,
            statements: Sequence[Statement]) -> list[Mirror]:
    """The clauses of a sentence that mirror a reference statement, each with the point naming the sibling term."""
    point_stems = [frozenset(text_stems(p)[0]) for p in points]
    found: list[Mirror] = []
    for a, b in clauses(sentence):
        stems, spans = text_stems(sentence[a:b])
        if not any(s in W.NEGATIONS for s in stems):
            _mirrored(stems, spans, a, sentence[a:b], vocabulary, statements, point_stems, found,
                      _listed_before(sentence[:a]))
    return found


def _listed_before(before: str) -> frozenset[str]:
    """The stems of the list items that stand before a clause cut at a list's last "and" ("like Adam, RMSprop, and
    | SGD have ..."): the clause's term is one item of that list, so a sibling among them is named with it."""
    joined = re.search(r",?\s*\b(?:and|or)\s*$", before)
    if joined is None:
        return frozenset()
    items = []
    for piece in reversed(before[:joined.start()].split(",")):
        words = piece.split()
        if not words:
            break
        items.append(piece if len(words) <= 3 else " ".join(words[-3:]))
        if len(words) > 3:
            break
    return frozenset(s for item in items for s in text_stems(item)[0]) if len(items) >= 2 else frozenset()


@dataclass(frozen=True)
class Statement:
    """A clause of the reference answer or of a key point: its text and its stems."""

    text: str
    stems: frozenset[str]


def statements_of(points: Sequence[str], vocabulary: Vocabulary) -> tuple[Statement, ...]:
    """The reference's statements: each clause of its answer and of its key points."""
    texts = (vocabulary.stated_texts or ("",) * len(vocabulary.stated)) + \
        tuple(p[a:b] for p in points for a, b in clauses(p))
    stems = vocabulary.stated + tuple(frozenset(text_stems(t)[0]) for t in texts[len(vocabulary.stated):])
    return tuple(Statement(t, s) for t, s in zip(texts, stems, strict=True))


def _anchored(clause: str, span: tuple[int, int], statement: Statement, term: Term,
              own: frozenset[str]) -> frozenset[str]:
    """The stems that stand near the term in the clause and near the sibling term in the statement (within
    anchors.REACH arcs of each): the words both say of their term, not merely words both contain. Empty unless a
    word that one term hangs from stands near the other term too (own: the stems of the terms, left out)."""
    stems, spans = text_stems(clause)
    s_stems, s_spans = text_stems(statement.text)
    at = next((k for k in range(len(s_stems)) if tuple(s_stems[k:k + len(term.stems)]) == term.stems), None)
    if at is None:
        return frozenset()
    place = (s_spans[at][0], s_spans[at + len(term.stems) - 1][1])
    mine = anchors.near_stems(clause, span, stems, spans) - own
    theirs = anchors.near_stems(statement.text, place, s_stems, s_spans) - own
    # "computes the mean ... across the examples" is not "normalizes across the features": the words are near both
    # terms, but the verbs the terms hang from differ.
    heads = [{s for w in anchors.governors(t, p, 3) for s in text_stems(w)[0]} - own
             for t, p in ((clause, span), (statement.text, place))]
    if not (heads[0] & (theirs | heads[1]) or heads[1] & (mine | heads[0])):
        return frozenset()
    return mine & theirs


def _phrased_alike(stems: Sequence[str], start: int, end: int, term: Term, statements: Sequence[Statement]) -> bool:
    """Whether a statement of the reference says the generic word with the same word after it ("focusing on different
    parts of the sequence" for "focus on different parts of the input"): the clause uses it as the reference does."""
    after = next((s for s in stems[end:end + 2] if is_content(s)), None)
    if after is None:
        return False
    for statement in statements:
        own = text_stems(statement.text)[0]
        n = len(term.stems)
        if any(tuple(own[k:k + n]) == term.stems and after in own[k + n:k + n + 2] for k in range(len(own) - n + 1)):
            return True
    return False


def _mirrored(stems: list[str], spans: list[tuple[int, int]], offset: int, clause_text: str, vocabulary: Vocabulary,
              statements: Sequence[Statement], point_stems: Sequence[frozenset[str]], found: list[Mirror],
              listed: frozenset[str] = frozenset()) -> bool:
    """Append the clause's first mirrored term to found; whether there was one (listed: the stems of a list the clause
    ends)."""
    clause = frozenset(stems)
    occurrences = vocabulary.find(stems)
    # The clause's own terms (of any group: "after" is a direction word too) are not what it shares.
    named = {s for _, _, t in occurrences for s in t.stems}
    for start, end, term in occurrences:
        if term.group < 0 or term.group in LOOSE:
            continue
        group = [t for t in vocabulary.terms if t.group == term.group]
        siblings = [t for t in group if t.cls != term.cls]
        if any(set(t.stems) <= clause | listed for t in siblings):
            continue
        span = (spans[start][0], spans[end - 1][1])
        # "the trained model": a phase word that only describes a noun says what the thing is, not when it happens.
        if term.group == _PHASE and anchors.modifies_noun(clause_text, span):
            continue
        # "a small step in the opposite direction": a size word describing a noun the reference's statement does not
        # size ("the fastest increase of the function") says what the thing is, it reverses nothing
        if term.group == GENERIC and anchors.modifies_noun(clause_text, span):
            noun = next((s for s in stems[end:end + 3] if is_content(s)), None)
            if noun is not None and not any(noun in st.stems and any(_has(st.stems, t) for t in siblings)
                                             for st in statements):
                continue
        if term.group >= GENERIC and term.group != _PHASE and _phrased_alike(stems, start, end, term, statements):
            continue
        inside = {s for t in group for s in t.stems}
        content = {s for s in stems if is_content(s) and s not in inside and s not in named}
        if len(content) < MIN_SHARED:
            continue
        need = max(MIN_SHARED, MIN_SHARE * len(content))
        agree = max((len(content & s.stems) for s in statements
                     if any(_has(s.stems, t) for t in group if t.cls == term.cls)), default=0)
        for statement in statements:
            shared = len(content & statement.stems)
            sibling = next((t for t in siblings if _has(statement.stems, t)), None)
            if sibling is None or shared < need or shared <= agree or \
                    any(_has(statement.stems, t) for t in group if t.cls == term.cls) or W.NEGATIONS & statement.stems:
                continue
            # The shared words must be said of the term on both sides, not only stand somewhere in both.
            if len(content & _anchored(clause_text, span, statement, sibling, frozenset(inside))) < MIN_ANCHORED:
                continue
            naming = [p for p, s in enumerate(point_stems) if _has(s, sibling)]
            if not naming:
                continue
            point = max(naming, key=lambda p: len(content & point_stems[p]))
            found.append(Mirror(point, clause_text[span[0]:span[1]], " ".join(term.stems), " ".join(sibling.stems)))
            return True
    return False
