"""Whose predicate: a clause that says of one sibling term what the reference says of another, read by meaning.

"Supervised learning deals with unlabeled data" shares too few words with the point it takes its claim from
("Unsupervised learning finds structure or patterns in unlabeled data") for the word-aligned check (claims.py).
Here the subject phrase is masked on both sides ("it deals with unlabeled data") and the clause's predicate is
compared with what the reference says of each sibling: it is flagged when it matches a sibling's texts clearly
better than its own subject's, by the sentence embedding and by shared words alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.bank import Entry
from bot.core.embedder import Embedder
from bot.core.grading import conflict_words as W
from bot.core.grading import sides
from bot.core.grading.vocabulary import GENERIC, Term, Vocabulary, clauses, is_content, text_stems

# The masked clause must match a sibling's text at least this well (cosine) ...
FLOOR = 0.6
# ... and this much better than any text the reference gives its own subject.
MARGIN = 0.15
MIN_WORDS = 3   # content words the masked clause needs: a bullet's label ("Forget gate") states nothing
MASK = "it"
_ARTICLES = frozenset({"the", "a", "an", "each", "every", "any"})
# A clause that relates its subject to others says what they share or how they differ, not a swapped claim; an
# unresolved pronoun leaves the predicate's owner open; a denial is the negation check's job.
_RELATING = re.compile(r"\b(?:also|too|both|as well|like|similar(?:ly)?|unlike|whereas|while|instead|rather|not|"
                       r"never|no|n't|it|its|they|them|their|this|these)\b", re.I)


@dataclass(frozen=True)
class Subject:
    """A text whose subject is a named term: the term and the text with that subject masked."""

    term: Term
    masked: str
    words: frozenset[str]
    named: frozenset[tuple[int, int]] = frozenset()   # the (group, class) of every term the text names


def _heads(vocabulary: Vocabulary) -> set[tuple[str, ...]]:
    """Terms contained in a longer term of their group ("gate" in "output gate"): they name no one sibling."""
    return {t.stems for t in vocabulary.terms for u in vocabulary.terms
            if t.group == u.group and t != u and set(t.stems) < set(u.stems)}


def subject(text: str, vocabulary: Vocabulary, point: bool = False,
            heads: set[tuple[str, ...]] | None = None) -> Subject | None:
    """The text's leading named term and the text with its subject phrase masked (None without one); heads: the
    vocabulary's head terms when the caller has them already."""
    side = sides.point_side(text, vocabulary) if point else sides.text_side(text, vocabulary)
    heads = _heads(vocabulary) if heads is None else heads
    named = [(a, b, t) for a, b, t in side.occurrences if 0 <= t.group < GENERIC and t.stems not in heads]
    if not named or not sides.leading(side, named[0][0]):
        return None
    a, b, term = named[0]
    group = {s for t in vocabulary.terms if t.group == term.group for s in t.stems}
    # Only an article may stand before the subject: "of one process share ..." is said of what came before it, and
    # "Stochastic gradient descent" read as "gradient descent" has a modifier that may name another term.
    if any(side.stems[k] not in _ARTICLES and side.stems[k] not in W.PUNCT for k in range(a)):
        return None
    while b < len(side.stems) and side.stems[b] in group:   # "Supervised learning": the sibling's head word too
        b += 1
    first = next((k for k in range(a) if side.stems[k] not in W.PUNCT), a)
    lo = side.spans[first][0] if first < a else side.spans[a][0]
    masked = side.text[:lo] + MASK + side.text[side.spans[b - 1][1]:]
    words = frozenset(w for w in text_stems(masked)[0] if is_content(w)) - {MASK}
    return Subject(term, masked, words, frozenset((t.group, t.cls) for _, _, t in side.occurrences))


def _named(point: str, vocabulary: Vocabulary) -> frozenset[tuple[int, int]]:
    """The (group, class) of each term a point names, in full or by the words that set it apart from its siblings
    ("Xavier or Glorot initialization" names Xavier initialization)."""
    stems = set(text_stems(point)[0])
    out = set()
    for term in vocabulary.terms:
        if not 0 <= term.group < GENERIC:
            continue
        shared = set.intersection(*(set(t.stems) for t in vocabulary.terms if t.group == term.group))
        own = set(term.stems) - shared
        if own and own <= stems:
            out.add((term.group, term.cls))
    return frozenset(out)


@dataclass(frozen=True)
class Texts:
    """An entry's points and reference clauses with a named subject, masked, and their vectors."""

    points: tuple[Subject | None, ...]
    references: tuple[Subject, ...]
    vectors: dict[str, np.ndarray]
    named: tuple[frozenset[tuple[int, int]], ...]   # each point's (group, class) of the terms it names
    plain: np.ndarray                               # each point's own vector
    heads: set[tuple[str, ...]]                     # the vocabulary's head terms (see _heads)


class Attribution:
    """Finds clauses whose predicate belongs to a sibling of their subject; caches each entry's masked texts."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._texts: dict[tuple[str, str], Texts] = {}

    def texts(self, entry: Entry, vocabulary: Vocabulary) -> Texts:
        """The entry's masked points and reference clauses, embedded once."""
        key = (entry.id, entry.content_hash())
        if key not in self._texts:
            heads = _heads(vocabulary)
            points = tuple(subject(p, vocabulary, True, heads) for p in entry.points)
            references = tuple(s for text in vocabulary.stated_texts for a, b in clauses(text)
                               if (s := subject(text[a:b], vocabulary, False, heads)) is not None)
            masked = sorted({s.masked for s in (*points, *references) if s is not None})
            vectors = dict(zip(masked, self.embedder.embed(masked), strict=True)) if masked else {}
            named = tuple(_named(p, vocabulary) for p in entry.points)
            self._texts[key] = Texts(points, references, vectors, named, self.embedder.embed(list(entry.points)),
                                     heads)
        return self._texts[key]

    def find(self, entry: Entry, sentences: Sequence[str], vocabulary: Vocabulary) -> list[tuple[int, str]]:
        """(point, quote) for each clause that says of its subject what the reference says of a sibling."""
        known = self.texts(entry, vocabulary)
        candidates = []
        for sentence in sentences:
            for a, b in clauses(sentence):
                found = self._candidate(sentence[a:b], known, vocabulary)
                if found is not None:
                    candidates.append(found)
        if not candidates:
            return []
        vectors = self.embedder.embed([c[1].masked for c in candidates])
        out = []
        for (quote, said, theirs, own), vector in zip(candidates, vectors, strict=True):
            best = [float(known.vectors[t.masked] @ vector) for t in theirs]
            mine = max(float(known.vectors[t.masked] @ vector) for t in own)
            if max(best) >= FLOOR and max(best) - mine >= MARGIN:
                out.append((self._point(known, said.term, theirs, vector), quote))
        return out

    @staticmethod
    def _candidate(quote: str, known: Texts, vocabulary: Vocabulary
                   ) -> tuple[str, Subject, list[Subject], list[Subject]] | None:
        """A clause worth embedding: its subject's siblings have texts that share more of its words than its own."""
        if _RELATING.search(quote):
            return None
        said = subject(quote, vocabulary, False, known.heads)
        if said is None or len(said.words) < MIN_WORDS:
            return None
        named = said.named
        texts = [s for s in (*known.points, *known.references) if s is not None and s.term.group == said.term.group]
        theirs = [s for s in texts if s.term.cls != said.term.cls and (s.term.group, s.term.cls) not in named]
        own = [s for s in texts if s.term.cls == said.term.cls]
        if not own or not any(p is not None and p in theirs for p in known.points):
            return None
        shared = max(len(said.words & s.words) for s in theirs)
        if shared <= max(len(said.words & s.words) for s in own):
            return None
        return quote, said, theirs, own

    @staticmethod
    def _point(known: Texts, term: Term, theirs: Sequence[Subject], vector: np.ndarray) -> int:
        """The key point the finding quotes: of those naming the sibling and not the clause's own subject, the one
        nearest the clause ("only meant for sigmoid layers" quotes "Xavier ... is used with sigmoid or tanh")."""
        classes = {t.term.cls for t in theirs}
        indices = [i for i, named in enumerate(known.named)
                   if any((term.group, c) in named for c in classes) and (term.group, term.cls) not in named]
        # (a sibling named only by words it shares with the others: the points it leads)
        indices = indices or [i for i, p in enumerate(known.points) if p is not None and p in theirs]
        return max(indices, key=lambda i: float(known.plain[i] @ vector))
