"""Which question next: FSRS review cards from rubric scores; due reviews first, then weak topics, new ones mixed in."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import fsrs

from bot.core.bank import Bank, Entry
from bot.core.localtime import local_date, local_day_start
from bot.core.replies import UserRef
from bot.core.store.records import AttemptRecord, CardRecord, Store, UserRecord, utc_now

__all__ = ["Scheduler", "local_date", "local_day_start", "rating_for", "topic_averages"]

UNTRIED_TOPIC_SCORE = 50.0   # a topic never tried ranks as weak-ish: after failing topics, before mastered ones


def rating_for(score: int, *, hinted: bool = False, skipped: bool = False) -> fsrs.Rating:
    """The FSRS rating of a rubric score: ≥85 Easy, ≥60 Good, ≥35 Hard, else Again; a hint caps at Hard."""
    if skipped:
        return fsrs.Rating.Again
    if score >= 85:
        rating = fsrs.Rating.Easy
    elif score >= 60:
        rating = fsrs.Rating.Good
    elif score >= 35:
        rating = fsrs.Rating.Hard
    else:
        rating = fsrs.Rating.Again
    return min(rating, fsrs.Rating.Hard, key=int) if hinted else rating


def default_fsrs() -> fsrs.Scheduler:
    """FSRS with whole-day steps and no fuzz: a coach reviews by the day, and choices must be reproducible."""
    return fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


@dataclass
class _History:
    """What one user has done, gathered once per decision."""

    attempts: list[AttemptRecord]
    cards: dict[str, CardRecord]
    blocked: set[str]            # attempted or sent during the user's local today
    topic_scores: dict[str, float]
    held: set[str] = field(default_factory=set)   # flagged by the user: out until a reviewer looks at it

    @property
    def seen(self) -> set[str]:
        """Questions the user has answered or reviewed at least once."""
        return {a.question_id for a in self.attempts} | set(self.cards)

    @property
    def picks(self) -> int:
        """How many questions the user has answered (follow-ups not counted)."""
        return sum(1 for a in self.attempts if not a.is_follow_up)

    def due_at(self, question_id: str) -> datetime:
        """When a seen question is due: its card's due time, or its last attempt when it has no card."""
        card = self.cards.get(question_id)
        if card is not None:
            return card.due
        return max(a.created for a in self.attempts if a.question_id == question_id and a.created)


def topic_averages(bank: Bank, attempts: Iterable[AttemptRecord]) -> dict[str, float]:
    """Average rubric score per bank topic over answered questions (follow-ups excluded)."""
    scores: dict[str, list[int]] = defaultdict(list)
    for attempt in attempts:
        entry = bank.entries.get(attempt.question_id)
        if entry is None or attempt.is_follow_up:
            continue
        for topic in entry.topics:
            scores[topic].append(attempt.score)
    return {topic: sum(values) / len(values) for topic, values in scores.items()}


class Scheduler:
    """Chooses questions for one bank from each user's history and keeps their review cards."""

    def __init__(self, store: Store, bank: Bank, clock: Callable[[], datetime] = utc_now, *, seed: int = 0,
                 new_every: int = 3, recent_days: int = 7, fsrs_scheduler: fsrs.Scheduler | None = None) -> None:
        self.store = store
        self.bank = bank
        self.clock = clock
        self.seed = seed
        self.new_every = max(1, new_every)
        self.recent_days = recent_days
        self.fsrs = fsrs_scheduler or default_fsrs()

    # ------------------------------------------------------------ reviews

    def record(self, ref: UserRef, question_id: str, score: int, *, hinted: bool = False, skipped: bool = False,
               when: datetime | None = None) -> CardRecord:
        """Review the user's card for a question with the rating its score earns; returns the saved card."""
        when = (when or self.clock()).astimezone(UTC)
        old = self.store.get_card(ref, question_id)
        card = fsrs.Card.from_dict(cast(Any, old.card)) if old else fsrs.Card(card_id=self._card_id(ref, question_id))
        rating = rating_for(score, hinted=hinted, skipped=skipped)
        card, _log = self.fsrs.review_card(card, rating, when)
        record = CardRecord(user=ref, question_id=question_id, card=dict(card.to_dict()), due=card.due,
                            last_rating=int(rating), reviews=(old.reviews if old else 0) + 1)
        self.store.save_card(record)
        return record

    # ------------------------------------------------------------ choosing

    def next_question(self, ref: UserRef, *, now: datetime | None = None, topic: str | None = None,
                      exclude: Iterable[str] = ()) -> Entry | None:
        """The next question for the user, or None when every candidate was already seen today or excluded."""
        now = now or self.clock()
        history = self._history(ref, now)
        banned = history.blocked | set(exclude)
        pool = [e for e in self.bank.by_topic(topic) if e.id not in banned]
        if not pool:
            return None
        seen = history.seen
        due = sorted((e for e in pool if e.id in seen and history.due_at(e.id) <= now),
                     key=lambda e: (history.due_at(e.id), e.id))
        new = self._rank(ref, now, [e for e in pool if e.id not in seen], history)
        new_turn = (history.picks + 1) % self.new_every == 0
        if new and (new_turn or not due):
            return new[0]
        if due:
            return due[0]
        # Everything was seen and nothing is due: the one due soonest, reviewed a little early.
        return min(pool, key=lambda e: (history.due_at(e.id), e.id))

    def pick_session_questions(self, ref: UserRef, count: int, topic: str | None = None,
                               now: datetime | None = None) -> list[str]:
        """Ids for a mock interview: distinct, recently seen ones only when needed, mixed difficulty, easy first."""
        now = now or self.clock()
        history = self._history(ref, now)
        since = now - timedelta(days=self.recent_days)
        last_seen: dict[str, datetime] = {}
        for attempt in history.attempts:
            if attempt.created and attempt.created >= since:
                last_seen[attempt.question_id] = attempt.created
        pool = [e for e in self.bank.by_topic(topic) if e.id not in history.held]
        fresh = self._rank(ref, now, [e for e in pool if e.id not in last_seen], history, due_first=True)
        chosen = _mix_difficulty(fresh, count)
        if len(chosen) < count:
            # Not enough fresh questions: reuse the recent ones, least recently seen first.
            stale = sorted((e for e in pool if e.id in last_seen), key=lambda e: (last_seen[e.id], e.id))
            chosen += stale[:count - len(chosen)]
        return [e.id for e in sorted(chosen, key=lambda e: e.difficulty)]

    # ------------------------------------------------------------ daily questions

    def daily_due(self, now: datetime | None = None, platform: str | None = None) -> list[UserRecord]:
        """Users (of one platform) whose daily time has come today in their own zone and whose question is unsent."""
        now = now or self.clock()
        due = []
        for user in self.store.users_with_daily_on():
            if platform is not None and user.ref.platform != platform:
                continue
            local = now.astimezone(user.zone)
            if local.strftime("%H:%M") < user.daily_time:
                continue
            sent = self.store.daily_send(user.ref, local.date().isoformat())
            if sent is None or sent.status != "sent":
                due.append(user)
        return due

    # ------------------------------------------------------------ helpers

    def _history(self, ref: UserRef, now: datetime) -> _History:
        """The user's attempts, cards, today's blocked questions and topic averages."""
        user = self.store.get_user(ref)
        zone = user.zone if user else UTC
        attempts = self.store.attempts(ref)
        start = local_day_start(zone, now)
        blocked = {a.question_id for a in attempts if a.created and start <= a.created}
        sent = self.store.daily_send(ref, local_date(zone, now)) if user else None
        if sent is not None:
            blocked.add(sent.question_id)
        cards = {c.question_id: c for c in self.store.cards(ref)}
        held = self.store.held_questions(ref)
        return _History(attempts, cards, blocked | held, topic_averages(self.bank, attempts), held)

    def _rank(self, ref: UserRef, now: datetime, entries: Sequence[Entry], history: _History, *,
              due_first: bool = False) -> list[Entry]:
        """Weakest topic first, then easier first, then a seeded shuffle; due reviews ahead when asked."""
        def key(entry: Entry) -> tuple[Any, ...]:
            due = entry.id in history.seen and history.due_at(entry.id) <= now
            weakness = min(history.topic_scores.get(t, UNTRIED_TOPIC_SCORE) for t in entry.topics)
            return (not due if due_first else 0, weakness, entry.difficulty, self._tiebreak(ref, now, entry.id))
        return sorted(entries, key=key)

    def _tiebreak(self, ref: UserRef, now: datetime, question_id: str) -> str:
        """A stable pseudo-random key: the same seed, user, day and question always give the same order."""
        text = f"{self.seed}:{ref.key}:{now.astimezone(UTC).date()}:{question_id}"
        return hashlib.sha256(text.encode()).hexdigest()

    def _card_id(self, ref: UserRef, question_id: str) -> int:
        """A stable card id (fsrs would otherwise derive one from the clock)."""
        return int(hashlib.sha256(f"{ref.key}:{question_id}".encode()).hexdigest()[:12], 16)


def _mix_difficulty(ranked: Sequence[Entry], count: int) -> list[Entry]:
    """Take `count` entries round-robin across difficulty levels, each level in ranked order."""
    levels: dict[int, list[Entry]] = defaultdict(list)
    for entry in ranked:
        levels[entry.difficulty].append(entry)
    queues = [levels[d] for d in sorted(levels)]
    chosen: list[Entry] = []
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return chosen
