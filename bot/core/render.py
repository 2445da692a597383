"""Plain-text forms of grades, questions and report cards; adapters add their own markup from `Reply.data`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.core.bank import Entry
from bot.core.text import clip, plural

DIFFICULTY = {1: "basic", 2: "intermediate", 3: "advanced"}


def question_text(entry: Entry, number: int, total: int) -> str:
    """A question as shown to the user."""
    head = f"Question {number} of {total}" if total > 1 else "Practice question"
    meta = f"{', '.join(entry.topics)} · {DIFFICULTY.get(entry.difficulty, '')}"
    return f"{head} ({meta})\n\n{entry.question}"


def question_data(entry: Entry, number: int, total: int, session_id: int | None) -> dict[str, Any]:
    """Structured data of a question reply."""
    return {"question_id": entry.id, "question": entry.question, "number": number, "total": total,
            "topics": list(entry.topics), "difficulty": entry.difficulty, "kind": entry.kind,
            "session_id": session_id}


def score_text(grade: dict[str, Any], delivery: dict[str, Any] | None = None) -> str:
    """The rubric result: score, then each key point covered or missed, with evidence; a spoken answer's delivery."""
    lines = [f"Score: {grade['score']}/100"]
    contradicted = grade.get("contradicted", {})
    uncredited = grade.get("uncredited", {})
    partly = set(grade.get("partly", []))
    for index, point in enumerate(grade["key_points"]):
        if str(index) in contradicted:
            quote = _clip(contradicted[str(index)], 140)
            lines.append(f'✗ {point["text"]} — you wrote "{quote}", which contradicts it')
        elif str(index) in uncredited:
            quote = _clip(uncredited[str(index)], 140)
            lines.append(f'✗ {point["text"]} — not credited: your words on it, "{quote}", are the ones flagged')
        elif index in partly:   # "~": said only in part, so the point earned part of its share of the score
            evidence = f' — you said: "{_clip(point["evidence"], 140)}"' if point["covered"] and point.get("evidence") \
                else ""
            lines.append(f"~ {point['text']} (partly){evidence}")
        elif point["covered"]:
            evidence = f' — you said: "{_clip(point["evidence"], 140)}"' if point.get("evidence") else ""
            lines.append(f"✓ {point['text']}{evidence}")
        else:
            lines.append(f"✗ {point['text']}")
    for note in grade.get("notes", []):
        lines.append(note)
    if delivery:
        from bot.core.speech.delivery import delivery_text

        lines += ["", delivery_text(delivery)]
    return "\n".join(lines)


def critique_text(grade: dict[str, Any]) -> str:
    """The critique: what went well, then the feedback points (contradictions first).

    `grade` is a Grade's view(): a note already shown under the score (such as "That answer doesn't seem to be about
    this question") is not said a second time here."""
    lines = []
    if grade.get("strengths"):  # streamed first; kept in the final text so nothing shown disappears
        lines += ["What went well:"] + [f"• {s}" for s in grade["strengths"]] + [""]
    shown = set(grade.get("notes", []))
    for line in grade.get("feedback", []):
        if line not in shown:
            lines.append(f"• {line}")
    if not grade.get("llm"):
        lines.append("(Feedback from the rubric only: the language model was not used.)")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return clip(text, limit)


def report_text(report: dict[str, Any]) -> str:
    """The end-of-interview report card."""
    lines = ["Report card", ""]
    for row in report["questions"]:
        status = ("flagged for review (no score)" if row.get("flagged") else
                  "example answer revealed (no score)" if row.get("revealed") else
                  "skipped" if row["skipped"] else f"{row['score']}/100")
        lines.append(f"{row['number']}. {_clip(row['question'], 90)} — {status}")
    if report["average"] is not None:
        lines += ["", f"Average: {report['average']}/100"]
    if report["strongest"]:
        lines.append(f"Strongest topic: {report['strongest']}")
    if report["weakest"] and report["weakest"] != report["strongest"]:
        lines.append(f"Weakest topic: {report['weakest']}")
    if report["missed"]:
        lines += ["", "To review:"] + [f"• {_clip(p, 120)}" for p in report["missed"][:6]]
    if report["next"]:
        lines += ["", f"Practise next: {report['next']}"]
    return "\n".join(lines)


def stats_text(data: dict[str, Any]) -> str:
    """Progress in a few lines: answers, average, streak, reviews due, trend, then each topic weakest first."""
    if not data.get("attempts"):
        return "No answers yet: start an interview to see your progress here."
    lines = [f"Answers: {data['attempts']} · average {data['average']}/100 · streak {plural(data['streak'], 'day')} "
             f"· reviews due {data['due_reviews']}"]
    if data.get("trend") is not None:
        lines.append(f"Trend: {data['trend']:+.0f} points (last 5 answers vs the 5 before)")
    for topic, avg in sorted(data.get("by_topic", {}).items(), key=lambda kv: kv[1]):
        lines.append(f"{topic}: {avg}/100")
    spoken = data.get("delivery") or {}
    if spoken.get("answers"):
        lines.append(f"Spoken answers: {spoken['answers']} · pace {spoken['wpm']:.0f} words/min · "
                     f"{spoken['fillers_per_minute']:g} filler words a minute")
    if data.get("outdated"):
        n = data["outdated"]
        lines.append(f"{n} answer{'s were' if n != 1 else ' was'} made on an earlier version of a question that a "
                     "reviewer has fixed since (marked 'old version').")
    return "\n".join(lines)


def daily_text(data: dict[str, Any], *, changed: bool) -> str:
    """The daily question's settings: as just changed, or as a status line with the next send time."""
    if not data["daily_on"]:
        return "Daily questions are off." if changed else "Daily question: off."
    when = f"{data['daily_time']} ({data['time_zone']})"
    upcoming = datetime.fromisoformat(data["next"]) if data.get("next") else None
    nxt = f"; next {upcoming:%a %d %b %H:%M}" if upcoming else ""
    if changed:
        return f"Daily questions are on: one a day at {when}{nxt}."
    return f"Daily question: on, at {when}{nxt}."
