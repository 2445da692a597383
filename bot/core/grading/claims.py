"""Who-does-what: a clause that restates a key point with one of its terms exchanged for a sibling term.

Each clause of the answer is aligned with the key point it shares most content words with. The terms of an entry
come in sibling groups (the generator and the discriminator, precision and recall, the input, forget and output
gates, training and inference, too high and too low, numbers); a term of the clause is checked against the term
that the point has in the same place, next to the same shared word. "The discriminator creates fake data" against
"The generator creates fake data that mimics real data" says of the discriminator what the reference says of the
generator: a swapped role, a swapped definition or the wrong entity. The groups come from the entry itself
(terms sharing a head noun, coordinated or compared terms, read by the dependency parse) and from a few generic
families (directions, phases, positions).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any
from dataclasses import dataclass, field

from bot.core.bank import Entry
from bot.core.grading import conflict_words as W
from bot.core.grading.conflicts import NUMBER_SLACK, stem, tokenize
from bot.core.grading.parse import Parser, shared

# A term is checked against the point's terms that stand within this many content words of a shared word.
WINDOW = 2
GENERIC = 10_000  # group numbers of the generic families start here
# A clause is aligned with a key point when they share at least this many content words (terms left out) ...
MIN_SHARED = 3
# ... and at least this share of the point's content words.
MIN_SHARE = 0.4
# Clause boundaries inside a sentence: a new clause starts after these ("X does A, and Y does B").
_CLAUSE = re.compile(r";|:|,\s+(?:and|but|while|whereas|whilst)\s+|\s+(?:while|whereas|whilst)\s+", re.IGNORECASE)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_POS_TERMS = frozenset({"NOUN", "PROPN", "ADJ"})
# Modifiers that quantify rather than name a kind ("much data", "other layers"): never a sibling term.
_QUANTIFIERS = frozenset({"much", "many", "more", "most", "some", "any", "other", "such", "same", "each", "every",
                          "several", "few", "little", "own", "certain", "various", "whole", "entire", "new", "old"})
# Words that turn a claim around: a clause with one of them (and a point without) says the point the other way.
_FLIPS = W.NEGATIONS | W.NEGATIVE_VERBS | {"opposite", "against", "reverse", "inverse", "penalty", "penalize",
                                           "penalizes", "penalise", "instead", "unlike", "rather"}


@dataclass(frozen=True)
class Term:
    """One term: its stems, and its class (terms of one class agree, of two classes of a group contradict)."""

    stems: tuple[str, ...]
    group: int
    cls: int


@dataclass(frozen=True)
class Vocabulary:
    """An entry's sibling terms, longest first, and its compounds (stem pairs read as one word: "learning rate")."""

    terms: tuple[Term, ...]
    compounds: frozenset[tuple[str, str]] = frozenset()
    by_first: dict[str, tuple[Term, ...]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[Term]] = {}
        for term in self.terms:  # longest first
            index.setdefault(term.stems[0], []).append(term)
        self.by_first.update({k: tuple(v) for k, v in index.items()})

    def find(self, stems: Sequence[str]) -> list[tuple[int, int, Term]]:
        """(start, end, term) of each term occurrence in a stem sequence, longest match first, no overlaps."""
        out: list[tuple[int, int, Term]] = []
        i = 0
        while i < len(stems):
            for term in self.by_first.get(stems[i], ()):
                if tuple(stems[i:i + len(term.stems)]) == term.stems:
                    out.append((i, i + len(term.stems), term))
                    i += len(term.stems) - 1
                    break
            i += 1
        return out


@dataclass(frozen=True)
class Swap:
    """A clause of the answer that gives a point's claim to another term: the answer's words, the point, the terms."""

    point: int
    quote: str
    said: str
    expected: str


def _stems(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Stems of the words of a text and their character spans (punctuation kept as tokens)."""
    words, spans = tokenize(text)
    return [w if _NUMBER.fullmatch(w) else stem(w) for w in words], spans


_FILLER = frozenset({"too", "very", "quite", "rather", "also", "usual", "typical", "often", "generally"})


def _is_content(s: str) -> bool:
    """Whether a stem carries content (not punctuation, a function word or a negation)."""
    return s not in W.WEAK and s not in W.PUNCT and s not in W.NEGATIONS and s not in _FILLER and \
        (len(s) > 2 or s.isdigit())


class Vocabularies:
    """The sibling terms of each entry, derived once (parsed when the question is shown) and cached."""

    def __init__(self, parser: Parser | None = None) -> None:
        self.parser = parser
        self._cache: dict[tuple[str, str], Vocabulary] = {}
        self._lock = threading.Lock()

    def of(self, entry: Entry) -> Vocabulary:
        """The entry's vocabulary."""
        key = (entry.id, entry.content_hash())
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        vocabulary = build(entry, self.parser or shared())
        with self._lock:
            self._cache[key] = vocabulary
        return vocabulary


def _phrase(tok: object) -> tuple[str, ...]:
    """The stems of a noun phrase: a token with its compound and adjective modifiers on the left."""
    left = [t for t in tok.lefts if t.dep_ in ("compound", "amod", "nmod")  # type: ignore[attr-defined]
            and (t.pos_ in _POS_TERMS or t.text[:1].isupper()) and t.lower_ not in _QUANTIFIERS]
    start = min([t.i for t in left] + [tok.i])  # type: ignore[attr-defined]
    span = tok.doc[start: tok.i + 1]  # type: ignore[attr-defined]
    return tuple(stem(t.lower_) for t in span if t.is_alpha or t.like_num)


def _entry_groups(entry: Entry, parser: Parser) -> tuple[list[set[tuple[str, ...]]], set[tuple[str, str]]]:
    """Sibling groups read from the entry: terms the question names together, coordinated or compared terms,
    and terms sharing a head noun when each is the subject of a statement ("the input gate decides ...")."""
    texts = [entry.question, *entry.points, *(p for p in re.split(r"\n\s*\n", entry.answer) if p.strip())]
    docs = parser.parse(texts)
    heads: dict[str, set[tuple[str, ...]]] = {}
    subjects: set[tuple[str, ...]] = set()
    pairs: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for n, doc in enumerate(docs):
        for tok in doc:
            if tok.pos_ in ("NOUN", "PROPN"):
                phrase = _phrase(tok)
                if len(phrase) >= 2:
                    heads.setdefault(phrase[-1], set()).add(phrase[-2:])
                if n <= len(entry.points):
                    subjects.add(phrase[-2:] if len(phrase) >= 2 else phrase)
            if tok.dep_ == "conj" and tok.pos_ in _POS_TERMS and tok.head.pos_ in _POS_TERMS:
                pairs.append((_phrase(tok.head), _phrase(tok)))
            if tok.lower_ in ("than", "unlike", "versus", "vs") or (tok.lower_ == "of" and tok.head.lower_ == "instead"):
                objects = [c for c in tok.children if c.dep_ == "pobj" and c.pos_ in ("NOUN", "PROPN")]
                subjects_ = _subjects(tok)
                pairs += [(_phrase(s), _phrase(o)) for s in subjects_ for o in objects]
    asked = {t for tok in docs[0] if tok.pos_ in ("NOUN", "PROPN") for t in [_phrase(tok)] if t}
    groups: list[set[tuple[str, ...]]] = []
    for terms in heads.values():
        named = {t for t in terms if t in subjects or any(t[-len(a):] == a or a[-len(t):] == t for a in asked)}
        if len(named) >= 2:
            groups.append(named)
    # Heads coordinated as modifiers: "the input, forget and output gates", "batch and layer normalization".
    for a, b in pairs:
        if a and b and a != b:
            groups.append({a, b})
    compounds = {(t[-2], t[-1]) for terms in heads.values() for t in terms}
    return groups, compounds


def _subjects(tok: Any) -> list[Any]:
    """The noun subjects of the clause a token stands in (through coordinated verbs: "X runs and trains faster")."""
    verb = tok.head
    while verb.head is not verb:
        found = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass") and c.pos_ in ("NOUN", "PROPN")]
        if found:
            return found
        if verb.dep_ not in ("conj", "advmod", "acomp", "prep", "amod", "dobj", "xcomp") and verb.pos_ in ("VERB", "AUX"):
            break
        verb = verb.head
    return [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass") and c.pos_ in ("NOUN", "PROPN")]


def _merge(groups: list[set[tuple[str, ...]]]) -> list[set[tuple[str, ...]]]:
    """Groups that share a term become one."""
    merged: list[set[tuple[str, ...]]] = []
    for group in groups:
        for other in [m for m in merged if m & group]:
            merged.remove(other)
            group = group | other
        merged.append(group)
    return merged


def build(entry: Entry, parser: Parser) -> Vocabulary:
    """The entry's sibling terms: each term of an entry group is a class of its own; generic families by family."""
    terms: list[Term] = []
    groups, compounds = _entry_groups(entry, parser)
    for g, group in enumerate(_merge(groups)):
        classes: dict[tuple[str, ...], int] = {}
        for t in sorted(group, key=len, reverse=True):
            # "input" names the same thing as "original input"; "sgd" as "stochastic gradient descent".
            same = [c for u, c in classes.items() if u[-len(t):] == t or _acronym(t, u) or _acronym(u, t)]
            classes[t] = same[0] if same else len(classes)
        terms += [Term(t, g, c) for t, c in classes.items() if t]
    base = GENERIC
    for f, families in enumerate(W.FAMILIES):
        for c, family in enumerate(families):
            terms += [Term(tuple(stem(w) for w in word.split()), base + f, c) for word in family]
    seen: set[tuple[str, ...]] = set()
    unique = []
    for term in sorted(terms, key=lambda t: -len(t.stems)):
        if term.stems not in seen:
            seen.add(term.stems)
            unique.append(term)
    return Vocabulary(tuple(unique), frozenset(compounds))


def _acronym(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """Whether a one-word term is the initials of a longer one ("sgd", "stochastic gradient descent")."""
    return len(short) == 1 and len(long) >= 2 and short[0] == "".join(w[0] for w in long)


def clauses(sentence: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of a sentence."""
    cuts = [0]
    for match in _CLAUSE.finditer(sentence):
        cuts += [match.start(), match.end()]
    cuts.append(len(sentence))
    return [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=True) if sentence[a:b].strip()]


@dataclass
class _Side:
    """A text as stems, its content positions and its term occurrences."""

    stems: list[str]
    spans: list[tuple[int, int]]
    occurrences: list[tuple[int, int, Term]]
    compounds: frozenset[tuple[str, str]] = frozenset()

    def content(self) -> list[int]:
        """Positions of content words outside any term; a compound's modifier is part of its head."""
        inside = {k for a, b, _ in self.occurrences for k in range(a, b)}
        return [k for k, s in enumerate(self.stems) if k not in inside and _is_content(s)
                and not (k + 1 < len(self.stems) and (s, self.stems[k + 1]) in self.compounds)]


def _side(text: str, vocabulary: Vocabulary) -> _Side:
    stems, spans = _stems(text)
    occurrences = vocabulary.find(stems) + [(k, k + 1, Term((s,), -1, 0)) for k, s in enumerate(stems)
                                            if _NUMBER.fullmatch(s)]
    return _Side(stems, spans, sorted(occurrences, key=lambda x: x[0]), vocabulary.compounds)


def _window(group: int) -> int:
    """How far a term reaches: a generic word ("low", "first") only its neighbour, a named term further."""
    return 1 if group >= GENERIC else WINDOW


def _near(side: _Side, position: int, group: int) -> list[tuple[int, Term]]:
    """Terms of a group within reach of a position, with their distance."""
    content = side.content()
    out = []
    for a, b, term in side.occurrences:
        if term.group != group:
            continue
        lo, hi = min(a, position), max(b - 1, position)
        between = sum(1 for k in content if lo < k < hi)
        if between < _window(group) and not any(side.stems[k] in W.PUNCT for k in range(lo + 1, hi)):
            out.append((between, term))
    return sorted(out, key=lambda x: x[0])


def _agrees(said: Term, expected: Term) -> bool:
    """Same class of the same group; for numbers, close values."""
    if said.group == -1:
        a, b = float(said.stems[0]), float(expected.stems[0])
        return a == b or (a * b > 0 and max(a, b) / min(a, b) <= NUMBER_SLACK)
    return said.cls == expected.cls


def _overlap(a: _Side, b: _Side) -> tuple[int, float]:
    """Content words (and terms) of a that b has too, and their share of b's content words and terms."""
    mine = {a.stems[k] for k in a.content()} | {" ".join(t.stems) for _, _, t in a.occurrences}
    theirs = {b.stems[k] for k in b.content()} | {" ".join(t.stems) for _, _, t in b.occurrences}
    shared_ = {s for s in mine if any(s == t or (min(len(s), len(t)) >= 5 and (s in t or t in s)) for t in theirs)}
    return len(shared_), len(shared_) / max(1, len(theirs))


def swaps(sentence: str, points: Sequence[str], vocabulary: Vocabulary, candidates: Sequence[int]) -> list[Swap]:
    """The clauses of a sentence that put a sibling term where the point they restate has another one."""
    sides = {p: _side(points[p], vocabulary) for p in candidates}
    found: list[Swap] = []
    for a, b in clauses(sentence):
        clause = _side(sentence[a:b], vocabulary)
        if not clause.occurrences:
            continue
        scored = sorted(((_overlap(clause, sides[p]), p) for p in candidates), reverse=True)
        (best, share), point = scored[0] if scored else ((0, 0.0), -1)
        if best < MIN_SHARED or share < MIN_SHARE or (len(scored) > 1 and scored[1][0][0] == best):
            continue
        if best < MIN_SHARED or share < MIN_SHARE:
            continue
        found += _slot_conflicts(sentence, a, clause, sides[point], point, points[point])
    return found


def _slot_conflicts(sentence: str, offset: int, clause: _Side, point: _Side, index: int, text: str) -> list[Swap]:
    """Each term of the clause against the point's term next to the same shared words."""
    out = []
    point_content = {point.stems[k]: k for k in point.content()}
    in_point = {t.stems for _, _, t in point.occurrences}
    # A negation or another turning word on one side only: the clause may say the point the other way round.
    flips = {stem(w) for w in _FLIPS} | _FLIPS
    turned = sum(s in flips for s in clause.stems) - sum(s in flips for s in point.stems)
    for start, end, term in clause.occurrences:
        if term.stems in in_point:
            continue
        votes: list[bool] = []
        expected: Term | None = None
        for k in clause.content():
            lo, hi = min(k, start), max(k, end - 1)
            distance = sum(1 for j in clause.content() if lo < j < hi)
            if distance >= _window(term.group) or clause.stems[k] not in point_content or \
                    any(clause.stems[j] in W.PUNCT for j in range(lo + 1, hi)):
                continue
            near = _near(point, point_content[clause.stems[k]], term.group)
            if not near:
                continue
            agree = any(_agrees(term, t) for _, t in near)
            votes.append(agree)
            if not agree and expected is None:
                expected = near[0][1]
        said_too = expected is not None and any(t.stems == expected.stems for _, _, t in clause.occurrences)
        if votes and not any(votes) and expected is not None and not said_too:
            a, b = clause.spans[start][0] + offset, clause.spans[end - 1][1] + offset
            out.append(Swap(index, sentence[a:b], " ".join(term.stems), " ".join(expected.stems)))
    # Two reversals say the point again ("a simpler model reduces variance" for "a more complex one reduces bias"),
    # and so does a reversal under a negation or a turning word that the point does not have.
    return out if (len(out) + turned) % 2 == 1 else []
