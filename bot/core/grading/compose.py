"""The critique the user sees: the model's lines that pass their checks, lines written from the rubric where not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.bank import Entry
from bot.core.grading import critique as cq
from bot.core.grading.conflicts import Contradiction
from bot.core.grading.critique_checks import DANGLING, UNSUPPORTED, Checks, unsupported
from bot.core.grading.lines import lower_first, remaining_line
from bot.core.grading.rubric import RubricResult


@dataclass(frozen=True)
class Composed:
    """The critique's parts, and which lines the model was asked for and which of its lines were kept."""

    strengths: list[str]
    lines: list[str]  # after code's own contradiction lines
    follow_up: str | None
    improvements: list[str]
    asked: tuple[str, ...]
    kept: tuple[str, ...]


def _quote(text: str, limit: int = 24) -> str:
    """At most limit words of the answer, for a quotation, shortened where a clause ends."""
    parts = text.split()
    if len(parts) <= limit:
        return " ".join(parts).rstrip(".!?;:, ")
    head = parts[:limit]
    # A quotation that stops on "and …" reads as a line cut off: end it at a clause in the second half, and
    # never on a word that needs the next one.
    ends = [i for i in range(limit // 2, limit) if head[i].endswith((",", ";", ":"))]
    head = head[: ends[-1] + 1] if ends else head
    while len(head) > 1 and head[-1].strip(",;:").casefold() in DANGLING:
        head.pop()
    return " ".join(head).rstrip(".!?;:, ") + " …"


def compose(entry: Entry, result: RubricResult, contradictions: Sequence[Contradiction], found: cq.Lines,
            check: Checks) -> Composed:
    """Each line the plan asked for: the model's when it passes its check, else one from the rubric."""
    plan = cq.plan(result, contradictions)
    gap_point = plan.wrong.point if plan.wrong is not None else plan.gap
    asked = tuple(name for name, point in (("right", plan.right), ("gap", gap_point), ("stronger", plan.extra))
                  if point is not None) + ("follow_up",)
    kept: list[str] = []
    strengths: list[str] = []
    if plan.right is not None:
        why = check.right(found.right, plan.right) if found.right else "absent"
        if why is None and found.right:
            strengths, kept = [found.right], ["right"]
        elif result.points[plan.right].evidence:
            evidence = result.points[plan.right].evidence or ""
            line = f'You were on target with "{_quote(evidence)}".'
            # A sentence that holds a contradicted claim is never praised; nor one matched to the point by topic
            # alone (the model read it as a claim the reference does not make, and its own words say so too).
            held = any(c.quote and c.quote.casefold() in evidence.casefold() for c in contradictions)
            strengths = [] if held or (why == UNSUPPORTED and unsupported(line, check.reference)) else [line]
    lines: list[str] = []
    if gap_point is not None:
        if found.gap and check.gap(found.gap, gap_point) is None:
            lines.append(found.gap)
            kept.append("gap")
        elif plan.wrong is None:  # a contradiction already has code's own line, quoting the answer
            lines.append(f"Your answer leaves out a key point: {lower_first(entry.points[gap_point].rstrip('.'))}.")
    if plan.extra is not None:
        if found.stronger and check.gap(found.stronger, plan.extra) is None:
            lines.append(found.stronger)
            kept.append("stronger")
        else:
            lines.append(f"A strong answer would also cover this: {lower_first(entry.points[plan.extra].rstrip('.'))}.")
    wrong = {c.point for c in contradictions}
    rest = [p for i, p in enumerate(result.points) if (not p.covered or p.partly) and i not in wrong
            and i not in (gap_point, plan.extra)]
    if any(not p.covered for p in rest) and (counted := remaining_line(rest)):
        lines.append(counted)
    follow_up = found.follow_up if check.follow_up(found.follow_up, plan.target, plan.deeper) is None else None
    if follow_up is not None:
        kept.append("follow_up")
    improvements = [x for k, x in (("gap", found.gap), ("stronger", found.stronger)) if k in kept and x]
    return Composed(strengths, lines, follow_up or entry.probe(plan.target), improvements, asked, tuple(kept))
