"""Checks on what the model wrote, before a user sees it.

Each line must be a whole, clean sentence about the point code asked it about, and must not disagree with the rubric
(praise a missed point, call a covered one missing); the follow-up must be a question about its point that does not
give the point away. A line that fails is replaced by one written from the rubric (grader._apply).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.bank import Entry
from bot.core.grading.conflicts import Contradiction
from bot.core.grading.rubric import Rubric, RubricResult

Embed = Callable[[Sequence[str]], np.ndarray]


def _set(text: str) -> frozenset[str]:
    """The words of a list written as one string."""
    return frozenset(text.split())


_STOP = _set("""a an the and or but if then than so of to in on at by for with from into onto over under about as
is are was were be been being it its this that these those which who whom what when where why how can could may might
must shall should will would do does did done has have had having not no only also more most less least very each every
any all some such same other others both either neither one two many much few their there they them he she we you your
our his her too just well used use uses using make makes made give gives given get gets between across while during
after before because through whether often usually typically rather instead still even like up down out off""")
# A sentence that ends on one of these words was cut off.
DANGLING = _set("a an the of to and or but with for in on by that which is are as at from than its their your "
                      "this these those such very")
_QUESTION_WORDS = _set("what why how when where which who whom whose can could would should do does did is are "
                            "was were will have has had in if suppose imagine walk tell explain describe")
_FOREIGN = re.compile(r"[\u0400-\u04ff\u0590-\u06ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_MARKUP = re.compile(r"<<|>>|<\||\|>|```|\bkey point \d|\b(?:Right|Missing|Wrong|Stronger|Follow-up)\s*\(|"
                     r"\b(?:Right|Missing|Wrong|Stronger|Follow-up):|written probe|\bGrader\b|ANSWER-[0-9a-f]", re.I)
_QUOTED = re.compile(r"[\"“]([^\"”]{3,})[\"”]")
_PRAISE = _set("""correct correctly right rightly good well great nicely clear clearly accurate accurately state stated
states say said says explain explained explains mention mentioned note noted point points key answer identify identified
describe described recognize recognized understand understood highlight highlighted""")
MAX_WORDS = 45
UNSUPPORTED = "praises words the reference does not support"
UNSUPPORTED_SHARE = 1 / 3  # of a praise's content words the reference never uses: it praises a claim of its own
RUN = 5  # words in a row from the key point: a follow-up that repeats this much states the point
ABOUT_MARGIN = 0.05  # a line is about point i when no other point matches it better by more than this
DISAGREE_MARGIN = 0.06  # a line is about another point when that one matches it better by more than this


def words(text: str) -> list[str]:
    """The lower-case words of a text."""
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text.casefold())


def stems(text: str, drop: frozenset[str] = _STOP) -> set[str]:
    """Content words of a text, cut to five letters (a crude stem: train/training, normalize/normalization)."""
    return {w[:5] for w in words(text) if w not in drop and len(w) > 2}


def sentence_problem(text: str | None) -> str | None:
    """Why a line is not a whole, clean sentence; None when it is."""
    if not text or not text.strip():
        return "empty"
    text = text.strip()
    found = words(text)
    if len(found) < 4:
        return "too short"
    if len(found) > MAX_WORDS:
        return "rambling"
    if text[-1] not in ".!?\"'”’)":
        return "cut off"
    if found[-1] in DANGLING:
        return "cut off"
    if _FOREIGN.search(text) or "\ufffd" in text:
        return "garbled: another script"
    if _MARKUP.search(text):
        return "garbled: format or grader markup"
    for part in _parts(text):
        if any(a == b and a not in ("that", "had", "is") for a, b in zip(part, part[1:], strict=False)):
            return "garbled: a word repeated"
        trigrams = list(zip(part, part[1:], part[2:], strict=False))
        if len(trigrams) != len(set(trigrams)):
            return "garbled: a phrase repeated"
    if text.count('"') % 2 or text.count("(") != text.count(")") or text.count("“") != text.count("”"):
        return "garbled: unbalanced quotes or parentheses"
    return None


def _parts(text: str) -> list[list[str]]:
    """The words outside quotations, then each quotation's words: a quotation of the answer may share a phrase with
    the words around it ('You wrote "maximizes the reconstruction error", but the reference says: training minimizes
    the reconstruction error'); a phrase repeated inside either is garbling."""
    quotes = _QUOTED.findall(text)
    return [words(_QUOTED.sub(" | ", text)), *map(words, quotes)]


def repeats_question(text: str, question: str) -> bool:
    """Whether a line mostly restates the question."""
    mine = stems(text)
    return len(mine) >= 3 and len(mine & stems(question)) >= 0.75 * len(mine)


def quotes_are_real(text: str, sentences: Sequence[str]) -> bool:
    """Whether every quotation in a line comes from the answer (its words, in any case, at 80 % or more)."""
    said = set(words(" ".join(sentences)))
    for quote in _QUOTED.findall(text):
        mine = words(quote)
        if mine and sum(w in said for w in mine) < 0.8 * len(mine):
            return False
    return True


def unsupported(text: str, reference: set[str]) -> bool:
    """Whether praise carries claims the reference does not make: a quotation, or the whole line (its praise words
    aside), of which at least a third of the content words (two in a quotation, three in a line) are never used by
    the reference, its key points or the question. The rubric may match a wrong sentence to a point by topic ("leaky
    ReLU leaks memory between time steps"); praise that echoes it would teach the error."""
    for quote in _QUOTED.findall(text):
        mine = stems(quote)
        if len(mine - reference) >= 2 and len(mine - reference) >= UNSUPPORTED_SHARE * len(mine):
            return True
    mine = stems(text, _STOP | _PRAISE)
    return len(mine - reference) >= 3 and len(mine - reference) >= UNSUPPORTED_SHARE * len(mine)


def question_problem(text: str | None) -> str | None:
    """Why a follow-up is not one interview question; None when it is."""
    problem = sentence_problem(text)
    if problem and problem not in ("cut off", "too short"):
        return problem
    if not text or not text.strip():
        return "empty"
    text = text.strip()
    if not text.endswith("?"):
        return "not a question"
    if text.count("?") > 2:
        return "several questions"
    found = words(text)
    if len(found) < 3 or len(found) > 35:
        return "not one short question"
    if not _QUESTION_WORDS & set(found[:12]):
        return "not a question"
    return None


def leaks(text: str, point: str, question: str, allowed: str = "", share: float = 0.5, least: int = 2) -> bool:
    """Whether a follow-up gives its point away: a run of five of the point's words, or most of the words the point
    adds to the question: `share` of them, at least `least` (words of the written probe, `allowed`, may be reused;
    without one, a question naturally repeats the point's subject, so a larger share is asked)."""
    mine = words(text)
    runs = _runs(words(point)) - _runs(words(f"{question} {allowed}"))
    if any(tuple(mine[i:i + RUN]) in runs for i in range(len(mine) - RUN + 1)):
        return True
    answer = stems(point) - stems(question) - stems(allowed)
    if len(answer) < least:
        return False
    return len(answer & stems(text)) >= max(least, math.ceil(share * len(answer)))


def _runs(found: list[str]) -> set[tuple[str, ...]]:
    """Every RUN words in a row."""
    return {tuple(found[i:i + RUN]) for i in range(len(found) - RUN + 1)}


@dataclass
class Checks:
    """The checks of one graded answer's critique lines against its rubric."""

    entry: Entry
    sentences: Sequence[str]
    covered: frozenset[int]  # covered and not contradicted
    wrong: dict[int, str]  # contradicted point -> the answer's words
    embed: Embed
    points: np.ndarray  # the entry's key point vectors (unit length)
    probes: np.ndarray | None = None  # the written or drafted probe vectors, row per point (zeros where none)

    @property
    def reference(self) -> set[str]:
        """The content words of the reference answer, its key points and the question."""
        entry = self.entry
        return stems(" ".join([entry.answer, entry.question, *entry.points]))

    def _sims(self, text: str) -> np.ndarray:
        """Cosine similarity of a line with each key point."""
        vector = self.embed([text])[0]
        return self.points @ vector

    def _common(self, text: str | None) -> str | None:
        problem = sentence_problem(text)
        if problem:
            return problem
        assert text is not None
        if repeats_question(text, self.entry.question):
            return "repeats the question"
        if not quotes_are_real(text, self.sentences):
            return "quotes words the answer does not contain"
        return None

    def right(self, text: str | None, point: int) -> str | None:
        """A line of praise: about a covered point, never a missed or contradicted one, nor the wrong words."""
        problem = self._common(text)
        if problem:
            return problem
        assert text is not None
        if any(quote and quote.casefold() in text.casefold() for quote in self.wrong.values()) \
                or self._echoes_wrong(text):
            return "praises a contradicted claim"
        if unsupported(text, self.reference):
            return UNSUPPORTED
        sims = self._sims(text)
        best = int(sims.argmax())
        if best not in self.covered and sims[best] - max(sims[i] for i in self.covered | {point}) > DISAGREE_MARGIN:
            return "praises a point the answer missed"
        return None

    def _echoes_wrong(self, text: str) -> bool:
        """Whether praise, in whatever words, is about an answer sentence that holds a contradicted claim: of the
        answer's sentences it is closest to one the rubric flagged (the plan's "Wrong" point among them)."""
        quotes = [q.casefold() for q in self.wrong.values() if q]
        flagged = [any(q in s.casefold() for q in quotes) for s in self.sentences]
        if not any(flagged):
            return False
        vectors = self.embed([text, *self.sentences])
        return flagged[int((vectors[1:] @ vectors[0]).argmax())]

    def gap(self, text: str | None, point: int) -> str | None:
        """A line on what is missing or wrong, or what a strong answer adds: about that point, never about a
        covered one."""
        problem = self._common(text)
        if problem:
            return problem
        assert text is not None
        sims = self._sims(text)
        best = int(sims.argmax())
        if best in self.covered and sims[best] - sims[point] > DISAGREE_MARGIN:
            return "calls a covered point missing"
        if sims[point] < sims.max() - ABOUT_MARGIN - DISAGREE_MARGIN:
            return "is about another point"
        return None

    def follow_up(self, text: str | None, target: int, deeper: bool = False) -> str | None:
        """A question about the target point (or, all covered, about the topic) that does not give it away."""
        problem = question_problem(text)
        if problem:
            return problem
        assert text is not None
        probe = self.entry.probe(target) or ""
        if leaks(text, self.entry.points[target], self.entry.question, probe):
            return "gives the answer away"
        vector = self.embed([text])[0]
        scores = self.points @ vector
        if self.probes is not None:
            scores = np.maximum(scores, self.probes @ vector)
        own = (stems(self.entry.points[target]) | stems(probe)) - stems(self.entry.question)
        if scores[target] >= scores.max() - ABOUT_MARGIN and (scores[target] >= 0.3 or own & stems(text)):
            return None
        if deeper and float(vector @ self.embed([self.entry.question])[0]) >= 0.45:
            return None
        return "not about the intended point"


class CheckMaker:
    """Builds the Checks of one answer, with the entry's point vectors (the rubric's) and probe vectors cached."""

    def __init__(self, rubric: Rubric) -> None:
        self.rubric = rubric
        self._probes: dict[tuple[str, tuple[str | None, ...]], np.ndarray] = {}
        self._lock = threading.Lock()

    def make(self, entry: Entry, result: RubricResult, contradictions: Sequence[Contradiction],
             sentences: Sequence[str]) -> Checks:
        """The checks of this answer's critique lines."""
        wrong = {c.point: c.quote for c in contradictions}
        covered = frozenset(i for i, p in enumerate(result.points) if p.covered and i not in wrong)
        return Checks(entry, sentences, covered, wrong, self.rubric.embedder.embed, self.rubric.vectors(entry).matrix,
                      self._probe_vectors(entry))

    def _probe_vectors(self, entry: Entry) -> np.ndarray | None:
        """The probes' vectors (a zero row where a point has none), cached per entry."""
        if entry.probes is None:
            return None
        key = (entry.id, tuple(entry.probes))
        with self._lock:
            cached = self._probes.get(key)
        if cached is None:
            vectors = self.rubric.embedder.embed([p or "" for p in entry.probes])
            cached = vectors * np.array([[1.0 if p else 0.0] for p in entry.probes])
            with self._lock:
                self._probes[key] = cached
                while len(self._probes) > 512:
                    self._probes.pop(next(iter(self._probes)))
        return cached
