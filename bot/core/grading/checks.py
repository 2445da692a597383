"""The contradiction check: every statement of the answer against the key points it restates, in code."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from bot.core.bank import Entry
from bot.core.embedder import Embedder
from bot.core.grading import (
    claims,
    conflicts,
    crossing,
    edits,
    hierarchy,
    inference,
    initials,
    magnitude,
    mirror,
    names,
    owners,
    pairwise,
    parse,
    phases,
    pointing,
    pronouns,
    roles,
    sides,
    splits,
    substitutes,
    timeline,
)
from bot.core.grading import conflict_words as W
from bot.core.grading import traded as trades
from bot.core.grading.attribution import Attribution
from bot.core.grading.conflicts import Contradiction
from bot.core.grading.parse import Parser
from bot.core.grading.rubric import FEW_POINTS, RubricResult
from bot.core.grading.vocabulary import GENERIC, text_stems

# A sentence is checked against a point it is this close to (plain cosine): it is about that point.
PAIR_FLOOR = 0.45
KINDS = frozenset({"negation", "opposite", "number", "swap", "entity", "mirror", "phase"})


# A conjunction or punctuation left at a quote's end by the clause it was cut from ("overfits the data, and").
_LOOSE_END = re.compile(r"(?:[\s,;:]+(?:and|or|but|so|while|whereas))+[\s,;:]*$|[\s,;:]+$", re.IGNORECASE)


# A quote that is only a number ("20", "0.5%"): a number read as a term
_NUMBER_ONLY = re.compile(r"-?\d+(?:\.\d+)?%?")


# A clause that opens with a reason or a condition before its main clause ("because the model is so large, it ...")
_REASON = re.compile(r"(?i)\s*(?:because|since|as|although|though|if|when|while|given that)\b[^,]*,")


def trimmed(quote: str) -> str:
    """The quote without a dangling joiner at its end: still the answer's own words, from the same start."""
    return _LOOSE_END.sub("", quote) or quote


def _clause_of(quote: str, sentences: Sequence[str]) -> str:
    """The clause of the answer that holds a quote (the quote itself when it is not found)."""
    for sentence in sentences:
        at = sentence.find(quote)
        if at >= 0:
            for a, b in claims.clauses(sentence):
                if a <= at < b:
                    return sentence[a:b]
    return quote


def set_aside(quote: str, sentences: Sequence[str]) -> bool:
    """Whether the quote stands in a phrase that sets an alternative aside ("Instead of giving every element the same
    weight, ..."): it describes what the answer rejects, not what it claims."""
    for sentence in sentences:
        at = sentence.find(quote)
        if at >= 0:
            start = max(sentence.rfind(mark, 0, at) for mark in ",;:.")
            return bool(W.CONTRAST.search(sentence[start + 1:at]))
    return False


def _owner(quote: str, sentence: str, vocabulary: claims.Vocabulary) -> bool:
    """Whether the quote is a possessive naming whose terms follow ("the LSTM's forget and input gates" in an answer
    about GRUs): it says whose gates they are, not which term does what."""
    at = sentence.find(quote)
    if at < 0 or not quote.endswith(("'s", "’s")):
        return False
    following = text_stems(" ".join(sentence[at + len(quote):].split()[:4]))[0]
    return any(0 <= t.group < GENERIC for _, _, t in vocabulary.find(following))


def _siblings(vocabulary: claims.Vocabulary) -> Callable[[frozenset[str], frozenset[str]], bool]:
    """Whether two subjects (stems naming them) are two terms of one group of the entry's vocabulary."""
    terms = sorted((t for t in vocabulary.terms if 0 <= t.group < GENERIC), key=lambda t: -len(t.stems))

    def term(subject: frozenset[str]) -> tuple[int, int] | None:
        # the longest term the subject's words hold ("standard gradient descent" is "gradient descent")
        return next(((t.group, t.cls) for t in terms if set(t.stems) <= subject), None)

    def siblings(one: frozenset[str], other: frozenset[str]) -> bool:
        a, b = term(one), term(other)
        return a is not None and b is not None and a[0] == b[0] and a[1] != b[1]
    return siblings


class ClaimCheck:
    """Denials, opposites, numbers (pairwise.py), swapped terms (claims.py), edited copies (edits.py): one per point."""

    def __init__(self, parser: Parser | None = None, kinds: frozenset[str] = KINDS,
                 embedder: Embedder | None = None) -> None:
        self.vocabularies = claims.Vocabularies(parser)
        self.kinds = kinds
        # Without an embedder the predicates are compared by words only (claims.py), not also by meaning.
        self.attribution = Attribution(embedder) if embedder is not None else None
        self._known: dict[tuple[str, str], frozenset[str]] = {}
        self._aside: dict[tuple[str, str], tuple[frozenset[str], ...]] = {}
        self._times: dict[tuple[str, str], list[timeline.Placed]] = {}
        self._copyable: dict[tuple[str, str], list[edits.Copyable]] = {}
        # Whether sentences copied from the reference are aligned with it for edits (edits.py).
        self.copies = True

    @property
    def parser(self) -> Parser:
        """The dependency parser the checks share."""
        return self.vocabularies.parser or parse.shared()

    def prepare(self, entry: Entry) -> None:
        """Parse the entry's question and points now (when the question is shown)."""
        vocabulary = self.vocabularies.of(entry)
        if self.attribution is not None:
            self.attribution.texts(entry, vocabulary)
        self.known(entry)
        self.aside(entry)
        self.times(entry)
        self.copyable(entry)

    def copyable(self, entry: Entry) -> list[edits.Copyable]:
        """The reference's sentences (its answer's, then its points), each with its stems."""
        key = (entry.id, entry.content_hash())
        if key not in self._copyable:
            self._copyable[key] = edits.sentences_of([entry.answer, *entry.points])
        return self._copyable[key]

    def _edited(self, entry: Entry, sentence: str, vocabulary: claims.Vocabulary, near: Sequence[int],
                seen: list[edits.Trade]) -> list[Contradiction]:
        """The sentence's edits of a reference sentence it copies, each against the point that sentence states."""
        return self._placed(entry, edits.edited(sentence, self.copyable(entry), vocabulary, seen=seen), vocabulary,
                            near)

    def _placed(self, entry: Entry, found: Sequence[edits.Edit], vocabulary: claims.Vocabulary,
                near: Sequence[int]) -> list[Contradiction]:
        """Edits as contradictions, each against the point its reference sentence states."""
        out = []
        # No "stated" test here: exchanged terms keep every word of the reference's clause, only not in its order.
        for edit in found:
            point = sides.best_point(edit.reference, entry.points, vocabulary)
            if point is None:
                point = sides.best_point(edit.quote, entry.points, vocabulary)
            if point is None and near:
                point = near[0]
            if point is not None:
                out.append(Contradiction(point, edit.quote, entry.points[point], edit.kind))
        return out

    def known(self, entry: Entry) -> frozenset[str]:
        """Every stem the entry uses: a name outside them is one the reference never gives."""
        key = (entry.id, entry.content_hash())
        if key not in self._known:
            self._known[key] = names.entry_stems([entry.question, *entry.points, entry.answer])
        return self._known[key]

    def aside(self, entry: Entry) -> tuple[frozenset[str], ...]:
        """Each point's stems said only in a modifier ("the units dropped during training"): denying one of them
        does not deny what the point states."""
        key = (entry.id, entry.content_hash())
        if key not in self._aside:
            parser = self.vocabularies.parser or parse.shared()
            self._aside[key] = tuple(frozenset(conflicts.stem(w) for w in parse.modifier_words(p, parser))
                                     for p in entry.points)
        return self._aside[key]

    def times(self, entry: Entry) -> list[timeline.Placed]:
        """The reference's sentences that place a step in time (key points, then the reference answer's clauses)."""
        key = (entry.id, entry.content_hash())
        if key not in self._times:
            self._times[key] = timeline.reference(entry.points, entry.answer, self.parser)
        return self._times[key]

    def _timed(self, entry: Entry, sentence: str, near: Sequence[int]) -> list[Contradiction]:
        """The sentence's steps placed at a time the reference rules out, each against the point it is about."""
        out = []
        for quote, said in timeline.misplaced(sentence, self.times(entry), self.parser):
            # the point the reference's sentence states, else the point that shares most of its words
            stems = [frozenset(conflicts.stem(w) for w in conflicts.tokens(p)) for p in entry.points]
            theirs = frozenset(conflicts.stem(w) for w in conflicts.tokens(said))
            point = entry.points.index(said) if said in entry.points else \
                max(range(len(stems)), key=lambda p: (len(stems[p] & theirs), p in near), default=None)
            if point is not None:
                out.append(Contradiction(point, quote, said, "phase"))
        return out

    def _describes(self, quote: str, sentences: Sequence[str]) -> bool:
        """Whether a denial stands in a relative clause without a relative word ("a test set the model never sees"):
        it describes a noun, it does not deny a point ("that"/"which" clauses are told apart by conflicts.py)."""
        sentence = next((s for s in sentences if quote in s), None)
        if sentence is None:
            return False
        start = sentence.find(quote)
        doc = self.parser.parse([sentence])[0]
        for token in doc:
            if token.dep_ == "neg" and start <= token.idx < start + len(quote):
                head = token.head
                return head.dep_ == "relcl" and not any(c.tag_ in ("WDT", "WP", "WP$") for c in head.children)
        return False

    def _said_of_another(self, quote: str, sentences: Sequence[str], point: str) -> bool:
        """Whether a denial is said of a thing the point does not speak of: "the input layer doesn't compute
        anything" denies nothing of "Each hidden node computes a weighted sum" (a pronoun is read as the subject
        before it in the sentence), while "privacy isn't an issue" denies "... must protect privacy"."""
        sentence = next((s for s in sentences if quote in s), None)
        if sentence is None:
            return False
        start = sentence.find(quote)
        doc = self.parser.parse([sentence])[0]
        neg = next((t for t in doc if t.dep_ == "neg" and start <= t.idx < start + len(quote)), None)
        subject = next((c for c in neg.head.children if c.dep_ in ("nsubj", "nsubjpass")), None) if neg else None
        if subject is not None and subject.pos_ == "PRON":
            subject = next((t for t in reversed(doc[:subject.i]) if t.dep_ in ("nsubj", "nsubjpass")
                            and t.pos_ in ("NOUN", "PROPN")), None)
        if subject is None or subject.pos_ not in ("NOUN", "PROPN"):
            return False
        return conflicts.stem(subject.lower_) not in {conflicts.stem(w) for w in conflicts.tokens(point)}

    def find(self, entry: Entry, result: RubricResult, sentences: Sequence[str]) -> list[Contradiction]:
        """The answer's statements that contradict a key point: at most one per point, each with its quote. A
        sentence that uses two initials the entry or the answer spells out ("AI is a subset of ML") is read again
        with them said in full; what that reading finds quotes the sentence as written."""
        found = self._find(entry, result, sentences)
        spelled = initials.spelled_out([entry.question, *entry.points, entry.answer, *sentences])
        # only a sentence relating two such names is read again: one name said in full beside other words reads
        # otherwise ("an RNN treats its inputs as related" flagged a right contrast)
        full = [initials.expanded(s, spelled) if len(initials.used(s, spelled)) >= 2 else s for s in sentences]
        if full == list(sentences):
            return found
        have = {c.point for c in found}
        for c in self._find(entry, result, full):
            if c.point not in have:
                quote = c.quote if any(c.quote in s for s in sentences) else \
                    next((s for s, f in zip(sentences, full, strict=True) if c.quote in f), sentences[0])
                found.append(replace(c, quote=quote))
        return sorted(found, key=lambda c: c.point)

    def _find(self, entry: Entry, result: RubricResult, sentences: Sequence[str]) -> list[Contradiction]:
        """The contradictions of the answer's sentences as given."""
        vocabulary = self.vocabularies.of(entry)
        # What the reference answer itself says contradicts nothing ("no dropout is applied at inference").
        # Against a terse reference (one or two points) a negation is as often a right contrast as a denial ("NOT
        # the return type"): the denial check needs a rubric of several points.
        kinds = self.kinds - {"negation"} if len(entry.points) <= FEW_POINTS else self.kinds
        found = {c.point: c for c in pairwise.find(entry.question, entry.points, result, sentences, PAIR_FLOOR,
                                                  self.aside(entry))
                 if c.kind in kinds and not claims.stated(_clause_of(c.quote, sentences), vocabulary)
                 and not (c.kind == "negation" and (claims.denied_too(c.quote, vocabulary)
                                                    or self._describes(c.quote, sentences)
                                                    or self._said_of_another(c.quote, sentences, c.reason)))
                 # an opposite word counts only in a clause that restates that point, not a neighbouring one
                 and not (c.kind == "opposite" and self._restated(c, sentences, entry, vocabulary) != c.point)}
        short = claims.terse(sentences)
        statements = mirror.statements_of(entry.points, vocabulary)
        answer = " ".join(sentences)
        read = pronouns.resolved(sentences, vocabulary) if "swap" in self.kinds and not short else []
        siblings = _siblings(vocabulary)
        seen: list[edits.Trade] = []   # the copied sentences' other small edits, compared across sentences
        texts_of_entry = (entry.question, *entry.points, entry.answer)
        written = names.names_of(" ".join([entry.question, *entry.points, entry.answer]))   # "AI", "AWS"
        for s, sentence in enumerate(sentences[: len(result.by_sentence[0]) if result.by_sentence else 0]):
            near = [p for p, row in enumerate(result.by_sentence) if row[s] >= PAIR_FLOOR]
            # "The decoder comes first: it compresses the input" is read as "decoder compresses the input" too.
            other = read[s] if s < len(read) else None
            texts = [sentence, *([other] if other else [])]
            for swap in (w for text in texts for w in claims.swaps(text, entry.points, vocabulary, near, short)) \
                    if "swap" in self.kinds else ():
                if swap.quote in answer and not _owner(swap.quote, answer, vocabulary):
                    found.setdefault(swap.point, Contradiction(swap.point, swap.quote, entry.points[swap.point],
                                                               "swap"))
            if "swap" in self.kinds and not short:
                for point, quote in crossing.crossed(sentence, entry.points, vocabulary, near):
                    found.setdefault(point, Contradiction(point, quote, entry.points[point], "swap"))
                for point, quote in [*roles.given_away(sentence, entry.points, near, self.parser, answer,
                                                       siblings),
                                     *roles.defined_away(sentence, entry.points, self.parser, answer)]:
                    found.setdefault(point, Contradiction(point, quote, entry.points[point], "swap"))
            if "phase" in self.kinds:
                for point, quote in phases.phase_conflicts(sentence, entry.points, near, self.parser):
                    found.setdefault(point, Contradiction(point, quote, entry.points[point], "phase"))
                for timed in self._timed(entry, sentence, near):
                    found.setdefault(timed.point, timed)
            # A terse reference (one or two points) has too few statements to tell a mirrored clause from a
            # right one in other words ("first", "end" in a one-line answer).
            if "mirror" in self.kinds and len(entry.points) > FEW_POINTS:
                for mirrored in mirror.mirrors(sentence, entry.points, vocabulary, statements):
                    found.setdefault(mirrored.point, Contradiction(mirrored.point, mirrored.quote,
                                                                   entry.points[mirrored.point], "mirror"))
            if "entity" in self.kinds and len(entry.points) > FEW_POINTS:
                # The question's own names are given: "NAT" need not be repeated in an answer to "How does NAT ...".
                for wrong in names.misnamed(sentence, entry.points, self.known(entry), near,
                                            " ".join([*sentences, entry.question]), written):
                    found.setdefault(wrong.point, Contradiction(wrong.point, wrong.quote, entry.points[wrong.point],
                                                                "entity"))
            if "swap" in self.kinds and self.copies and len(entry.points) > FEW_POINTS:
                for edit in self._edited(entry, sentence, vocabulary, near, seen):
                    if edit.kind in self.kinds:
                        found.setdefault(edit.point, edit)
            if "swap" in self.kinds and not short:
                # after the word-level checks, whose kind says more where both see it ("mirror")
                for point, quote in trades.traded(sentence, entry.points, self.parser, answer):
                    found.setdefault(point, Contradiction(point, quote, entry.points[point], "swap"))
            # last, and only for a sentence no check above flagged: where a word-level check sees the same clause
            # ("the test set is the one we use to tune"), its kind says more, and one wrong sentence is told once
            if not any(c.quote in sentence or sentence in c.quote for c in found.values()):
                late = [*(("phase", f) for f in [*splits.misused(sentence, entry.points),
                                                  *splits.watched(sentence, entry.points),
                                                  *inference.placed_at_inference(sentence, entry.points),
                                                  *inference.fixed_ahead(sentence, entry.points)]
                          if "phase" in self.kinds),
                        *(("number", f) for f in magnitude.shrunk(sentence, entry.points, near)
                          if "number" in self.kinds),
                        *(("swap", f) for f in hierarchy.reversed_levels(sentence, entry.points, near)
                          if "swap" in self.kinds),
                        *(("swap", f) for f in owners.given_over(sentence, entry.points, near) if "swap" in self.kinds),
                        *(("entity", f) for f in substitutes.replaced(sentence, entry.points, texts_of_entry, answer)
                          if "entity" in self.kinds and len(entry.points) > FEW_POINTS)]
                for kind, (point, quote) in late[:1]:
                    found.setdefault(point, Contradiction(point, quote, entry.points[point], kind))
        for edit in self._placed(entry, edits.across(seen), vocabulary, ()):
            found.setdefault(edit.point, edit)
        if "swap" in self.kinds and self.copies and len(entry.points) > FEW_POINTS:
            for edit in self._placed(entry, pointing.moved(sentences, entry.answer, vocabulary), vocabulary, ()):
                found.setdefault(edit.point, edit)
        if "swap" in self.kinds and self.attribution is not None and not short:
            for point, quote in self.attribution.find(entry, sentences, vocabulary):
                found.setdefault(point, Contradiction(point, quote, entry.points[point], "swap"))
        return [replace(found[p], quote=trimmed(found[p].quote)) for p in sorted(found)
                if not set_aside(found[p].quote, sentences)
                and not self._copied_number(entry, found[p], sentences, vocabulary)]

    @staticmethod
    def _restated(flag: Contradiction, sentences: Sequence[str], entry: Entry,
                  vocabulary: claims.Vocabulary) -> int | None:
        """The point the clause of an opposite word restates; where the clause ties between points, the part from
        the quote on ("because the model is so large, it needs more labeled data": the part after the reason)."""
        clause = _clause_of(flag.quote, sentences)
        point = sides.best_point(clause, entry.points, vocabulary)
        at = clause.find(flag.quote)
        if point is not None or at <= 0 or not _REASON.match(clause):
            return point
        return sides.best_point(clause[at:], entry.points, vocabulary)

    def _copied_number(self, entry: Entry, flag: Contradiction, sentences: Sequence[str],
                       vocabulary: claims.Vocabulary) -> bool:
        """Whether a flagged number stands where the reference sentence its sentence copies has the same value: "There
        are 3 gates" for "There are three gates", "between 20% and 50%" for "between 0.2 and 0.5", the same range in
        a copy whose other words moved it nearer another point."""
        if flag.kind != "number" and not _NUMBER_ONLY.fullmatch(flag.quote.strip()):
            return False
        holding = [s for s in sentences if flag.quote in s]
        # the quote may stand in more than one sentence: each must be such a copy
        return bool(holding) and bool(edits.said_numbers(flag.quote)) and \
            all(self._copies_number(entry, s, vocabulary) for s in holding)

    def _copies_number(self, entry: Entry, sentence: str, vocabulary: claims.Vocabulary) -> bool:
        """Whether a sentence copies a reference sentence that names the same terms and changes no number's value."""
        stems, spans = text_stems(sentence)
        match = edits.copied(stems, self.copyable(entry))
        if match is None:
            return False
        reference, matcher = match
        # the copy names what the reference sentence names: "Tanh squashes its input into the range 0 to 1" copies
        # sigmoid's sentence with another term, and its number is then sigmoid's
        named = [{t for t in edits.terms(s, vocabulary) if t[0] < GENERIC} for s in (stems, reference.stems)]
        if not named[0] <= named[1]:
            return False
        # every number the copy changed is the same value written another way
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                continue
            mine = sentence[spans[j1][0]:spans[j2 - 1][1] + 1] if j2 > j1 else ""
            theirs = reference.text[reference.spans[i1][0]:reference.spans[i2 - 1][1] + 1] if i2 > i1 else ""
            if edits.said_numbers(mine) != edits.said_numbers(theirs):
                return False
        return True
