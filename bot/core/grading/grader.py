"""Grading façade: guards, then the rubric (shown at once), then the model's critique."""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.bank import Entry
from bot.core.embedder import Embedder
from bot.core.grading import critique as cq
from bot.core.grading.checks import ClaimCheck
from bot.core.grading.compose import compose
from bot.core.grading.conflicts import Contradiction
from bot.core.grading.credit import Recredited, cited, recredit
from bot.core.grading.critique_checks import CheckMaker
from bot.core.grading.critique_checks import Checks as CritiqueChecks
from bot.core.grading.guards import MESSAGES, Screen, screen
from bot.core.grading.hints import area as hint_area
from bot.core.grading.hints import keywords  # noqa: F401 - re-exported (tests measure follow-ups with it)
from bot.core.grading.lines import MAX_FEEDBACK, contradiction_lines, feedback_lines, follow_up_line
from bot.core.grading.listing import listed
from bot.core.grading.probes import ProbeDrafts
from bot.core.grading.rubric import FEW_POINTS, TERSE_CAP, PointMatch, Rubric, RubricResult, score_of
from bot.core.llm.base import LLM, ChatPrompt, TokenCallback
from bot.errors import CoachError

log = logging.getLogger(__name__)

# Each contradiction found in code (the answer denies or reverses a key point in its own words) un-covers that point
# and costs this many points more: a confidently wrong answer must end below a partial one that is merely incomplete.
CONTRADICTION_PENALTY = 35
# ... and the whole answer earns at most CONTRADICTED_CAP, in the no-credit band of the scale with one-word answers:
# a confidently wrong claim is not outweighed by the right ones around it, and must land below a one-line partial
# answer (those mostly score from about 15 up, but terse right ones as low as 9 on blind part 9, which tied a flagged
# answer at 10; benchmarks/scoring_targets).
CONTRADICTED_CAP = 5
Related = Callable[[Entry], Sequence[Entry]]


@dataclass(frozen=True)
class KeyPoint:
    """One key point as graded: covered or not, how close the answer came, and the sentence that matched."""

    text: str
    covered: bool
    similarity: float
    evidence: str | None
    contradicted: str | None = None  # the answer's words that contradict this point, when it does
    rests_on: str | None = None  # the flagged words that were this point's only support (so it is not credited)
    partly: bool = False  # earning some of its credit, but not most of it (rubric.FULLY)

    def to_json(self) -> dict[str, Any]:
        """The shape of `grade --json`'s key_points items."""
        return {"text": self.text, "covered": self.covered, "similarity": round(self.similarity, 3),
                "evidence": self.evidence}


@dataclass(frozen=True)
class CritiqueRecord:
    """What the model wrote for a critique and which of its lines passed their checks (for quality figures)."""

    raw: str
    kept: tuple[str, ...]  # of "right", "gap", "stronger", "follow_up"
    asked: tuple[str, ...] = ()  # the lines the model was asked for

    @property
    def revised(self) -> bool:
        """Whether a line the user saw streaming was replaced after its check (the follow-up is not streamed)."""
        return any(line not in self.kept for line in self.asked if line != "follow_up")


@dataclass
class Grade:
    """A graded answer; to_json() is the `grade --json` contract, the other fields serve the coach."""

    question_id: str
    question: str
    score: int
    key_points: list[KeyPoint]
    feedback: list[str] = field(default_factory=list)
    follow_up: str | None = None
    llm: bool = False
    notes: list[str] = field(default_factory=list)
    guard: str | None = None
    relevance: float = 0.0
    rubric_score: int = 0
    strengths: list[str] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    contradictions: list[Contradiction] = field(default_factory=list)
    follow_up_point: int | None = None
    injected: list[str] = field(default_factory=list)
    truncated: bool = False
    critique: CritiqueRecord | None = field(default=None, repr=False)
    result: RubricResult | None = field(default=None, repr=False)
    sentences: tuple[str, ...] = field(default=(), repr=False)

    @property
    def flagged(self) -> bool:
        """Whether the answer was empty, evasive, gibberish, off-topic or not English (no critique, no follow-up)."""
        return self.guard in ("empty", "dont_know", "gibberish", "asked", "language", "off_topic", "echo")

    @property
    def covered(self) -> list[int]:
        """Indices of the covered key points."""
        return [i for i, p in enumerate(self.key_points) if p.covered]

    @property
    def missed(self) -> list[int]:
        """Indices of the key points not covered."""
        return [i for i, p in enumerate(self.key_points) if not p.covered]

    def view(self) -> dict[str, Any]:
        """to_json() plus what the score text shows besides: notes and the contradicted points' quotes."""
        return self.to_json() | {"notes": list(self.notes),
                                 "contradicted": {str(c.point): c.quote for c in self.contradictions},
                                 "uncredited": {str(i): p.rests_on for i, p in enumerate(self.key_points)
                                                if p.rests_on},
                                 "partly": [i for i, p in enumerate(self.key_points) if p.partly]}

    def to_json(self) -> dict[str, Any]:
        """Exactly the documented JSON of `grade --json`."""
        return {"question_id": self.question_id, "question": self.question, "score": int(self.score),
                # What went well first: a strong answer's only line is its praise (it read as no feedback at all).
                "key_points": [p.to_json() for p in self.key_points], "feedback": [*self.strengths, *self.feedback],
                "follow_up": self.follow_up, "llm": bool(self.llm)}


def rubric_follow_up(entry: Entry, result: RubricResult, answer: str = "") -> tuple[str | None, int]:
    """The follow-up without the model: the written (or drafted) probe of the first missed point (of the weakest
    covered one when all are covered), and its target; no question when the deck has no probe for it."""
    target = cq.target_point(result)
    return entry.probe(target), target


def penalised(result: RubricResult, contradictions: Sequence[Contradiction]) -> int:
    """The score once each contradicted point earns nothing and costs CONTRADICTION_PENALTY more."""
    if not contradictions:
        return result.score
    return penalised_credits([p.credit for p in result.points], {c.point for c in contradictions})


def penalised_credits(credits: Sequence[float], wrong: set[int]) -> int:
    """The score of these point credits once the contradicted points earn nothing, cost more, and cap the answer."""
    kept = [0.0 if i in wrong else c for i, c in enumerate(credits)]
    return max(0, min(score_of(kept) - CONTRADICTION_PENALTY * len(wrong), CONTRADICTED_CAP))


def _key_points(result: RubricResult, contradictions: Sequence[Contradiction] = (),
                again: Sequence[Recredited] = ()) -> list[KeyPoint]:
    """The JSON-facing key points; a contradicted point is not covered, nor one whose only support is flagged words
    (a point said by another clause of that sentence cites that clause)."""
    reasons = {c.point: c.quote for c in contradictions}
    read = {r.point: r for r in again}
    out = []
    for i, p in enumerate(result.points):
        r = read.get(i)
        out.append(KeyPoint(p.text, p.covered and i not in reasons and not (r and r.flagged), p.similarity,
                            r.evidence if r and r.evidence else cited(p.text, p.evidence), reasons.get(i),
                            r.flagged if r else None,
                            p.partly and i not in reasons and not (r and r.flagged)))
    return out


class Grader:
    """Grades answers: guards and rubric in code, critique by the model when there is one."""

    def __init__(self, embedder: Embedder, llm: LLM | None = None, related: Related | None = None, *,
                 prompts_dir: Path | None = None, defend: bool = True, probes: ProbeDrafts | None = None) -> None:
        self.rubric = Rubric(embedder)
        self.claims = ClaimCheck(embedder=embedder)
        self.llm = llm
        self.related = related
        self.prompts_dir = prompts_dir
        self.defend = defend
        self.probes = probes
        self._fixed: dict[tuple[str, str], ChatPrompt] = {}
        self._tokens: dict[tuple[str, str], str] = {}
        self._checks = CheckMaker(self.rubric)
        self._lock = threading.Lock()

    @property
    def has_llm(self) -> bool:
        """Whether a model is configured and has not failed to load."""
        return self.llm is not None and getattr(self.llm, "failed", None) is None

    @property
    def templates(self) -> cq.Templates:
        """The critique prompt templates."""
        return cq.load_templates(self.prompts_dir)

    def prepare(self, entry: Entry) -> None:
        """Encode and parse the entry's key points now (when the question is shown): grading is then one pass."""
        self.rubric.vectors(entry)
        self.claims.prepare(entry)

    # -- rubric ----------------------------------------------------------------------------------------------

    def rubric_grade(self, entry: Entry, answer: str) -> Grade:
        """Guards and rubric only: fast, shown at once; feedback and follow-up from the rubric."""
        checked = screen(answer, defend=self.defend)
        if checked.blocked:
            return self._blocked(entry, checked)
        result = self.rubric.grade(entry, checked.sentences)
        guard = "echo" if result.echo else "off_topic" if result.off_topic else checked.kind
        if guard is None and len(entry.points) > FEW_POINTS and listed(checked.sentences, self.claims.parser):
            guard = "listed"
        notes = ([MESSAGES[guard]] if guard in ("echo", "off_topic", "listed") else []) + list(checked.notes)
        found = [] if guard in ("echo", "off_topic") else \
            self.claims.find(entry, result, checked.sentences)
        score = 0 if guard in ("echo", "off_topic") else penalised(result, found)
        if guard == "listed":
            score = min(score, TERSE_CAP)
        again = recredit(result.points, found, checked.sentences, self.rubric.embedder,
                         self.rubric.vectors(entry).matrix) if found else []
        grade = Grade(entry.id, entry.question, score, _key_points(result, found, again), notes=notes, guard=guard,
                      relevance=round(result.relevance, 4), rubric_score=score, injected=list(checked.injected),
                      truncated=checked.truncated, result=result, sentences=checked.sentences, contradictions=found)
        return self.rubric_feedback(entry, grade)

    def _blocked(self, entry: Entry, checked: Screen) -> Grade:
        """Empty, evasive or gibberish answers: 0, one kind sentence, no follow-up."""
        points = [KeyPoint(p, False, 0.0, None) for p in entry.points]
        return Grade(entry.id, entry.question, 0, points, feedback=list(checked.notes[:1]), notes=list(checked.notes),
                     guard=checked.kind, injected=list(checked.injected), truncated=checked.truncated)

    def rubric_feedback(self, entry: Entry, grade: Grade) -> Grade:
        """The grade with the rubric's own feedback and follow-up (no model): the path without an LLM."""
        if grade.flagged or grade.result is None:
            notes = grade.notes[:1] or [MESSAGES["empty"]]
            if grade.injected and MESSAGES["injection"] not in notes:  # the user learns the text was ignored
                notes.append(MESSAGES["injection"])
            return dataclasses.replace(grade, feedback=notes, follow_up=None, follow_up_point=None, llm=False)
        lines = feedback_lines(grade.result, grade.contradictions, bool(grade.injected))
        if grade.truncated:
            lines.insert(0, MESSAGES["huge"].format(words=len(" ".join(grade.sentences).split())))
        question, target = rubric_follow_up(self.with_probes(entry), grade.result, " ".join(grade.sentences))
        return dataclasses.replace(grade, feedback=lines, follow_up=question, follow_up_point=target, llm=False)

    # -- critique ------------------------------------------------------------------------------------------

    def fixed_prompt(self, entry: Entry) -> ChatPrompt:
        """System text and the answer-independent part of the critique prompt (prewarm it with the question)."""
        entry = self.with_probes(entry)
        key = (entry.id, entry.content_hash())
        with self._lock:
            cached = self._fixed.get(key)
        if cached is None:
            related = [r for r in (self.related(entry) if self.related else []) if r.id != entry.id][:2]
            cached = ChatPrompt(self.templates.system, cq.fixed_text(entry, related, self.templates))
            with self._lock:
                self._fixed[key] = cached
        return cached

    def with_probes(self, entry: Entry) -> Entry:
        """The entry with drafted probes where the deck has none (drafting starts in the background once)."""
        if self.probes is None or (entry.probes is not None and all(entry.probes)):
            return entry
        return self.probes.fill(entry, self.llm if self.has_llm else None)

    def _token(self, entry: Entry, session: str | None) -> str | None:
        """The random marker of a session's current question, the same for text typed ahead and the final
        answer (so the typed part is reused), never shown to the user; a fresh one per call without a session."""
        if session is None:
            return None
        with self._lock:
            key = (session, entry.id)
            token = self._tokens.get(key)
            if token is None:
                token = self._tokens[key] = secrets.token_hex(3)
                while len(self._tokens) > 4096:
                    self._tokens.pop(next(iter(self._tokens)))
            return token

    def _rubric_of(self, entry: Entry, answer: str, grade: Grade | None) -> Grade:
        """The rubric grade for this answer: the one given when it carries its result, else computed."""
        if grade is not None and grade.result is not None and grade.question_id == entry.id:
            return grade
        return self.rubric_grade(entry, answer)

    def critique_prompt(self, entry: Entry, answer: str, grade: Grade | None = None, *,
                        token: str | None = None, session: str | None = None) -> ChatPrompt:
        """The whole critique prompt: the cached fixed part, the delimited answer, and the labels of the lines the
        model is to write (each names the point it is about: what code found)."""
        entry = self.with_probes(entry)
        base = self._rubric_of(entry, answer, grade)
        fixed = self.fixed_prompt(entry)
        if base.result is None:
            return fixed
        variable = cq.variable_text(base.sentences, self.templates, token or self._token(entry, session))
        plan = cq.plan(base.result, base.contradictions)
        return ChatPrompt(fixed.system, fixed.fixed, variable, cq.labels(plan, entry, entry.probe(plan.target)))

    def typed_prompt(self, entry: Entry, text: str, session: str) -> ChatPrompt | None:
        """The prompt as far as the answer typed so far goes (to evaluate ahead while the user types); None when
        that text would not reach the model (empty, evasive, addressed to the grader only)."""
        checked = screen(text, defend=self.defend)
        if checked.blocked or not checked.sentences:
            return None
        fixed = self.fixed_prompt(entry)
        token = self._token(entry, session)
        assert token is not None
        return ChatPrompt(fixed.system, fixed.fixed, cq.typed_text(checked.sentences, token))

    def critique(self, entry: Entry, answer: str, grade: Grade | None = None, *,
                 on_token: TokenCallback | None = None, session: str | None = None) -> Grade:
        """What was right, the most important gap, what a strong answer adds, and the follow-up, written by the
        model and checked line by line against the rubric; rubric-only on failure. on_token gets the prose."""
        entry = self.with_probes(entry)
        base = self._rubric_of(entry, answer, grade)
        if base.flagged or base.result is None or not self.has_llm or self.llm is None:
            return self.rubric_feedback(entry, base)
        prompt = self.critique_prompt(entry, answer, base, session=session)
        try:
            text = cq.run(self.llm, prompt, on_token=on_token, session=session)
        except (ValueError, CoachError, RuntimeError, TimeoutError) as exc:
            log.warning("critique failed, rubric only: %s", exc)
            fallback = self.rubric_feedback(entry, base)
            note = "The model's critique was unavailable, so this feedback comes from the rubric only."
            return dataclasses.replace(fallback, notes=[*fallback.notes, note])
        final = self._apply(entry, base, cq.parse(text, prompt.labels), text)
        if final.critique is not None and not final.critique.kept:
            fallback = self.rubric_feedback(entry, base)
            note = "The model's critique did not pass its checks, so this feedback comes from the rubric only."
            return dataclasses.replace(fallback, notes=[*fallback.notes, note], critique=final.critique)
        return final

    def checks(self, entry: Entry, base: Grade) -> CritiqueChecks:
        """The checks of this answer's critique lines (the entry's point and probe vectors are cached)."""
        assert base.result is not None
        return self._checks.make(entry, base.result, base.contradictions, base.sentences)

    def _apply(self, entry: Entry, base: Grade, found: cq.Lines, raw: str = "") -> Grade:
        """The model's lines that pass their checks, the rubric's own lines where they do not; the score, the
        points and the contradictions stay the code's."""
        assert base.result is not None
        made = compose(entry, base.result, base.contradictions, found, self.checks(entry, base))
        lines = contradiction_lines(base.contradictions) + made.lines
        if base.injected:
            lines.insert(0, MESSAGES["injection"])
        if base.truncated:
            lines.insert(0, MESSAGES["huge"].format(words=len(" ".join(base.sentences).split())))
        return dataclasses.replace(base, feedback=lines[: MAX_FEEDBACK + 2], follow_up=made.follow_up,
                                   follow_up_point=cq.plan(base.result, base.contradictions).target, llm=True,
                                   strengths=made.strengths, improvements=made.improvements,
                                   critique=CritiqueRecord(raw, made.kept, made.asked))

    def grade(self, entry: Entry, answer: str, use_llm: bool = True, on_token: TokenCallback | None = None,
              session: str | None = None) -> Grade:
        """Rubric, then (with use_llm and a model) the critique."""
        base = self.rubric_grade(entry, answer)
        if not use_llm:
            return base
        return self.critique(entry, answer, base, on_token=on_token, session=session)

    # -- follow-ups and hints ------------------------------------------------------------------------------

    def grade_follow_up(self, entry: Entry, point_index: int | None, answer: str, follow_up: str = "") -> Grade:
        """Grade a follow-up answer against the one key point it targets (the whole rubric when none)."""
        if point_index is None or not 0 <= point_index < len(entry.points):
            return self.rubric_grade(entry, answer)
        checked = screen(answer, defend=self.defend)
        question = follow_up or entry.question
        if checked.blocked:
            return dataclasses.replace(self._blocked(entry, checked), question=question,
                                       key_points=[KeyPoint(entry.points[point_index], False, 0.0, None)])
        match = self.rubric.match_point(entry, point_index, checked.sentences)
        return Grade(entry.id, question, int(round(100 * match.credit)), [_single(match)],
                     feedback=[follow_up_line(match)], notes=list(checked.notes), guard=checked.kind,
                     rubric_score=int(round(100 * match.credit)), injected=list(checked.injected),
                     truncated=checked.truncated, sentences=checked.sentences)

    def probe(self, entry: Entry, point: int) -> str | None:
        """The interviewer's question for a missed point: its written (or drafted) probe, which asks without giving
        the point away; None while the deck has none for it (never a question with gaps)."""
        entry = self.with_probes(entry)
        return entry.probe(point) if 0 <= point < len(entry.points) else None

    def hint(self, entry: Entry, shown: int = 0, covered: Sequence[int] = ()) -> str:
        """A nudge toward a point not yet covered without stating it: its probe, else the words of its area."""
        entry = self.with_probes(entry)
        left = [i for i in range(len(entry.points)) if i not in set(covered)] or list(range(len(entry.points)))
        index = left[shown % len(left)]
        probe = entry.probe(index)
        if probe:
            return f"Think about this: {probe}"
        area = hint_area(entry, index, limit=1 + min(shown // len(left), 1))
        return f"Think about {area}: what role does it play here?"


def _single(match: PointMatch) -> KeyPoint:
    """A follow-up's one key point."""
    return KeyPoint(match.text, match.covered, match.similarity, match.evidence)
