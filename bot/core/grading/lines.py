"""The rubric's own feedback lines: contradictions quoted, missed and near-missed points, follow-up verdicts."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.grading.conflicts import Contradiction
from bot.core.grading.critique_checks import sentence_problem
from bot.core.grading.guards import MESSAGES
from bot.core.grading.rubric import PointMatch, RubricResult

MAX_FEEDBACK = 3


# Names a key point may start with that read like ordinary words to the rule below ("He initialization ..." is
# Kaiming He's; a point never starts with the pronoun).
_NAMES = frozenset({"He", "Xavier", "Glorot", "Kaiming", "LeCun", "Adam", "Nesterov", "Bayes", "Gaussian", "Euclidean",
                    "Markov", "Boltzmann", "Hopfield", "Bernoulli", "Poisson", "Laplace", "Huber", "Gini", "Jaccard",
                    "Pearson", "Spearman", "Manhattan", "Hessian", "Jacobian", "Fourier", "Gibbs", "Monte"})


def lower_first(text: str) -> str:
    """A sentence fit to follow a colon: "Dropout …" becomes "dropout …", "TensorFlow …" and "L2 …" stay, and so do
    names beside other names ("Xavier or Glorot initialization", "Google Brain")."""
    words = text.split()
    if words and words[0] in ("A", "An", "The"):   # an article before a name ("A GAN pairs ...")
        return text[:1].lower() + text[1:]
    if not words or not words[0][1:].islower() or words[0].rstrip(",:;'").removesuffix("'s") in _NAMES:
        return text
    # A name is followed by another capitalised word, directly or after "or"/"and".
    following = [w for w in words[1:3] if w not in ("or", "and", "&")][:1]
    if following and following[0][:1].isupper() and words[1] in ("or", "and", "&", following[0]):
        return text
    return text[:1].lower() + text[1:]


def contradiction_line(c: Contradiction) -> str:
    """The feedback line of a contradiction found in code, quoting the answer."""
    return f'You wrote "{c.quote}", but the reference says: {lower_first(c.reason.rstrip("."))}.'


def contradiction_lines(contradictions: Sequence[Contradiction]) -> list[str]:
    """Code's line for each contradiction, except one that reads as garbled: when the quote repeats the reference's
    own phrase ("doesn't over-rely on any single" against "discourages over-relying on any single feature") the
    answer agrees in other words, and the line would say "you wrote X, but the reference says X"."""
    return [line for line in map(contradiction_line, contradictions) if sentence_problem(line) is None]


def feedback_lines(result: RubricResult, contradictions: Sequence[Contradiction], injected: bool) -> list[str]:
    """Two or three specific feedback lines from the rubric: contradictions, missed and near-missed points."""
    lines = contradiction_lines(contradictions)
    contradicted = {c.point for c in contradictions}
    missed = [p for i, p in enumerate(result.points) if not p.covered and i not in contradicted]
    for point in missed[:2]:
        verb = "Only partly covered" if point.credit > 0 else "Missing"
        lines.append(f"{verb}: {lower_first(point.text.rstrip('.'))}.")
    if missed and (line := remaining_line([*missed[2:], *(p for i, p in enumerate(result.points)
                                                          if p.covered and p.partly and i not in contradicted)])):
        lines.append(line)
    if not missed and not contradictions:
        loose = [p for p in result.points if p.partly]
        if loose:   # all touched on, not all earned: say which one costs the most
            weakest = lower_first(min(loose, key=lambda p: p.credit).text.rstrip("."))
            lines.append(f"You covered all {len(result.points)} key points; say this one more fully: {weakest}."
                         if len(loose) == 1 else
                         f"You touched on all {len(result.points)} key points, {len(loose)} of them only in part; "
                         f"say this one more fully: {weakest}.")
        else:
            lines.append(f"You covered all {len(result.points)} key points.")
    # praise only a point that earned its share: never the one just asked to be said more fully, nor one the answer
    # contradicts (a new user read "You wrote ..., but the reference says: X" and then "Well explained: X")
    covered = [p for i, p in enumerate(result.points) if p.covered and not p.partly and i not in contradicted]
    if len(lines) < 2 and covered:
        lines.append(f"Well explained: {lower_first(covered[0].text.rstrip('.'))}.")
    lines = lines[:MAX_FEEDBACK]
    return ([MESSAGES["injection"]] if injected else []) + lines


def remaining_line(points: Sequence[PointMatch]) -> str | None:
    """One line counting the points not named in the feedback as their marks show them: ✗ missed, ~ only partly
    covered (a new user counted five points short of full credit and four accounted for)."""
    if not points:
        return None
    gone = sum(1 for p in points if p.credit == 0)
    part = len(points) - gone
    if not part:
        said = f"{gone} more key point{'s' if gone > 1 else ''} missed"
    elif not gone:
        said = f"{part} more key point{'s' if part > 1 else ''} only partly covered"
    else:
        said = f"{len(points)} more key points, {gone} missed and {part} only partly covered"
    return f"{said}; compare with the reference answer."


def follow_up_line(match: PointMatch) -> str:
    """One line on a follow-up answer; the point may be stated now that the user has tried."""
    if match.covered:
        return f"That covers it: {lower_first(match.text.rstrip('.'))}."
    if match.credit > 0:
        return f"Partly there; the full point is: {lower_first(match.text.rstrip('.'))}."
    return f"Not quite; the point was: {lower_first(match.text.rstrip('.'))}."
