"""The report card at the end of an interview, computed from the session's committed attempts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bot.core.bank import Bank
from bot.core.store.records import AttemptRecord, SessionRecord

PASSED = "passed"          # session.extra key: question id -> how it was passed without an answer
FLAGGED_WORD, REVEALED_WORD = "flagged", "revealed"


def mark_passed(session: SessionRecord, question_id: str, how: str) -> None:
    """Remember that a question was passed without an answer (flagged or revealed), for the report card."""
    session.extra.setdefault(PASSED, {})[question_id] = how


def build_report(session: SessionRecord, attempts: list[AttemptRecord], bank: Bank) -> dict[str, Any]:
    """Score per question, strongest and weakest topics, missed points, what to practise next.

    Every question reached is listed: a skipped one as skipped, a revealed one as revealed, a flagged one as flagged;
    none of them is a score of 0 in the average or a topic's figure.
    """
    main = {a.question_id: a for a in attempts if not a.is_follow_up}
    passed = dict(session.extra.get(PASSED) or {})
    rows: list[dict[str, Any]] = []
    by_topic: dict[str, list[int]] = defaultdict(list)
    missed: list[str] = []
    for number, qid in enumerate(session.question_ids, start=1):
        attempt = main.get(qid)
        how = passed.get(qid)
        if attempt is None and how != FLAGGED_WORD:
            continue   # not reached
        entry = bank.entries.get(qid)
        skipped = attempt is None or attempt.skipped
        rows.append({"number": number, "question_id": qid, "question": entry.question if entry else qid,
                     "score": attempt.score if attempt is not None else 0, "skipped": skipped and how is None,
                     "flagged": how == FLAGGED_WORD, "revealed": how == REVEALED_WORD})
        if skipped or attempt is None:
            continue
        for topic in entry.topics if entry else ():
            by_topic[topic].append(attempt.score)
        missed += [p["text"] for p in attempt.key_points if not p.get("covered")]
    averages = {t: round(sum(v) / len(v)) for t, v in by_topic.items()}
    scored = [int(r["score"]) for r in rows if not (r["skipped"] or r["flagged"] or r["revealed"])]
    ordered = sorted(averages, key=lambda t: (averages[t], t))
    best, worst = (averages[ordered[-1]], averages[ordered[0]]) if ordered else (0, 0)
    tied = len(ordered) > 1 and best == worst
    return {"questions": rows, "average": round(sum(scored) / len(scored)) if scored else None,
            "by_topic": averages,
            # A "strongest" topic must stand out: none when every score is 0 or all topics are level.
            "strongest": ordered[-1] if ordered and best > 0 and best > worst else None,
            "weakest": ordered[0] if ordered and not tied else None, "missed": missed,
            "next": _advice(ordered, averages)}


def _advice(ordered: list[str], averages: dict[str, int]) -> str | None:
    """One sentence on what to practise next."""
    if not ordered:
        return None
    weakest = ordered[0]
    if averages[weakest] >= 80:
        return f"you are solid across the board; try advanced questions on {weakest}."
    if len(ordered) > 1 and averages[ordered[-1]] == averages[weakest]:
        return f"more questions on {', '.join(ordered[:3])}; they will come back in your reviews."
    return f"more questions on {weakest} (average {averages[weakest]}/100); they will come back in your reviews."
