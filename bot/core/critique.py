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
PROMPT_FILES = ("critique_system.md", "critique_fixed.md", "critique_answer.md")
VERDICTS = ["agrees", "contradicts", "unrelated"]
_SHORT = {"type": "string", "minLength": 3, "maxLength": 110}


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
    """A sentence of the answer that the rubric took as evidence for one key point."""

    point: int
    sentence: str


@dataclass(frozen=True)
class Contradiction:
    """A claim of the answer that the model flagged and code verified (the quote is in the answer)."""

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


def claims_of(result: RubricResult) -> list[Claim]:
    """The evidence sentences of the covered points: the only places a contradiction is looked for."""
    claims = [Claim(i, p.evidence) for i, p in enumerate(result.points) if p.covered and p.evidence]
    return claims[:MAX_CLAIMS]


def target_point(result: RubricResult) -> int:
    """The point the follow-up aims at: the first missed one, else the weakest covered one."""
    missed = [i for i, p in enumerate(result.points) if not p.covered]
    if missed:
        return missed[0]
    return min(range(len(result.points)), key=lambda i: result.points[i].similarity)


def _findings(result: RubricResult) -> str:
    """Covered and missed point numbers, as the rubric found them."""
    covered = [str(i) for i, p in enumerate(result.points, 1) if p.covered]
    missed = [str(i) for i, p in enumerate(result.points, 1) if not p.covered]
    return f"Covered key points: {', '.join(covered) or 'none'}. Missed key points: {', '.join(missed) or 'none'}."


def _claim_lines(entry: Entry, claims: Sequence[Claim]) -> str:
    """Each claim next to the key point it was matched with, so a small model compares the two directly."""
    if not claims:
        return "(none: no key point was matched, so there is nothing to check; reply with \"checks\": [])"
    return "\n".join(f'C{n}. Answer says: "{c.sentence}"\n    Key point {c.point + 1}: "{entry.points[c.point]}"'
                     for n, c in enumerate(claims, 1))


def variable_text(entry: Entry, answer: str, result: RubricResult, claims: Sequence[Claim], templates: Templates,
                  token: str | None = None) -> str:
    """The per-answer part: rubric findings, the answer between per-call random delimiters, the claims."""
    token = token or secrets.token_hex(3)
    target = target_point(result)
    aim = "it" if result.points[target].covered else "it (the candidate missed it)"
    return templates.variable.format(findings=_findings(result), open=f"<<ANSWER-{token}>>", answer=answer,
                                     close=f"<<END-{token}>>", claims=_claim_lines(entry, claims),
                                     target=f"key point {target + 1} (\"{entry.points[target]}\"), asking about {aim}")


def generation_schema(n_claims: int) -> dict[str, Any]:
    """The schema the model's output is constrained to: one verdict per claim, then short feedback."""
    check = {"type": "object", "additionalProperties": False, "required": ["claim", "verdict"],
             "properties": {"claim": {"type": "integer", "minimum": 1, "maximum": max(n_claims, 1)},
                            "verdict": {"enum": VERDICTS},
                            "quote": {"type": "string", "maxLength": 160}, "why": {"type": "string", "maxLength": 90}}}
    lines = {"type": "array", "minItems": 1, "maxItems": 2, "items": _SHORT}
    properties: dict[str, Any] = {"strengths": lines, "improvements": lines,
                                  "follow_up": {"type": "string", "minLength": 8, "maxLength": 160}}
    if n_claims:
        checks = {"type": "array", "minItems": n_claims, "maxItems": n_claims, "items": check}
        properties = {"checks": checks} | properties
    return {"type": "object", "additionalProperties": False, "required": list(properties), "properties": properties}


# What is accepted back: the checks may be missing (no contradiction then), up to three lines of each kind.
VALID_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["strengths", "improvements", "follow_up"],
    "properties": {
        "checks": {"type": "array", "items": {"type": "object", "required": ["verdict"]}},
        "strengths": {"type": "array", "maxItems": 3, "items": {"type": "string"}},
        "improvements": {"type": "array", "minItems": 1, "maxItems": 3, "items": {"type": "string"}},
        "follow_up": {"type": ["string", "null"]},
    },
}


def max_tokens_for(n_claims: int) -> int:
    """Room for the JSON: about 25 tokens per check and 120 for the feedback."""
    return min(300, 130 + 25 * n_claims)


def _norm(text: str) -> str:
    """Text for quote matching: curly quotes straightened, case and whitespace folded, edge punctuation dropped."""
    text = text.translate(str.maketrans("‘’“”", "''\"\""))
    return re.sub(r"\s+", " ", text.casefold()).strip(" \"'.,;:!?…")


def verify(checks: Any, claims: Sequence[Claim], answer: str) -> tuple[list[Contradiction], int]:
    """Contradictions whose verdict, reason and verbatim quote (found in the claim's sentence) all hold."""
    found: dict[int, Contradiction] = {}
    flagged = 0
    answer_norm = _norm(answer)
    for check in checks if isinstance(checks, list) else []:
        if not isinstance(check, dict) or check.get("verdict") != "contradicts":
            continue
        flagged += 1
        index = check.get("claim")
        if not isinstance(index, int) or not 1 <= index <= len(claims) or index in found:
            continue
        quote, reason = str(check.get("quote") or ""), str(check.get("why") or "").strip()
        claim = claims[index - 1]
        if len(_norm(quote)) >= 4 and reason and _norm(quote) in _norm(claim.sentence) and _norm(quote) in answer_norm:
            found[index] = Contradiction(claim.point, quote.strip(), reason)
    return list(found.values()), flagged


def parse(text: str, claims: Sequence[Claim], answer: str) -> Critique:
    """The validated critique; ValueError (one sentence) when the output does not follow the schema."""
    data = validate_json(text, VALID_SCHEMA)
    contradictions, flagged = verify(data.get("checks"), claims, answer)
    follow_up = (data.get("follow_up") or "").strip() or None
    return Critique(tuple(s.strip() for s in data["strengths"] if s.strip()),
                    tuple(s.strip() for s in data["improvements"] if s.strip()), follow_up,
                    tuple(contradictions), flagged)


def run(llm: LLM, prompt: ChatPrompt, claims: Sequence[Claim], answer: str, *,
        on_token: TokenCallback | None = None, session: str | None = None) -> Critique:
    """Ask the model; an invalid output is retried once (with a reminder); ValueError if it fails again."""
    schema = generation_schema(len(claims))
    tokens = max_tokens_for(len(claims))
    text = llm.generate(prompt, schema=schema, max_tokens=tokens, on_token=on_token, session=session)
    try:
        return parse(text, claims, answer)
    except ValueError:
        # A changed prompt (and more room) gives a different sample even with a fixed seed.
        retry = ChatPrompt(prompt.system, prompt.fixed, prompt.variable + "\nReply with complete, valid JSON only.\n")
        text = llm.generate(retry, schema=schema, max_tokens=tokens + 100, on_token=on_token, session=session)
        return parse(text, claims, answer)
