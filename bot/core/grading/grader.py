"""Grading façade: guards, then the rubric (shown at once), then the model's critique."""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.bank import Entry
from bot.core.embedder import Embedder
from bot.core.grading import critique as cq
from bot.core.grading.checks import ClaimCheck
from bot.core.grading.conflicts import Contradiction
from bot.core.grading.guards import MESSAGES, Screen, screen
from bot.core.grading.rubric import PointMatch, Rubric, RubricResult, score_of
from bot.core.llm.base import LLM, ChatPrompt, TokenCallback
from bot.errors import CoachError

log = logging.getLogger(__name__)

# Each contradiction found in code (the answer denies or reverses a key point in its own words) un-covers that point
# and costs this many points more: a confidently wrong answer must end below a partial one that is merely incomplete.
CONTRADICTION_PENALTY = 35
# ... and the whole answer earns at most CONTRADICTED_CAP, in the no-credit band of the scale with one-word answers:
# a confidently wrong claim is not outweighed by the right ones around it, and must land below a one-line partial
# answer (those score from about 15 up; benchmarks/scoring_targets).
CONTRADICTED_CAP = 10
MAX_FEEDBACK = 3
Related = Callable[[Entry], Sequence[Entry]]


@dataclass(frozen=True)
class KeyPoint:
    """One key point as graded: covered or not, how close the answer came, and the sentence that matched."""

    text: str
    covered: bool
    similarity: float
    evidence: str | None
    contradicted: str | None = None  # the answer's words that contradict this point, when it does

    def to_json(self) -> dict[str, Any]:
        """The shape of `grade --json`'s key_points items."""
        return {"text": self.text, "covered": self.covered, "similarity": round(self.similarity, 3),
                "evidence": self.evidence}


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
    result: RubricResult | None = field(default=None, repr=False)
    sentences: tuple[str, ...] = field(default=(), repr=False)

    @property
    def flagged(self) -> bool:
        """Whether the answer was empty, evasive, gibberish or off-topic (no critique, no follow-up)."""
        return self.guard in ("empty", "dont_know", "gibberish", "off_topic", "echo")

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
                                 "contradicted": {str(c.point): c.quote for c in self.contradictions}}

    def to_json(self) -> dict[str, Any]:
        """Exactly the documented JSON of `grade --json`."""
        return {"question_id": self.question_id, "question": self.question, "score": int(self.score),
                "key_points": [p.to_json() for p in self.key_points], "feedback": list(self.feedback),
                "follow_up": self.follow_up, "llm": bool(self.llm)}


# -- words for hints and rubric-only follow-ups ---------------------------------------------------------------------

_STOP = frozenset({"a", "an", "the", "and", "or", "but", "if", "then", "than", "so", "of", "to", "in", "on", "at",
    "by", "for", "with", "from", "into", "onto", "over", "under", "about", "as", "is", "are", "was", "were", "be",
    "been", "being", "it", "its", "this", "that", "these", "those", "which", "who", "whom", "what", "when", "where",
    "why", "how", "can", "could", "may", "might", "must", "shall", "should", "will", "would", "do", "does", "did",
    "done", "has", "have", "had", "having", "not", "no", "only", "also", "more", "most", "less", "least", "very",
    "each", "every", "any", "all", "some", "such", "same", "other", "others", "both", "either", "neither", "one",
    "two", "many", "much", "few", "their", "there", "they", "them", "he", "she", "we", "you", "your", "our", "his",
    "her", "too", "just", "well", "used", "use", "uses", "using", "make", "makes", "made", "give", "gives",
    "given", "get", "gets", "between", "across", "while", "during", "after", "before", "because", "through",
    "whether", "often", "usually", "typically", "rather", "instead", "still", "even", "like"})
# Generic verbs and adjectives: they name no area of a point.
_VAGUE = frozenset({"keeps", "keep", "supports", "lets", "let", "offer", "offers", "decides", "provides", "helps",
    "allows", "means", "becomes", "takes", "shows", "tries", "needs", "need", "new", "large", "regular", "previous",
    "next", "easy", "easily", "common", "simple", "good", "better", "best", "high", "low", "different", "similar",
    "specific", "certain", "various", "whole", "full", "main", "key", "important", "typical", "standard",
    "sensible", "own", "way", "ways", "thing", "things", "part", "parts", "much", "enough", "works", "work"})


def _salience(word: str) -> float:
    """How well a word names an area: names and acronyms first, then long nouns; adverbs and verb forms last."""
    if any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word):
        return 20.0
    return len(word) - (8 if word.endswith("ly") else 3 if word.endswith(("ed", "ing", "es")) else 0)


def keywords(point: str, avoid: str = "", limit: int = 2) -> list[str]:
    """The point's most telling words (not in avoid, not stopwords), in the point's order: names an area."""
    seen = set(re.findall(r"[a-z0-9-]+", avoid.casefold()))
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9-]+", point) if w.casefold() not in _STOP | _VAGUE | seen]
    ranked = sorted(dict.fromkeys(words), key=_salience, reverse=True)[:limit]
    return [w for w in dict.fromkeys(words) if w in ranked]


def aims_at(question: str | None, entry: Entry, index: int) -> bool:
    """Whether a follow-up names one of the telling words of key point index (the 1.5B model often drifts)."""
    if not question:
        return False
    telling = {w.casefold()[:5] for w in keywords(entry.points[index], entry.question, limit=4)}
    return bool(telling & {w.casefold()[:5] for w in re.findall(r"[A-Za-z][A-Za-z0-9-]+", question)})


def _area(entry: Entry, index: int, answer: str = "", limit: int = 2) -> str:
    """Words that name the area of a key point without stating it."""
    others = " ".join(p for i, p in enumerate(entry.points) if i != index)
    words = keywords(entry.points[index], f"{entry.question} {answer} {others}", limit) or \
        keywords(entry.points[index], entry.question, limit) or keywords(entry.points[index], "", limit)
    return " and ".join(w if w.isupper() else w.lower() for w in words) or "the part you left out"


def rubric_follow_up(entry: Entry, result: RubricResult, answer: str = "") -> tuple[str, int]:
    """A follow-up question toward the first missed point (a deeper one when all are covered), and its target."""
    target = cq.target_point(result)
    area = _area(entry, target, answer)
    if result.points[target].covered:
        return f"Going one step further: where do {area} matter in practice, and what trade-offs come with them?", \
            target
    return f"Your answer left one aspect out: what can you tell me about {area} here?", target


def _lower_first(text: str) -> str:
    """A sentence fit to follow a colon: "Dropout …" becomes "dropout …", "TensorFlow …" and "L2 …" stay."""
    first = text.split(" ", 1)[0]
    return text[:1].lower() + text[1:] if first[1:].islower() else text


def feedback_lines(result: RubricResult, contradictions: Sequence[Contradiction], injected: bool) -> list[str]:
    """Two or three specific feedback lines from the rubric: contradictions, missed and near-missed points."""
    lines = [f'You wrote "{c.quote}", but the reference says: {_lower_first(c.reason.rstrip("."))}.'
             for c in contradictions]
    contradicted = {c.point for c in contradictions}
    missed = [p for i, p in enumerate(result.points) if not p.covered and i not in contradicted]
    for point in missed[:2]:
        verb = "Only partly covered" if point.credit > 0 else "Missing"
        lines.append(f"{verb}: {_lower_first(point.text.rstrip('.'))}.")
    if len(missed) > 2:
        lines.append(f"{len(missed) - 2} more key point{'s' if len(missed) > 3 else ''} missed; compare with the "
                     "reference answer.")
    if not missed and not contradictions:
        lines.append(f"You covered all {len(result.points)} key points.")
    covered = [p for p in result.points if p.covered]
    if len(lines) < 2 and covered:
        lines.append(f"Well explained: {_lower_first(covered[0].text.rstrip('.'))}.")
    lines = lines[:MAX_FEEDBACK]
    return ([MESSAGES["injection"]] if injected else []) + lines


def penalised(result: RubricResult, contradictions: Sequence[Contradiction]) -> int:
    """The score once each contradicted point earns nothing and costs CONTRADICTION_PENALTY more."""
    if not contradictions:
        return result.score
    return penalised_credits([p.credit for p in result.points], {c.point for c in contradictions})


def penalised_credits(credits: Sequence[float], wrong: set[int]) -> int:
    """The score of these point credits once the contradicted points earn nothing, cost more, and cap the answer."""
    kept = [0.0 if i in wrong else c for i, c in enumerate(credits)]
    return max(0, min(score_of(kept) - CONTRADICTION_PENALTY * len(wrong), CONTRADICTED_CAP))


def _key_points(result: RubricResult, contradictions: Sequence[Contradiction] = ()) -> list[KeyPoint]:
    """The JSON-facing key points; a contradicted point is not covered."""
    reasons = {c.point: c.quote for c in contradictions}
    return [KeyPoint(p.text, p.covered and i not in reasons, p.similarity, p.evidence, reasons.get(i))
            for i, p in enumerate(result.points)]


class Grader:
    """Grades answers: guards and rubric in code, critique by the model when there is one."""

    def __init__(self, embedder: Embedder, llm: LLM | None = None, related: Related | None = None, *,
                 prompts_dir: Path | None = None, defend: bool = True) -> None:
        self.rubric = Rubric(embedder)
        self.claims = ClaimCheck()
        self.llm = llm
        self.related = related
        self.prompts_dir = prompts_dir
        self.defend = defend
        self._fixed: dict[tuple[str, str], ChatPrompt] = {}
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
        notes = ([MESSAGES[guard]] if guard in ("echo", "off_topic") else []) + list(checked.notes)
        found = [] if guard in ("echo", "off_topic") else \
            self.claims.find(entry, result, checked.sentences)
        score = 0 if guard in ("echo", "off_topic") else penalised(result, found)
        grade = Grade(entry.id, entry.question, score, _key_points(result, found), notes=notes, guard=guard,
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
        question, target = rubric_follow_up(entry, grade.result, " ".join(grade.sentences))
        return dataclasses.replace(grade, feedback=lines, follow_up=question, follow_up_point=target, llm=False)

    # -- critique ------------------------------------------------------------------------------------------

    def fixed_prompt(self, entry: Entry) -> ChatPrompt:
        """System text and the answer-independent part of the critique prompt (prewarm it with the question)."""
        key = (entry.id, entry.content_hash())
        with self._lock:
            cached = self._fixed.get(key)
        if cached is None:
            related = [r for r in (self.related(entry) if self.related else []) if r.id != entry.id][:2]
            cached = ChatPrompt(self.templates.system, cq.fixed_text(entry, related, self.templates))
            with self._lock:
                self._fixed[key] = cached
        return cached

    def _rubric_of(self, entry: Entry, answer: str, grade: Grade | None) -> Grade:
        """The rubric grade for this answer: the one given when it carries its result, else computed."""
        if grade is not None and grade.result is not None and grade.question_id == entry.id:
            return grade
        return self.rubric_grade(entry, answer)

    def critique_prompt(self, entry: Entry, answer: str, grade: Grade | None = None, *,
                        token: str | None = None) -> ChatPrompt:
        """The whole critique prompt: the cached fixed part plus rubric findings and the delimited answer."""
        base = self._rubric_of(entry, answer, grade)
        fixed = self.fixed_prompt(entry)
        if base.result is None:
            return fixed
        variable = cq.variable_text(base.sentences, base.result, base.contradictions, self.templates, token)
        return ChatPrompt(fixed.system, fixed.fixed, variable)

    def critique(self, entry: Entry, answer: str, grade: Grade | None = None, *,
                 on_token: TokenCallback | None = None, session: str | None = None) -> Grade:
        """Strengths, improvements and the follow-up from the model; rubric-only on failure."""
        base = self._rubric_of(entry, answer, grade)
        if base.flagged or base.result is None or not self.has_llm or self.llm is None:
            return self.rubric_feedback(entry, base)
        prompt = self.critique_prompt(entry, answer, base)
        try:
            found = cq.run(self.llm, prompt, base.sentences, on_token=on_token, session=session,
                           wrong=[c.quote for c in base.contradictions])
        except (ValueError, CoachError, RuntimeError, TimeoutError) as exc:
            log.warning("critique failed, rubric only: %s", exc)
            fallback = self.rubric_feedback(entry, base)
            note = "The model's critique was unavailable, so this feedback comes from the rubric only."
            return dataclasses.replace(fallback, notes=[*fallback.notes, note])
        return self._apply(entry, base, found)

    def _apply(self, entry: Entry, base: Grade, found: cq.Critique) -> Grade:
        """The model's feedback added to the grade; the score, the points and the contradictions stay the code's."""
        assert base.result is not None
        lines = feedback_lines(base.result, base.contradictions, bool(base.injected))
        lines = (lines + [f"To improve: {_lower_first(s.rstrip('.'))}." for s in found.improvements[:1]
                          if s not in found.strengths])
        target = cq.target_point(base.result)
        # Aimed at a missed point, the model's question must name it; a deeper one (all covered) may range wider.
        aimed = base.result.points[target].covered or aims_at(found.follow_up, entry, target)
        follow_up = found.follow_up if found.follow_up and aimed else \
            rubric_follow_up(entry, base.result, " ".join(base.sentences))[0]
        return dataclasses.replace(base, feedback=lines[: MAX_FEEDBACK + 2], follow_up=follow_up,
                                   follow_up_point=target, llm=True, strengths=list(found.strengths),
                                   improvements=list(found.improvements))

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
                     feedback=[_follow_up_line(match)], notes=list(checked.notes), guard=checked.kind,
                     rubric_score=int(round(100 * match.credit)), injected=list(checked.injected),
                     truncated=checked.truncated, sentences=checked.sentences)

    def hint(self, entry: Entry, shown: int = 0, covered: Sequence[int] = ()) -> str:
        """A nudge toward a point not yet covered, naming its area but not its content; more each time."""
        left = [i for i in range(len(entry.points)) if i not in set(covered)] or list(range(len(entry.points)))
        index = left[shown % len(left)]
        area = _area(entry, index, limit=1 + min(shown // len(left), 1))
        return f"Think about {area}: what role does it play here?"


def _single(match: PointMatch) -> KeyPoint:
    """A follow-up's one key point."""
    return KeyPoint(match.text, match.covered, match.similarity, match.evidence)


def _follow_up_line(match: PointMatch) -> str:
    """One line on a follow-up answer; the point may be stated now that the user has tried."""
    if match.covered:
        return f"That covers it: {_lower_first(match.text.rstrip('.'))}."
    if match.credit > 0:
        return f"Partly there; the full point is: {_lower_first(match.text.rstrip('.'))}."
    return f"Not quite; the point was: {_lower_first(match.text.rstrip('.'))}."
