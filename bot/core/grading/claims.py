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

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.grading import anchors
from bot.core.grading import conflict_words as W
from bot.core.grading.conflicts import stem
from bot.core.grading.sides import (
    Side,
    generic,
    leading,
    lists,
    near,
    overlap,
    point_side,
    share_of,
    text_side,
    window,
)
from bot.core.grading.values import NUMBER_SLACK
from bot.core.grading.vocabulary import (
    BACK_REFERENCES,
    GENERIC,
    Term,
    Vocabularies,
    Vocabulary,
    clauses,
    denied_too,
    is_content,
    stated,
    text_stems,
)

__all__ = ["Swap", "Vocabularies", "Vocabulary", "clauses", "denied_too", "stated", "stem", "swaps",
           "terse"]

ROLE_VOTES = 1  # shared words that must show two named terms exchanged when the point has both
SCOPED = GENERIC + W.PHASES  # the family of phases (training, inference), checked over the whole clause
QUANTITY = GENERIC + W.QUANTITIES  # counts ("one", "unlimited"), checked term against term in a terse answer
# An answer of at most this many content words is terse ("Just one per class."): its terms are checked against every
# point that has a term of the same group, without shared words around it.
TERSE = 3
# A clause is aligned with a key point when they share at least this many content words (terms left out) ...
MIN_SHARED = 3
# ... and at least this share of the point's content words.
MIN_SHARE = 0.4
# A clause that restates this much of a point is checked for the point's first term given to its sibling.
SUBJECT_SHARE = 0.6
PHASE_WORDS = 2  # content words a point's clause needs for its phase to be checked clause against clause
# ... of which at least this many are words outside the terms.
MIN_WORDS = 1
# Words that turn a claim around: a clause with one of them (and a point without) says the point the other way.
_FLIPS = W.NEGATIONS | W.NEGATIVE_VERBS | {"opposite", "against", "reverse", "inverse", "penalty", "penalize",
                                           "penalizes", "penalise", "instead", "unlike", "rather", "cost", "costs",
                                           "punish", "punishes"}


@dataclass(frozen=True)
class Swap:
    """A clause of the answer that gives a point's claim to another term: the answer's words, the point, the terms."""

    point: int
    quote: str
    said: str
    expected: str
    group: int = 0


def _scoped_conflict(clause: Side, point: Side) -> Term | None:
    """The point's phase when the clause names only another one ("applied at inference" for "during training"):
    a phase is said of the whole claim, not of a neighbouring word."""
    mine = {t.cls for _, _, t in clause.occurrences if t.group == SCOPED}
    theirs = [t for _, _, t in point.occurrences if t.group == SCOPED]
    if len(mine) == 1 and theirs and len({t.cls for t in theirs}) == 1 and theirs[0].cls not in mine:
        return theirs[0]
    return None


_FLIP_STEMS = frozenset({stem(w) for w in _FLIPS} | _FLIPS)
FLIP_REACH = 4   # words either side of a term that a turning word acts from


def _flips(side: Side, start: int, end: int) -> int:
    """Turning words ("not", "prevents", "penalty") within FLIP_REACH words of a term, inside its clause piece."""
    count = 0
    for step, origin in ((-1, start - 1), (1, end)):
        k = origin
        while 0 <= k < len(side.stems) and abs(k - origin) < FLIP_REACH and side.stems[k] not in W.PUNCT:
            count += side.stems[k] in _FLIP_STEMS
            k += step
    return count


def _agrees(said: Term, expected: Term) -> bool:
    """Same class of the same group; for numbers, close values."""
    if said.group == -1:
        a, b = float(said.stems[0]), float(expected.stems[0])
        return a == b or (a * b > 0 and max(a, b) / min(a, b) <= NUMBER_SLACK)
    return said.cls == expected.cls


def terse(sentences: Sequence[str]) -> bool:
    """Whether a whole answer is a few words ("Just one per class."): it is then checked term against term."""
    return sum(1 for s in sentences for w in text_stems(s)[0] if is_content(w)) <= TERSE


def swaps(sentence: str, points: Sequence[str], vocabulary: Vocabulary, candidates: Sequence[int],
          short: bool = False) -> list[Swap]:
    """The clauses of a sentence that put a sibling term where the point they restate has another one; a short
    answer's terms are checked against the point's term of the same group directly."""
    sides = {p: point_side(points[p], vocabulary) for p in candidates}
    found: list[Swap] = []
    spans = clauses(sentence)
    # Predicates joined under one subject are claims of their own ("merge the input and output gates into one and
    # drop the forget gate"): each is aligned with the point it restates, besides the whole clause.
    if not short:
        spans += [p for a, b in spans for p in anchors.predicates(sentence, (a, b))]
    for a, b in spans:
        clause = text_side(sentence[a:b], vocabulary)
        if not clause.occurrences:
            continue
        if stated(sentence[a:b], vocabulary):
            continue
        if short:
            found += _terse_conflicts(sentence, a, clause, [point_side(p, vocabulary) for p in points])
            continue
        phased = _phase_conflicts(sentence, a, clause, points, candidates, vocabulary)
        if phased:
            found += phased
            continue
        scored = sorted(((overlap(clause, sides[p]), p) for p in candidates), reverse=True)
        (best, share), point = scored[0] if scored else ((0, 0.0), -1)
        if best < MIN_SHARED or share < MIN_SHARE or (len(scored) > 1 and scored[1][0] == (best, share)):
            continue
        # Terms alone do not align a clause with a point ("the generator is rewarded when its samples get past
        # it" is not "the generator improves using feedback from the discriminator about its samples").
        if overlap(clause, sides[point], terms=False)[0] < MIN_WORDS:
            continue
        slots = [swap for swap in _slot_conflicts(sentence, a, clause, sides[point], point, points[point])
                 if not _leads_both(clause, sides[point], swap)]
        found += [swap for swap in slots or _subject_conflict(sentence, a, clause, sides[point], point, vocabulary)
                  if not _names_expected(clause, swap, vocabulary, sides[point])]
    # "new data drifts from what it was trained on": a phase said in a relative clause names data, not a time
    return [s for s in found if s.group != SCOPED or (at := sentence.find(s.quote)) < 0
            or not anchors.in_relative(sentence, (at, at + len(s.quote)))]


def _phase_conflicts(sentence: str, offset: int, clause: Side, points: Sequence[str], candidates: Sequence[int],
                     vocabulary: Vocabulary) -> list[Swap]:
    """The clause against each clause of a point: "Dropout is applied only at inference" says every word of the
    point's clause "Dropout is only applied in training" with the other phase (a point of two clauses names both
    phases, so the whole point cannot show it). Only when the point's clause has PHASE_WORDS content words or more,
    each one a phase at most, and both sides turn nothing around or both do."""
    mine = [(a, b, t) for a, b, t in clause.occurrences if t.group == SCOPED]
    if len({t.cls for _, _, t in mine}) != 1:
        return []
    words = {clause.stems[k] for k in clause.content()}
    flipped = any(s in _FLIP_STEMS for s in clause.stems)
    for p in candidates:
        for pa, pb in clauses(points[p]):
            part = point_side(points[p][pa:pb], vocabulary)
            theirs = [t for _, _, t in part.occurrences if t.group == SCOPED]
            needed = {part.stems[k] for k in part.content()}
            if len({t.cls for t in theirs}) != 1 or theirs[0].cls == mine[0][2].cls or len(needed) < PHASE_WORDS \
                    or not needed <= words or flipped != any(s in _FLIP_STEMS for s in part.stems):
                continue
            start, end, term = mine[0]
            a, b = clause.spans[start][0] + offset, clause.spans[end - 1][1] + offset
            return [Swap(p, sentence[a:b], " ".join(term.stems), " ".join(theirs[0].stems), term.group)]
    return []


def _subject_conflict(sentence: str, offset: int, clause: Side, point: Side, index: int,
                      vocabulary: Vocabulary) -> list[Swap]:
    """The clause's first named term against the point's first term of its group: "Feature selection transforms the
    data into a new feature space" restates "Feature extraction creates new features by transforming data into a new
    space" of the other sibling. Only when the clause never names the point's term and turns nothing around."""
    if share_of(clause, point) < SUBJECT_SHARE or any(s in _FLIP_STEMS for s in clause.stems) != \
            any(s in _FLIP_STEMS for s in point.stems):
        return []
    heads = {t.stems for t in vocabulary.terms for u in vocabulary.terms
             if t.group == u.group and t != u and set(t.stems) < set(u.stems)}
    named = [(a, b, t) for a, b, t in clause.occurrences if t.group < GENERIC and t.group >= 0 and t.stems not in heads]
    if not named:
        return []
    start, end, term = named[0]
    placed = [(a, t) for a, _, t in point.occurrences if t.group == term.group and t.stems not in heads]
    # Both terms must stand where the subject does, at the start ("than a single attention mechanism" is not one).
    if not placed or not leading(clause, start) or not leading(point, placed[0][0]):
        return []
    theirs = [t for _, t in placed]
    if _agrees(term, theirs[0]) or any(t.group == term.group and t.cls == theirs[0].cls
                                                     for _, _, t in named):
        return []
    a, b = clause.spans[start][0] + offset, clause.spans[end - 1][1] + offset
    return [Swap(index, sentence[a:b], " ".join(term.stems), " ".join(theirs[0].stems), term.group)]


def _terse_conflicts(sentence: str, offset: int, clause: Side, points: Sequence[Side]) -> list[Swap]:
    """A terse clause's one term of a group against a point whose only term of that group is of another class."""
    out = []
    for start, end, term in clause.occurrences:
        # Positions and directions ("last", "right") need the words around them; counts and names do not.
        if sum(t.group == term.group for _, _, t in clause.occurrences) != 1 or \
                (term.group >= GENERIC and term.group != QUANTITY):
            continue
        for index, point in enumerate(points):
            theirs = [t for _, _, t in point.occurrences if t.group == term.group]
            if len(theirs) == 1 and not _agrees(term, theirs[0]) and len(point.content()) <= 2 * TERSE:
                a, b = clause.spans[start][0] + offset, clause.spans[end - 1][1] + offset
                out.append(Swap(index, sentence[a:b], " ".join(term.stems), " ".join(theirs[0].stems)))
    return out


def _coordinated(point: Side, said: Term, expected: Term) -> bool:
    """Whether the point names both terms as conjuncts ("traverse the left subtree, then the root, then the right
    subtree"): what it says next to one it says of both, so naming either is no swap."""
    places = [next(((a, b) for a, b, t in point.occurrences if t.stems == x.stems), None) for x in (said, expected)]
    if places[0] is None or places[1] is None or not point.text:
        return False
    (a, b), (c, d) = places[0], places[1]
    return anchors.coordinated(point.text, (point.spans[a][0], point.spans[b - 1][1]),
                               (point.spans[c][0], point.spans[d - 1][1]))


def _leads_both(clause: Side, point: Side, swap: Swap) -> bool:
    """Whether the term a slot expected opens both the clause and the point: "Adam mixes the RMSprop idea with
    momentum" says Adam where "Adam combines the ideas of RMSprop and momentum" does, though "RMSprop" stands
    before "idea" as "Adam" stands before "combines the ideas" (blind part 15's right answer, flagged)."""
    def first(side: Side) -> str | None:
        return " ".join(min(side.occurrences, key=lambda o: o[0])[2].stems) if side.occurrences else None
    return first(clause) == swap.expected == first(point)


def _names_expected(clause: Side, swap: Swap, vocabulary: Vocabulary, point: Side | None = None) -> bool:
    """Whether the clause joins the point's term to the one it says with "or" ("Xavier or Glorot initialization" for
    "Xavier initialization", by a word no sibling has): two names for one role, neither swapped in; or names both
    with a head said once ("Grid and random search")."""
    others = {s for t in vocabulary.terms if t.group == swap.group and " ".join(t.stems) != swap.expected
              for s in t.stems}
    own = set(swap.expected.split()) - others
    named = {" ".join(t.stems) for _, _, t in point.occurrences} if point is not None else set()
    at = clause.text.find(swap.quote) if clause.text else -1
    first = next((k for k, (a, _) in enumerate(clause.spans) if a == at), None)
    if not own or first is None:
        return False
    last = first + len(swap.said.split()) - 1
    for k, s in enumerate(clause.stems):
        if s in own:
            between = clause.stems[k + 1:first] if k < first else clause.stems[last + 1:k]
            if 0 < len(between) <= 2 and set(between) <= {"or", "/", ",", "(", "aka"} and "or" in between:
                return True
            # "Grid and random search" names grid search too: both terms, one head ("search") said once, where the
            # point names both as well ("merge the input and output gates" for "the forget and input gates" is
            # still a swap)
            if k < first and between == ["and"] and swap.said in named:
                return True
    return False


_LIKENING = (("like",), ("as", "with"), ("similar", "to"), ("same", "as"))


def _likened(stems: Sequence[str], start: int) -> bool:
    """Whether a term stands right after "like", "as with", "similar to" or "same as" (an article aside) that opens
    the clause or follows a comma or "just": a comparison, not "models like CNNs" giving an example of a doer."""
    k = start
    while k > 0 and stems[k - 1] in ("the", "a", "an"):
        k -= 1
    for marker in _LIKENING:
        at = k - len(marker)
        if at >= 0 and tuple(stems[at:k]) == marker and \
                (at == 0 or stems[at - 1] in (",", ";", ":", "just", "much", "exact", "exactly")):
            return True
    return False


def _after_than(stems: Sequence[str], start: int) -> bool:
    """Whether "than" stands at most four words before this position, with no clause mark between."""
    for k in range(start - 1, max(-1, start - 5), -1):
        if stems[k] in W.PUNCT:
            return False
        if stems[k] == "than":
            return True
    return False


def _slot_conflicts(sentence: str, offset: int, clause: Side, point: Side, index: int, text: str) -> list[Swap]:
    """Each term of the clause against the point's term next to the same shared words."""
    out = []
    in_point = {t.stems for _, _, t in point.occurrences}
    turned = 0
    scoped = _scoped_conflict(clause, point)
    for start, end, term in clause.occurrences:
        # "As with weights, biases also get updated": a term likened to the subject shares its claim, it takes no
        # slot of its own
        if _likened(clause.stems, start):
            continue
        # A point that relates both sides ("the left child is smaller than the right child") may be said the other
        # way round.
        if generic(term) and len({t.cls for _, _, t in point.occurrences if t.group == term.group}) > 1:
            continue
        point_content: dict[str, list[int]] = {}
        for k in point.content(term.group):
            # "feedback from the discriminator about its samples": the samples are the generator's, said back.
            if k == 0 or point.stems[k - 1] not in BACK_REFERENCES:
                point_content.setdefault(point.stems[k], []).append(k)
        clause_content = clause.content(term.group)
        votes: list[bool] = []
        expected: Term | None = None
        # The commas of the term's own list ("training, validation and test sets") do not end its phrase.
        run = next(((r[0][0], r[-1][1]) for r in lists(clause, term.group) if r[0][0] <= start < r[-1][1]),
                   (start, end))
        for k in clause_content:
            lo, hi = min(k, start), max(k, end - 1)
            distance = sum(1 for j in clause_content if lo < j < hi)
            if distance >= window(term.group) or clause.stems[k] not in point_content or \
                    any(clause.stems[j] in W.PUNCT and not run[0] <= j < run[1] for j in range(lo + 1, hi)):
                continue
            side = None if generic(term) else start < k
            nearby = [n for q in point_content[clause.stems[k]] for n in near(point, q, term.group, side)]
            if not nearby:
                continue
            agree = any(_agrees(term, t) for _, t in nearby)
            votes.append(agree)
            if not agree and expected is None:
                expected = min(nearby, key=lambda n: n[0])[1]
        said_too = expected is not None and any(t.stems == expected.stems for _, _, t in clause.occurrences)
        # "big errors get penalized much more than small ones": the word after "than" is what the point's is
        # compared with, when the clause gives the point's side before it.
        than = [k for k in range(max(0, start - 2), start) if clause.stems[k] == "than"]
        if expected is not None and generic(term) and than and any(
                t.group == expected.group and t.cls == expected.cls for a, _, t in clause.occurrences if a < than[0]):
            continue
        # "richer than what a single attention head gives": the term compared with stands against the point's own
        # side of "than" ("a single attention mechanism"), not its subject ("multiple heads").
        if expected is not None and not generic(term) and _after_than(clause.stems, start) and \
                any(point.stems[k] == "than" and k > a for a, _, t in point.occurrences if t == expected
                    for k in range(a, len(point.stems))):
            continue
        # A term the point also has, elsewhere: the two swapped places ("CPUs train faster than GPUs") only when
        # two shared words say so, and the clause names the other term too.
        needed = ROLE_VOTES if term.stems in in_point else 1
        if term.stems in in_point:
            said_too = not said_too
        if term.group == SCOPED and scoped is not None and not votes:
            expected, votes, needed, said_too = scoped, [False], 1, False
        if len(votes) >= needed and not any(votes) and expected is not None and not said_too \
                and not _coordinated(point, term, expected):
            # A negation or another turning word next to one side only says the point the other way round.
            turned += _flips(clause, start, end) - min(_flips(point, a, b) for a, b, t in point.occurrences
                                                       if t == expected)
            a, b = clause.spans[start][0] + offset, clause.spans[end - 1][1] + offset
            out.append(Swap(index, sentence[a:b], " ".join(term.stems), " ".join(expected.stems), term.group))
    # Two reversals say the point again ("a simpler model reduces variance" for "a more complex one reduces bias"),
    # and so does a reversal under a negation or a turning word that the point does not have. Findings on one
    # stretch of words ("smaller batches": the entry's term and the generic "smaller") are one reversal.
    # Two terms of one group exchanged ("CPUs ... than GPUs") are one reversal too.
    reversals = len({s.group for s in out})
    return out if (reversals + turned) % 2 == 1 else []
