"""A user's progress: averages, per-topic scores, trend, streak and due reviews, from stored attempts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from statistics import fmean
from typing import Any

from bot.core.bank import Bank
from bot.core.replies import UserRef
from bot.core.schedule import topic_averages
from bot.core.store.records import AttemptRecord, Store, utc_now

TREND_WINDOW = 5
RECENT = 10


def _zone(store: Store, ref: UserRef) -> tzinfo:
    """The user's time zone, UTC for a user never seen."""
    user = store.get_user(ref)
    return user.zone if user else UTC


def _day(attempt: AttemptRecord, zone: tzinfo) -> date:
    """The local day of an attempt."""
    return (attempt.created or utc_now()).astimezone(zone).date()


def streak(days: set[date], today: date) -> int:
    """Consecutive days with practice, ending today or, if nothing yet today, yesterday."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def trend(scores: list[int], window: int = TREND_WINDOW) -> float | None:
    """Average of the last `window` scores minus the `window` before them; None with too few scores."""
    if len(scores) < 2 * window:
        return None
    return round(fmean(scores[-window:]) - fmean(scores[-2 * window:-window]), 1)


def _best_and_weakest(by_topic: dict[str, float]) -> tuple[list[str], list[str]]:
    """Up to three best and three weakest topics, never the same topic in both."""
    ranked = sorted(by_topic, key=lambda t: (-by_topic[t], t))
    if len(ranked) < 2:
        return ranked, []
    k = min(3, len(ranked) // 2)
    return ranked[:k], list(reversed(ranked))[:k]


def _question(bank: Bank | None, question_id: str) -> str:
    """The question text, or its id when the bank does not have it."""
    entry = bank.entries.get(question_id) if bank else None
    return entry.question if entry else question_id


def delivery_history(attempts: list[AttemptRecord], zone: tzinfo) -> dict[str, Any]:
    """Spoken answers' pace, fillers a minute and long pauses over time (oldest first), and their averages."""
    points: list[dict[str, Any]] = [
        {"date": _day(a, zone).isoformat(), "question_id": a.question_id, "wpm": a.delivery.get("wpm"),
         "fillers_per_minute": a.delivery.get("fillers_per_minute"), "long_pauses": a.delivery.get("long_pauses"),
         "seconds": a.delivery.get("seconds")}
        for a in attempts if a.delivery]

    def mean(key: str) -> float | None:
        values = [p[key] for p in points if isinstance(p[key], int | float)]
        return round(fmean(values), 1) if values else None

    return {"answers": len(points), "wpm": mean("wpm"), "fillers_per_minute": mean("fillers_per_minute"),
            "long_pauses": mean("long_pauses"), "points": points}


def outdated(bank: Bank | None, attempt: AttemptRecord) -> bool:
    """Whether an attempt answered a version of its question that a reviewer has fixed since."""
    entry = bank.entries.get(attempt.question_id) if bank else None
    return bool(entry and attempt.entry_hash and entry.content_hash() != attempt.entry_hash)


def user_stats(store: Store, ref: UserRef, now: datetime | None = None, *, bank: Bank | None = None) -> dict[str, Any]:
    """Progress figures of one user; topics (and question texts) need the bank."""
    now = now or utc_now()
    zone = _zone(store, ref)
    every = store.attempts(ref)
    answered = [a for a in every if not a.is_follow_up]
    graded = [a for a in answered if not a.skipped]  # a skip is no score of 0: it counts apart
    scores = [a.score for a in graded]
    by_topic = {t: round(v, 1) for t, v in sorted(topic_averages(bank, graded).items())} if bank else {}
    best, weakest = _best_and_weakest(by_topic)
    cards = [c for c in store.cards(ref) if bank is None or c.question_id in bank.entries]
    recent = [{"question_id": a.question_id, "question": _question(bank, a.question_id), "score": a.score,
               "date": _day(a, zone).isoformat(), "time": a.created.isoformat() if a.created else None,
               "outdated": outdated(bank, a)}
              for a in reversed(graded[-RECENT:])]
    return {
        "user": ref.key,
        "attempts": len(graded),
        "follow_ups": len(every) - len(answered),
        "skipped": sum(1 for a in answered if a.skipped),
        "questions_seen": len({a.question_id for a in answered}),
        "total_questions": len(bank) if bank else None,
        "average": round(fmean(scores), 1) if scores else None,
        "by_topic": by_topic,
        "trend": trend(scores),
        "streak": streak({_day(a, zone) for a in every}, now.astimezone(zone).date()),
        "due_reviews": sum(1 for c in cards if c.due <= now),
        "best_topics": best,
        "weakest_topics": weakest,
        "recent": recent,
        "delivery": delivery_history(every, zone),
        "outdated": sum(1 for a in answered if outdated(bank, a)),
    }


def history(store: Store, ref: UserRef, *, bank: Bank | None = None) -> dict[str, Any]:
    """Every graded answer's score in time order (skips left out), and averages by topic: what the chart draws."""
    zone = _zone(store, ref)
    every = store.attempts(ref)
    graded = [a for a in every if not a.is_follow_up and not a.skipped]
    points = [{"question_id": a.question_id, "score": a.score, "date": _day(a, zone).isoformat(),
               "time": a.created.isoformat() if a.created else None} for a in graded]
    by_topic = {t: round(v, 1) for t, v in sorted(topic_averages(bank, graded).items())} if bank else {}
    return {"user": ref.key, "points": points, "by_topic": by_topic, "delivery": delivery_history(every, zone)}
