"""Credit that rests on a flagged claim: a point marked covered only by the clause that says something wrong.

"The forget gate decides what new information to store in the cell state, and the input gate decides what to throw
away" is flagged against the input gate's point; the rubric still matched the whole sentence to the forget gate's
point and showed it ✓, citing the swapped words as evidence. Here, in an answer with flagged words, each covered
point is matched again clause by clause: when its nearest clause is a flagged one, the point is not credited, and
the user is told why; otherwise its nearest clause ("the output gate picks the next hidden state", even beside the
flagged one) becomes its evidence. The score is not changed here: a flagged answer is capped already.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.embedder import Embedder
from bot.core.grading.conflicts import Contradiction
from bot.core.grading.rubric import PointMatch
from bot.core.grading.vocabulary import clauses, is_content, text_stems


@dataclass(frozen=True)
class Recredited:
    """A covered point read clause by clause: the clause that says it, or the flagged words it rests on."""

    point: int
    evidence: str | None   # the clause that says the point, when it is not a flagged one
    flagged: str | None    # the flagged clause that is the point's only support (the answer's words)


def _flagged_clauses(contradictions: Sequence[Contradiction], sentences: Sequence[str]) -> list[str]:
    """Each flagged quote's clause, in the answer's own words."""
    out = []
    for c in contradictions:
        for sentence in sentences:
            at = sentence.find(c.quote)
            if at < 0:
                continue
            for a, b in clauses(sentence):
                if a <= at < b:
                    out.append(sentence[a:b].strip())
            break
    return out


def recredit(points: Sequence[PointMatch], contradictions: Sequence[Contradiction], sentences: Sequence[str],
             embedder: Embedder, vectors: np.ndarray) -> list[Recredited]:
    """Every covered, uncontradicted point of an answer with flagged words, matched again clause by clause; vectors:
    the points' own (the rubric's, already made), so only the clauses are embedded."""
    flagged = _flagged_clauses(contradictions, sentences)
    wrong = {c.point for c in contradictions}
    todo = [i for i, p in enumerate(points) if p.covered and i not in wrong]
    if not flagged or not todo:
        return []
    pieces = [c for sentence in sentences for a, b in clauses(sentence) if (c := sentence[a:b].strip())]
    mine, theirs = vectors[todo], embedder.embed(pieces)
    out = []
    for row, i in enumerate(todo):
        best = pieces[int((theirs @ mine[row]).argmax())]
        clause = next((f for f in flagged if f in best or best in f), None)
        out.append(Recredited(i, None if clause else best, clause))
    return out


def _content(text: str) -> list[str]:
    return [w for w in text_stems(text)[0] if is_content(w)]


def cited(point: str, evidence: str | None) -> str | None:
    """The clause of a covered point's evidence sentence that says it, quoted alone ("Precision tells you how many ...
    were right", not the whole sentence that goes on about recall); the whole sentence when no clause stands out.

    Clauses are told apart by the point's words they share, a word counting less the more clauses share it (every
    clause may say "positive"), and the point's first two words, usually what it is about, counting double."""
    if not evidence:
        return evidence
    pieces = [c for a, b in clauses(evidence) if (c := evidence[a:b].strip())]
    if len(pieces) < 2:
        return evidence
    words = _content(point)
    lead = set(words[:2])
    said = [set(_content(c)) for c in pieces]
    weight = {w: (2.0 if w in lead else 1.0) / max(1, sum(w in s for s in said)) for w in set(words)}
    scored = sorted(((sum(weight[w] for w in weight if w in s), k) for k, s in enumerate(said)), reverse=True)
    return pieces[scored[0][1]] if scored[0][0] > scored[1][0] else evidence
