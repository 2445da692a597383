"""The model's critique: the prompt, the line format it writes in, and reading it back.

The model writes a few labelled lines ("Right", "Missing" or "Wrong", "Stronger", "Follow-up"), chosen by code from
the rubric's findings. With the in-process model the labels are written by code, so the format costs no sampling and
needs no grammar: generation runs at the model's free speed. Each line is then checked (critique_checks) and replaced
by a line written from the rubric when it fails.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.config import REPO_ROOT
from bot.core.bank import Entry
from bot.core.grading.conflicts import Contradiction
from bot.core.grading.rubric import RubricResult
from bot.core.llm.base import LLM, ChatPrompt, TokenCallback

MAX_SENTENCES = 16  # of the answer shown to the model: the rubric grades up to MAX_WORDS, the prompt stays short
PROMPT_FILES = ("critique_system.md", "critique_fixed.md", "critique_answer.md")
MAX_TOKENS = 190  # sampled and forced tokens: four lines of about 22 words and their labels
KINDS = ("Right", "Missing", "Wrong", "Stronger", "Follow-up")
HEADINGS = {"Right": "What went well", "Missing": "Most important gap", "Wrong": "What needs correcting",
            "Stronger": "A strong answer would add"}
# A label, with what it names in parentheses (which may hold one level of parentheses: "max(0, x)").
_LABEL = re.compile(r"^\s*\**(Right|Missing|Wrong|Stronger|Follow-up)\**\s*(?:\((?:[^()\n]|\([^()\n]*\))*\))?\s*:\s*",
                    re.IGNORECASE)


@dataclass(frozen=True)
class Templates:
    """The three Markdown prompt templates."""

    system: str
    fixed: str
    variable: str


@lru_cache(maxsize=8)
def load_templates(folder: Path | None = None) -> Templates:
    """Read prompts/critique_*.md (once per folder)."""
    base = folder or REPO_ROOT / "prompts"
    system, fixed, variable = ((base / name).read_text(encoding="utf-8") for name in PROMPT_FILES)
    return Templates(system.strip(), fixed.strip() + "\n", variable.strip() + "\n")


@dataclass(frozen=True)
class Plan:
    """What the model is asked to write, decided in code from the rubric: which point each line is about."""

    right: int | None  # a covered point to praise (the best matched one)
    gap: int | None  # the most important missed point
    wrong: Contradiction | None  # the first contradiction found in code
    extra: int | None  # the next missed point: what a strong answer would add
    target: int  # the follow-up's point
    deeper: bool  # every point covered: the follow-up goes deeper


@dataclass(frozen=True)
class Lines:
    """What the model wrote, line by line (None: absent, empty or cut off by the token limit)."""

    right: str | None = None
    gap: str | None = None
    stronger: str | None = None
    follow_up: str | None = None


def target_point(result: RubricResult) -> int:
    """The point the follow-up aims at: the first missed one, else the weakest covered one."""
    missed = [i for i, p in enumerate(result.points) if not p.covered]
    if missed:
        return missed[0]
    return min(range(len(result.points)), key=lambda i: result.points[i].similarity)


def plan(result: RubricResult, contradictions: Sequence[Contradiction]) -> Plan:
    """The critique's plan: praise the best covered point, then the first contradiction or missed point."""
    wrong = {c.point for c in contradictions}
    covered = [i for i, p in enumerate(result.points) if p.covered and i not in wrong]
    missed = [i for i, p in enumerate(result.points) if not p.covered and i not in wrong]
    right = max(covered, key=lambda i: result.points[i].similarity) if covered else None
    first_wrong = min(contradictions, key=lambda c: c.point) if contradictions else None
    gap = None if first_wrong is not None or not missed else missed[0]
    extra = next((i for i in missed if i != gap), None)
    target = first_wrong.point if first_wrong is not None else target_point(result)
    return Plan(right, gap, first_wrong, extra, target, deeper=not missed and not contradictions)


def labels(plan_: Plan, entry: Entry, probe: str | None) -> tuple[str, ...]:
    """The line labels, in order; each names the point its line is about (what the model must stick to)."""
    out = []
    if plan_.right is not None:
        out.append(f"Right (key point {plan_.right + 1}):")
    if plan_.wrong is not None:
        out.append(f'Wrong (key point {plan_.wrong.point + 1}; you wrote "{_clip(plan_.wrong.quote, 12)}"):')
    elif plan_.gap is not None:
        out.append(f"Missing (key point {plan_.gap + 1}: {entry.points[plan_.gap]}):")
    if plan_.extra is not None:
        out.append(f"Stronger (key point {plan_.extra + 1}: {entry.points[plan_.extra]}):")
    written = f'; rewrite this question for the candidate: "{probe}"' if probe else ""
    # The 1.5B model tends to answer the question it reads instead of asking it: the question's first word is
    # written for it, so the line starts as a question.
    out.append(f"Follow-up (key point {plan_.target + 1}{written}): {opener(probe)}")
    return tuple(out)


def opener(probe: str | None) -> str:
    """The first word of the follow-up: the probe's own, when it opens like a question."""
    first = (probe or "").split(" ", 1)[0].strip(",")
    return first if first.casefold() in _OPENERS else "What"


_OPENERS = frozenset(re.findall(r"\w+", "what why how when where which who whose can could would should do does "
                                          "did is are was were will has have if in"))


def _clip(text: str, words: int) -> str:
    """At most `words` words of text."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def fixed_text(entry: Entry, related: Sequence[Entry], templates: Templates) -> str:
    """The part of the prompt that does not depend on the answer (prewarmed when the question is shown)."""
    points = "\n".join(f"{i}. {p}" for i, p in enumerate(entry.points, 1))
    context = "\n".join(f"- {r.question}" for r in related) or "- (none)"
    return templates.fixed.format(question=entry.question, reference=entry.answer.strip(), points=points,
                                  related=context)


def answer_text(sentences: Sequence[str]) -> str:
    """The answer as the model reads it."""
    return " ".join(sentences[:MAX_SENTENCES])


def markers(token: str) -> tuple[str, str]:
    """The opening and closing marker lines around the answer."""
    return f"<<ANSWER-{token}>>", f"<<END-{token}>>"


def variable_text(sentences: Sequence[str], templates: Templates, token: str | None = None) -> str:
    """The per-answer part: only the answer between per-call random markers. What code found reaches the model
    through the labels (each names its line's point), which are evaluated as the reply goes: the less there is to
    evaluate once the answer arrives, the sooner the first words."""
    opening, closing = markers(token or secrets.token_hex(3))
    return templates.variable.format(open=opening, answer=answer_text(sentences), close=closing)


def typed_text(sentences: Sequence[str], token: str) -> str:
    """The start of variable_text while the answer is still being typed (evaluated ahead, line by line)."""
    opening, _ = markers(token)
    return f"{opening}\n{answer_text(sentences)}"


def _label(line: str, exact: Sequence[str]) -> tuple[str, int] | None:
    """(kind, length of the label) when line starts with a label: one of exact (as written by code) or any."""
    for label in exact:
        if line.startswith(label):
            # A label may end with the first word of its line, written by code: that word belongs to the line.
            end = len(label) if label.endswith(":") else label.rindex(": ") + 2
            return label.split(" ", 1)[0].rstrip(":").capitalize(), end
    match = _LABEL.match(line)
    return (match.group(1).capitalize(), match.end()) if match else None


def parse(text: str, exact: Sequence[str] = ()) -> Lines:
    """The model's lines by label; a line cut off by the token limit (no final punctuation) counts as absent."""
    found: dict[str, str] = {}
    current: str | None = None
    for raw in text.splitlines():
        label = _label(raw, exact)
        if label:
            current = label[0]
            found.setdefault(current, raw[label[1]:].strip())
        elif current is not None and raw.strip() and current in found and not found[current]:
            found[current] = raw.strip()
    gap = found.get("Wrong") or found.get("Missing")
    return Lines(_whole(found.get("Right")), _whole(gap), _whole(found.get("Stronger")),
                 _whole(found.get("Follow-up")))


MAX_QUOTE = 12  # words of the answer a line may quote; a longer quotation is cut, marked "…"
_LOOSE_ENDS = frozenset(re.findall(r"\w+", "a an the of to and or but so with for in on by that which is are as at "
                                            "from than it"))


def tidy(line: str) -> str:
    """A model line with its small slips mended: a space before a closing quote, a stray last quote, a whole line
    in quotes, a quotation of most of the answer."""
    line = line.strip().strip("*").strip()
    if line.startswith('"') and line.endswith('"') and line.count('"') == 2:
        line = line[1:-1].strip()
    line = re.sub(r'([.,!?])\s+"(\s*)$', r'\1"', line)  # … slowly. "  ->  … slowly."
    line = re.sub(r'\s+"(?=[.,!?]?$)', '"', line)
    if line.count('"') % 2 and line.endswith('"'):
        line = line[:-1].rstrip()

    def clip(match: re.Match[str]) -> str:
        words = match.group(1).split()
        if len(words) <= MAX_QUOTE:
            return match.group(0)
        words = words[:MAX_QUOTE]
        while len(words) > 3 and words[-1].strip(",.;:").casefold() in _LOOSE_ENDS:
            words.pop()
        return f'"{" ".join(words).rstrip(",.;:")} …"'

    line = re.sub(r'"([^"]+)"', clip, line)
    return line + "." if line.endswith('…"') else line


def _whole(line: str | None) -> str | None:
    """A line that ends like a sentence, tidied; None otherwise (cut off by the token limit)."""
    if not line:
        return None
    line = tidy(line)
    return line if line and line[-1] in ".!?\"'”’)" else None


class LineProse:
    """Streams the model's lines as prose: each label becomes a heading, the follow-up line is held back (it is
    checked first and shown as its own reply)."""

    def __init__(self, emit: TokenCallback, exact: Sequence[str] = ()) -> None:
        self.emit = emit
        self.exact = tuple(exact)
        self._line = ""  # the start of the current line, until its label is known
        self._decided = False
        self._showing = False
        self._started = False  # the line's first character of prose was shown
        self._sections = 0

    def __call__(self, piece: str) -> None:
        """Consume one piece of raw output."""
        for ch in piece:
            self._feed(ch)

    def _feed(self, ch: str) -> None:
        if ch == "\n":
            if self._showing:
                self.emit("\n")
            self._line, self._decided, self._showing, self._started = "", False, False, False
            return
        if self._decided:
            if self._showing and (self._started or not ch.isspace()):
                self._started = True
                self.emit(ch)
            return
        self._line += ch
        label = _label(self._line, self.exact) if self._line.endswith(":") else None
        if label and label[1] == len(self._line):
            kind = label[0]
            self._decided = True
            self._showing = kind in HEADINGS
            if self._showing:
                self.emit(("\n" if self._sections else "") + f"{HEADINGS[kind]}:\n")
                self._sections += 1
        elif len(self._line) > 300 or not _could_be_label(self._line):
            self._decided = True  # a line without a label: not part of the format, not shown


def _could_be_label(start: str) -> bool:
    """Whether a line that starts like this may still turn out to begin with a label."""
    head = start.lstrip(" *").lower()
    return any(k.lower().startswith(head[: len(k)]) for k in KINDS) if head else True


def run(llm: LLM, prompt: ChatPrompt, *, on_token: TokenCallback | None = None, session: str | None = None) -> str:
    """The model's raw lines (the labels included); on_token gets the prose as it streams."""
    prose = LineProse(on_token, prompt.labels) if on_token is not None else None
    return llm.generate(prompt, max_tokens=MAX_TOKENS, on_token=prose, session=session)


Checker = Callable[[str], str | None]
