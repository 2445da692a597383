"""The model's critique: prompt building, the JSON schema, and validation of what the model wrote."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.config import REPO_ROOT
from bot.core.bank import Entry
from bot.core.grading.conflicts import Contradiction
from bot.core.grading.rubric import RubricResult
from bot.core.llm.base import LLM, ChatPrompt, TokenCallback
from bot.core.llm.jsonout import validate_json

MAX_SENTENCES = 16  # of the answer shown to the model: the rubric grades up to MAX_WORDS, the prompt stays short
PROMPT_FILES = ("critique_system.md", "critique_fixed.md", "critique_answer.md")
_SHORT = {"type": "string", "minLength": 3, "maxLength": 80}


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
    return Templates(system.strip(), fixed.strip() + "\n", variable.rstrip() + "\n")


@dataclass(frozen=True)
class Critique:
    """What the model wrote, after validation: feedback only, never a score."""

    strengths: tuple[str, ...]
    improvements: tuple[str, ...]
    follow_up: str | None


def fixed_text(entry: Entry, related: Sequence[Entry], templates: Templates) -> str:
    """The part of the prompt that does not depend on the answer (prewarmed when the question is shown)."""
    points = "\n".join(f"{i}. {p}" for i, p in enumerate(entry.points, 1))
    context = "\n".join(f"- {r.question} Key points: {'; '.join(r.points[:4])}" for r in related) or "- (none)"
    return templates.fixed.format(question=entry.question, reference=entry.answer.strip(), points=points,
                                  related=context)


def target_point(result: RubricResult) -> int:
    """The point the follow-up aims at: the first missed one, else the weakest covered one."""
    missed = [i for i, p in enumerate(result.points) if not p.covered]
    if missed:
        return missed[0]
    return min(range(len(result.points)), key=lambda i: result.points[i].similarity)


def _findings(result: RubricResult, contradictions: Sequence[Contradiction]) -> str:
    """Covered, missed and contradicted point numbers as code found them, and the follow-up's target."""
    wrong = {c.point for c in contradictions}
    covered = [str(i) for i, p in enumerate(result.points, 1) if p.covered and i - 1 not in wrong]
    missed = [str(i) for i, p in enumerate(result.points, 1) if not p.covered and i - 1 not in wrong]
    lines = [f"Covered: {', '.join(covered) or 'none'}. Missed: {', '.join(missed) or 'none'}."]
    lines += [f'Contradicted: key point {c.point + 1}, by the words "{c.quote}".' for c in contradictions]
    # Small models ignore a bare number: the target is spelled out.
    target = target_point(result)
    lines.append(f'Follow-up target: key point {target + 1}, "{result.points[target].text.rstrip(".")}".')
    return "\n".join(lines)


def variable_text(sentences: Sequence[str], result: RubricResult, contradictions: Sequence[Contradiction],
                  templates: Templates, token: str | None = None) -> str:
    """The per-answer part: what code found, then the answer between per-call random markers."""
    token = token or secrets.token_hex(3)
    answer = " ".join(sentences[:MAX_SENTENCES])
    return templates.variable.format(findings=_findings(result, contradictions), open=f"<<ANSWER-{token}>>",
                                     answer=answer, close=f"<<END-{token}>>")


def generation_schema() -> dict[str, Any]:
    """The schema the model's output is constrained to: short feedback first, so its first token is prose."""
    one = {"type": "array", "minItems": 1, "maxItems": 1, "items": _SHORT}
    return {"type": "object", "additionalProperties": False, "required": ["strengths", "improvements", "follow_up"],
            "properties": {"strengths": one, "improvements": one,
                           "follow_up": {"type": "string", "minLength": 8, "maxLength": 120}}}


# What is accepted back: up to three feedback lines; anything else the model adds is ignored.
VALID_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["strengths", "improvements", "follow_up"],
    "properties": {
        "strengths": {"type": "array", "maxItems": 3, "items": {"type": "string"}},
        "improvements": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "string"}},
        "follow_up": {"type": ["string", "null"]},
    },
}
# Room for the JSON at its longest: two capped feedback strings and the follow-up.
MAX_TOKENS = 110


def _words(text: str) -> set[str]:
    """The lower-case words of a text."""
    return set(re.findall(r"\w+", text.casefold()))


def copied(text: str, sentences: Sequence[str]) -> bool:
    """Whether most of text's words come from one of the sentences (small models echo the answer)."""
    words = _words(text)
    return any(len(words & _words(s)) > 0.7 * len(words) for s in sentences)


def usable_question(text: str | None, sentences: Sequence[str]) -> str | None:
    """The model's follow-up if it is a question of its own (small models sometimes copy the answer instead)."""
    text = (text or "").strip()
    return text if text.endswith("?") and len(_words(text)) >= 4 and not copied(text, sentences) else None


def usable_lines(lines: Sequence[str], sentences: Sequence[str], avoid: Sequence[str] = ()) -> tuple[str, ...]:
    """Feedback lines worth showing: not an echo of the answer, no quoted contradiction, no drift into CJK text."""
    out = []
    for line in (x.strip() for x in lines):
        folded = line.casefold()
        if line and not copied(line, sentences) and not any(a.casefold() in folded for a in avoid) \
                and not re.search(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", line):
            out.append(line)
    return tuple(out)


def parse(text: str, sentences: Sequence[str] = (), wrong: Sequence[str] = ()) -> Critique:
    """The validated critique; ValueError (one sentence) when the output does not follow the schema.

    wrong: the answer's contradicted words; a strength that repeats them is dropped. An improvement that echoes the
    answer is dropped too (the 1.5B model sometimes "advises" the very claim that was wrong).
    """
    data = validate_json(text, VALID_SCHEMA)
    follow_up = usable_question(data.get("follow_up"), sentences)
    return Critique(usable_lines(data["strengths"], (), wrong), usable_lines(data["improvements"], sentences, wrong),
                    follow_up)


def run(llm: LLM, prompt: ChatPrompt, sentences: Sequence[str] = (), *, on_token: TokenCallback | None = None,
        session: str | None = None, wrong: Sequence[str] = ()) -> Critique:
    """Ask the model; an invalid output is retried once (with a reminder); ValueError if it fails again."""
    schema = generation_schema()
    text = llm.generate(prompt, schema=schema, max_tokens=MAX_TOKENS, on_token=on_token, session=session)
    try:
        return parse(text, sentences, wrong)
    except ValueError:
        # A changed prompt (and more room) gives a different sample even with a fixed seed.
        retry = ChatPrompt(prompt.system, prompt.fixed, prompt.variable + "\nReply with complete, valid JSON only.\n")
        text = llm.generate(retry, schema=schema, max_tokens=MAX_TOKENS + 100, on_token=on_token, session=session)
        return parse(text, sentences, wrong)
