"""The interviewer-mode report: per question the score, the points covered, missed and contradicted in the user's own
words, what a strong answer adds, the follow-ups with their answers, the time taken; then a verdict in plain words."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bot.core.bank import Bank
from bot.core.render import DIFFICULTY
from bot.core.store.records import AttemptRecord, SessionRecord
from bot.core.text import clip, plural

QUOTE = 160   # characters of the user's words quoted per point or follow-up
GOOD = 80     # a topic averaging this much is not one to "work on next"


def build(session: SessionRecord, attempts: list[AttemptRecord], bank: Bank,
          asked: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The report's data, from the committed attempts and the interview's state."""
    by_id = {a.id: a for a in attempts}
    rows: list[dict[str, Any]] = []
    for number, qid in enumerate(session.question_ids, start=1):
        info = asked.get(qid)
        if info is None:
            continue   # never shown (the interview stopped before it)
        rows.append(_row(number, qid, info, by_id, bank))
    judged = [r for r in rows if (r["answered"] or r["skipped"]) and not r["flagged"]]
    scores = [int(r["score"]) for r in judged]
    by_topic: dict[str, list[int]] = defaultdict(list)
    for row in judged:
        for topic in row["topics"]:
            by_topic[topic].append(int(row["score"]))
    averages = {t: round(sum(v) / len(v)) for t, v in by_topic.items()}
    ordered = sorted(averages, key=lambda t: averages[t])
    average = round(sum(scores) / len(scores)) if scores else None
    late = sum(1 for r in rows if r["late"])
    weak = ordered[0] if ordered and averages[ordered[0]] < GOOD else None   # nothing to work on when all went well
    report = {"mode": "interviewer", "questions": rows, "average": average, "by_topic": averages,
              "strongest": ordered[-1] if ordered else None, "weakest": weak,
              "missed": [p for r in rows for p in r["strong_adds"]], "late": late,
              "next": f"more questions on {weak}." if weak else None}
    report["verdict"] = verdict(report)
    return report


def _row(number: int, qid: str, info: dict[str, Any], by_id: dict[int | None, AttemptRecord],
         bank: Bank) -> dict[str, Any]:
    """One question of the report."""
    entry = bank.entries.get(qid)
    main = by_id.get(info.get("attempt"))
    points = main.key_points if main is not None else \
        [{"text": p, "covered": False, "evidence": None} for p in (entry.points if entry else ())]
    wrong = {int(k): v for k, v in (info.get("contradicted") or {}).items()}
    follow_ups = []
    for probe in info.get("probes", []):
        answer = by_id.get(probe.get("attempt"))
        follow_ups.append({"question": probe["text"], "point": probe["point"],
                           "answer": answer.answer if answer is not None else None,
                           "covered": bool(probe.get("covered")), "skipped": bool(probe.get("skipped")),
                           "late": bool(probe.get("late")), "seconds": probe.get("seconds")})
    # A point is brought out when anything said under probing covers it, whichever point the probe aimed at.
    probed = info.get("probed") or {}
    brought = {int(k): v for k, v in (probed.get("covered") or {}).items()}
    brought |= {f["point"]: brought.get(f["point"]) for f in follow_ups if f["covered"]}
    covered = [{"text": p["text"], "evidence": p.get("evidence")} for i, p in enumerate(points)
               if p.get("covered") and i not in wrong]
    missed = [{"text": p["text"], "recovered": i in brought, "evidence": brought.get(i)}
              for i, p in enumerate(points) if not p.get("covered") and i not in wrong]
    contradicted = [{"text": points[i]["text"], "quote": quote} for i, quote in sorted(wrong.items())
                    if i < len(points)]
    # What the answer itself lacked: a point brought out only by a follow-up is one a strong answer states unasked.
    adds = [m["text"] for m in missed] + [c["text"] for c in contradicted]
    answered = main is not None and not main.skipped
    first = main.score if main is not None else 0
    # A point brought out under probing counts half: the first answer's score plus half of what the follow-up
    # answers added to it (the rubric on everything said for the question).
    score = first + round(max(0, int(probed.get("score", first)) - first) / 2) if answered else first
    flagged = bool(info.get("flagged"))
    return {"number": number, "question_id": qid, "question": entry.question if entry else qid,
            "topics": list(entry.topics) if entry else [], "difficulty": info.get("difficulty"),
            "score": 0 if flagged else score, "first_score": first, "flagged": flagged,
            "brought_out": sum(1 for m in missed if m["recovered"]), "answered": answered and not flagged,
            "skipped": bool(info.get("skipped")), "answer": main.answer if answered and main else None,
            "seconds": info.get("seconds"), "budget_seconds": info.get("budget", 0),
            "late": bool(info.get("late")) or any(f["late"] for f in follow_ups),
            "covered": covered, "missed": missed, "contradicted": contradicted, "strong_adds": adds,
            "follow_ups": follow_ups}


def verdict(report: dict[str, Any]) -> str:
    """The overall verdict in plain words."""
    rows = report["questions"]
    average = report["average"]
    if average is None:
        return "No question was answered, so there is nothing to judge yet."
    if average >= 80:
        head = "Strong: answers like these would likely pass a real interview."
    elif average >= 60:
        head = "Good, with gaps: this would likely pass, but an interviewer would notice what was missing."
    elif average >= 40:
        head = "Borderline: some solid parts, but too many key points were missing to be confident."
    else:
        head = "Not ready yet: most key points were missing; practise these topics in coach mode first."
    parts = [head]
    wrong = sum(len(r["contradicted"]) for r in rows)
    if wrong:
        parts.append(f"{plural(wrong, 'statement')} contradicted the reference; in a real interview a "
                     "wrong claim costs more than a gap.")
    probed = [r for r in rows if r["follow_ups"] and not r["flagged"]]
    if probed:
        lacking = sum(len(r["missed"]) for r in probed)
        brought = sum(r["brought_out"] for r in probed)
        parts.append(f"The follow-up questions brought out {brought} of the {plural(lacking, 'point')} missing from "
                     "your first answers; each counted half.")
    if report["late"]:
        parts.append(f"{report['late']} of {plural(len(rows), 'question')} went over the time "
                     "budget.")
    if report["weakest"] and report["weakest"] != report["strongest"]:   # only a topic below GOOD is "weakest"
        parts.append(f"Work on {report['weakest']} next.")
    return " ".join(parts)


def _clip(text: str, limit: int = QUOTE) -> str:
    text = " ".join(str(text).split())
    return clip(text, limit)


def _minutes(seconds: int | None) -> str:
    seconds = max(0, int(seconds or 0))
    return f"{seconds // 60}:{seconds % 60:02d}"


def report_text(report: dict[str, Any]) -> str:
    """The report as plain text: one block per question, then the verdict."""
    lines = ["Interview report", "", f"Verdict: {report['verdict']}"]
    for row in report["questions"]:
        level = DIFFICULTY.get(int(row["difficulty"] or 0), "")
        if row["flagged"]:
            status = "flagged for review, passed without a score"
        elif row["skipped"]:
            status = "skipped (0/100)"
        elif not row["answered"]:
            status = "not answered"
        else:
            probed = f" ({row['first_score']}/100 before the follow-ups)" if row["score"] != row["first_score"] else ""
            status = f"{row['score']}/100{probed}, answered in {_minutes(row['seconds'])}"
        lines += ["", f"{row['number']}. {_clip(row['question'], 200)} ({level}) — {status}"]
        if row["flagged"] or not (row["answered"] or row["skipped"]):
            continue   # a question reported as wrong, or still unanswered at /stop, is not judged
        if row["late"]:
            lines.append(f"  Late: over the {_minutes(row['budget_seconds'])} budget (it still counted).")
        for point in row["covered"]:
            said = f' — you said: "{_clip(point["evidence"])}"' if point.get("evidence") else ""
            lines.append(f"  ✓ {point['text']}{said}")
        for point in row["contradicted"]:
            lines.append(f"  ✗ {point['text']} — you wrote \"{_clip(point['quote'])}\", which contradicts it")
        for point in row["missed"]:
            if point["recovered"]:
                said = f' — you said: "{_clip(point["evidence"])}"' if point.get("evidence") else ""
                lines.append(f"  ✓ {point['text']} (brought out under probing; counts half){said}")
            else:
                lines.append(f"  ✗ {point['text']}")
        for follow in row["follow_ups"]:
            lines.append(f"  Follow-up: {follow['question']}")
            if follow["skipped"]:
                lines.append("    You skipped it.")
            elif follow["answer"] is None:
                lines.append("    Not answered.")
            else:
                verdict_word = "that covers the point" if follow["covered"] else "the point was still missing"
                lines.append(f"    You answered: \"{_clip(follow['answer'])}\" — {verdict_word}"
                             f"{' (late)' if follow['late'] else ''}.")
        if row["answered"] or row["skipped"]:
            if row["strong_adds"]:
                lines += ["  A strong answer adds:"] + [f"    • {p}" for p in row["strong_adds"]]
            else:
                lines.append("  A strong answer adds: nothing essential; every key point was there.")
    if report["average"] is not None:
        lines += ["", f"Average: {report['average']}/100"
                  + (f" · {plural(report['late'], 'question')} over time"
                     if report["late"] else "")]
    return "\n".join(lines)
