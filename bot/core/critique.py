"""The model's critique: prompt building, the JSON schema, and code-side checks of what the model claims."""

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
from bot.core.jsonout import validate_json
from bot.core.llm import LLM, ChatPrompt, TokenCallback
from bot.core.rubric import RubricResult

MAX_CLAIMS = 6
MAX_SENTENCES = 16  # of the answer shown to the model: the rubric grades up to MAX_WORDS, the prompt stays short
PROMPT_FILES = ("critique_system.md", "critique_fixed.md", "critique_answer.md")
VERDICTS = ["agrees", "contradicts", "unrelated"]
_SHORT = {"type": "string", "minLength": 3, "maxLength": 80}
MAX_ERRORS = 2  # errors the model may list: each costs ~40 tokens, and two already sink a wrong answer


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
class Claim:
    """A sentence of the answer that the rubric took as evidence for one or more key points."""

    sentence_index: int
    sentence: str
    points: tuple[int, ...]


@dataclass(frozen=True)
class Contradiction:
    """A claim of the answer that the model flagged and code verified (the quote is in the claim's sentence)."""

    point: int
    quote: str
    reason: str


@dataclass(frozen=True)
class Critique:
    """What the model wrote, after validation and verification."""

    strengths: tuple[str, ...]
    improvements: tuple[str, ...]
    follow_up: str | None
    contradictions: tuple[Contradiction, ...]
    flagged: int  # claims the model called contradictions, verified or not


def fixed_text(entry: Entry, related: Sequence[Entry], templates: Templates) -> str:
    """The part of the prompt that does not depend on the answer (prewarmed when the question is shown)."""
    points = "\n".join(f"{i}. {p}" for i, p in enumerate(entry.points, 1))
    context = "\n".join(f"- {r.question} Key points: {'; '.join(r.points[:4])}" for r in related) or "- (none)"
    return templates.fixed.format(question=entry.question, reference=entry.answer.strip(), points=points,
                                  related=context)


def claims_of(result: RubricResult, sentences: Sequence[str]) -> list[Claim]:
    """The evidence sentences of the covered points, one claim per sentence: where contradictions are looked for."""
    by_sentence: dict[str, list[int]] = {}
    for index, point in enumerate(result.points):
        if point.covered and point.evidence:
            by_sentence.setdefault(point.evidence, []).append(index)
    position = {sentence: i for i, sentence in enumerate(sentences)}
    claims = [Claim(position.get(s, -1), s, tuple(points)) for s, points in by_sentence.items()]
    return sorted(claims, key=lambda c: c.sentence_index)[:MAX_CLAIMS]


def target_point(result: RubricResult) -> int:
    """The point the follow-up aims at: the first missed one, else the weakest covered one."""
    missed = [i for i, p in enumerate(result.points) if not p.covered]
    if missed:
        return missed[0]
    return min(range(len(result.points)), key=lambda i: result.points[i].similarity)


def _findings(result: RubricResult) -> str:
    """Covered and missed point numbers as the rubric found them, and the follow-up's target."""
    covered = [str(i) for i, p in enumerate(result.points, 1) if p.covered]
    missed = [str(i) for i, p in enumerate(result.points, 1) if not p.covered]
    return (f"Covered: {', '.join(covered) or 'none'}. Missed: {', '.join(missed) or 'none'}. "
            f"Follow-up target: key point {target_point(result) + 1}.")


def _claim_lines(claims: Sequence[Claim]) -> str:
    """Each claim as its sentence number and the numbers of the key points (listed in the fixed part) it matched."""
    if not claims:
        return "(none: reply with empty \"verdicts\" and \"errors\")"
    return "\n".join(f"C{n}: [S{c.sentence_index + 1}] vs key point {', '.join(str(p + 1) for p in c.points)}"
                     for n, c in enumerate(claims, 1))


def variable_text(entry: Entry, sentences: Sequence[str], result: RubricResult, claims: Sequence[Claim],
                  templates: Templates, token: str | None = None) -> str:
    """The per-answer part: rubric findings, the numbered answer between per-call random markers, the claims."""
    token = token or secrets.token_hex(3)
    answer = "\n".join(f"[S{i}] {s}" for i, s in enumerate(sentences[:MAX_SENTENCES], 1))
    return templates.variable.format(findings=_findings(result), open=f"<<ANSWER-{token}>>", answer=answer,
                                     close=f"<<END-{token}>>", claims=_claim_lines(claims))


def generation_schema(n_claims: int) -> dict[str, Any]:
    """The schema the model's output is constrained to: verdicts, verified-by-code errors, then short feedback."""
    error = {"type": "object", "additionalProperties": False, "required": ["claim", "quote", "why"],
             "properties": {"claim": {"type": "integer", "minimum": 1, "maximum": max(n_claims, 1)},
                            "quote": {"type": "string", "minLength": 3, "maxLength": 90},
                            "why": {"type": "string", "minLength": 3, "maxLength": 70}}}
    one = {"type": "array", "minItems": 1, "maxItems": 1, "items": _SHORT}
    return {"type": "object", "additionalProperties": False,
            "required": ["verdicts", "errors", "strengths", "improvements", "follow_up"],
            "properties": {"verdicts": {"type": "array", "minItems": n_claims, "maxItems": n_claims,
                                        "items": {"enum": VERDICTS}},
                           "errors": {"type": "array", "maxItems": min(n_claims, MAX_ERRORS), "items": error},
                           "strengths": one, "improvements": one,
                           "follow_up": {"type": "string", "minLength": 8, "maxLength": 120}}}


# What is accepted back: verdicts and errors may be missing (no contradiction then), up to three feedback lines.
VALID_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["strengths", "improvements", "follow_up"],
    "properties": {
        "verdicts": {"type": "array", "items": {"type": "string"}},
        "errors": {"type": "array", "items": {"type": "object"}},
        "strengths": {"type": "array", "maxItems": 3, "items": {"type": "string"}},
        "improvements": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "string"}},
        "follow_up": {"type": ["string", "null"]},
    },
}


def max_tokens_for(n_claims: int) -> int:
    """Room for the JSON at its longest: verdicts, the errors allowed, and the capped feedback strings."""
    return 100 + 5 * n_claims + 45 * min(n_claims, MAX_ERRORS)


def _norm(text: str) -> str:
    """Text for quote matching: curly quotes straightened, case folded, whitespace and edge punctuation dropped.

    Whitespace is ignored because a length-capped string makes small models glue the last words ("a bitlike").
    """
    text = text.translate(str.maketrans("‘’“”", "''\"\""))
    return re.sub(r"\s+", "", text.casefold()).strip("\"'.,;:!?…")


def verify(data: dict[str, Any], claims: Sequence[Claim]) -> tuple[list[Contradiction], int]:
    """Contradictions whose verdict, reason and verbatim quote (found in the claim's sentence) all hold."""
    verdicts: list[Any] = data["verdicts"] if isinstance(data.get("verdicts"), list) else []
    errors: list[Any] = data["errors"] if isinstance(data.get("errors"), list) else []
    found: dict[int, list[Contradiction]] = {}
    for error in errors:
        if not isinstance(error, dict) or not isinstance(error.get("claim"), int):
            continue
        index = error["claim"]
        if not 1 <= index <= len(claims) or index in found or index > len(verdicts):
            continue
        quote, reason = str(error.get("quote") or "").strip(), str(error.get("why") or "").strip()
        claim = claims[index - 1]
        if verdicts[index - 1] == "contradicts" and reason and len(_norm(quote)) >= 8 \
                and _norm(quote) in _norm(claim.sentence):
            found[index] = [Contradiction(point, quote, reason) for point in claim.points]
    flagged = sum(v == "contradicts" for v in verdicts)
    return [c for group in found.values() for c in group], flagged


def usable_question(text: str | None, sentences: Sequence[str]) -> str | None:
    """The model's follow-up if it is a question of its own (small models sometimes copy the answer instead)."""
    text = (text or "").strip()
    words = set(re.findall(r"\w+", text.casefold()))
    copied = any(len(words & set(re.findall(r"\w+", s.casefold()))) > 0.7 * len(words) for s in sentences)
    return text if text.endswith("?") and len(words) >= 4 and not copied else None


def parse(text: str, claims: Sequence[Claim], sentences: Sequence[str] = ()) -> Critique:
    """The validated critique; ValueError (one sentence) when the output does not follow the schema."""
    data = validate_json(text, VALID_SCHEMA)
    contradictions, flagged = verify(data, claims)
    follow_up = usable_question(data.get("follow_up"), sentences)
    return Critique(tuple(s.strip() for s in data["strengths"] if s.strip()),
                    tuple(s.strip() for s in data["improvements"] if s.strip()), follow_up,
                    tuple(contradictions), flagged)


def run(llm: LLM, prompt: ChatPrompt, claims: Sequence[Claim], sentences: Sequence[str] = (), *,
        on_token: TokenCallback | None = None, session: str | None = None) -> Critique:
    """Ask the model; an invalid output is retried once (with a reminder); ValueError if it fails again."""
    schema = generation_schema(len(claims))
    tokens = max_tokens_for(len(claims))
    text = llm.generate(prompt, schema=schema, max_tokens=tokens, on_token=on_token, session=session)
    try:
        return parse(text, claims, sentences)
    except ValueError:
        # A changed prompt (and more room) gives a different sample even with a fixed seed.
        retry = ChatPrompt(prompt.system, prompt.fixed, prompt.variable + "\nReply with complete, valid JSON only.\n")
        text = llm.generate(retry, schema=schema, max_tokens=tokens + 100, on_token=on_token, session=session)
        return parse(text, claims, sentences)
