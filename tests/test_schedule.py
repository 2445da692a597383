"""Spaced repetition and question choice, on a tiny bank built here and the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fsrs
import pytest

from bot.core.bank import Bank, Entry
from bot.core.replies import UserRef
from bot.core.schedule import Scheduler, local_date, local_day_start, rating_for
from bot.core.store.records import AttemptRecord
from bot.core.store.sql import SqlStore

ALICE = UserRef("slack", "U01")
T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def make_bank(*specs: tuple[str, str, int]) -> Bank:
    """A bank of (id, topic, difficulty) entries."""
    entries = {qid: Entry(id=qid, question=f"Explain {qid} in a few sentences.", topics=(topic,), difficulty=level,
                          answer=f"The reference answer about {qid}.", deck="tiny")
               for qid, topic, level in specs}
    return Bank(entries=entries, decks={})


BANK = make_bank(("cnn-1", "cnn", 1), ("cnn-2", "cnn", 2), ("cnn-3", "cnn", 3),
                 ("rnn-1", "rnn", 1), ("rnn-2", "rnn", 2), ("rnn-3", "rnn", 3),
                 ("opt-1", "optim", 1), ("opt-2", "optim", 2), ("opt-3", "optim", 3))


@pytest.fixture()
def store() -> SqlStore:
    return SqlStore("sqlite://")


def answer(store: SqlStore, sched: Scheduler, qid: str, score: int, when: datetime, **kw: bool) -> None:
    """What the coach does after grading: store the attempt, then review the card."""
    store.add_attempt(AttemptRecord(ALICE, qid, score, created=when, hinted=kw.get("hinted", False),
                                    skipped=kw.get("skipped", False)))
    sched.record(ALICE, qid, score, when=when, **kw)


@pytest.mark.parametrize(("score", "hinted", "skipped", "rating"), [
    (90, False, False, fsrs.Rating.Easy), (85, False, False, fsrs.Rating.Easy), (70, False, False, fsrs.Rating.Good),
    (40, False, False, fsrs.Rating.Hard), (34, False, False, fsrs.Rating.Again), (95, True, False, fsrs.Rating.Hard),
    (10, True, False, fsrs.Rating.Again), (95, False, True, fsrs.Rating.Again)])
def test_rating_for(score: int, hinted: bool, skipped: bool, rating: fsrs.Rating) -> None:
    assert rating_for(score, hinted=hinted, skipped=skipped) == rating


def test_failed_question_comes_back_sooner(store: SqlStore) -> None:
    sched = Scheduler(store, BANK, clock=lambda: T0)
    failed = sched.record(ALICE, "cnn-1", 20)
    passed = sched.record(ALICE, "cnn-2", 90)
    assert failed.due < passed.due
    assert failed.due - T0 >= timedelta(days=1)    # whole-day steps: never the same day again


def test_hint_and_skip_lower_the_rating(store: SqlStore) -> None:
    sched = Scheduler(store, BANK, clock=lambda: T0)
    plain = sched.record(ALICE, "cnn-1", 95)
    hinted = sched.record(ALICE, "cnn-2", 95, hinted=True)
    skipped = sched.record(ALICE, "cnn-3", 95, skipped=True)
    assert (plain.last_rating, hinted.last_rating, skipped.last_rating) == (4, 2, 1)
    assert plain.due > hinted.due >= skipped.due


def test_intervals_grow_with_success(store: SqlStore) -> None:
    sched = Scheduler(store, BANK)
    first = sched.record(ALICE, "cnn-1", 80, when=T0)
    second = sched.record(ALICE, "cnn-1", 80, when=first.due)
    assert second.reviews == 2 and second.due - first.due > first.due - T0


@pytest.mark.parametrize(("zone", "attempt_at", "same_day_later", "next_day"), [
    # Los Angeles (UTC-8): the UTC date changes at 16:00 local, the local one does not.
    ("America/Los_Angeles", datetime(2025, 1, 1, 20, tzinfo=UTC), datetime(2025, 1, 2, 6, tzinfo=UTC),
     datetime(2025, 1, 2, 9, tzinfo=UTC)),
    # Auckland (UTC+13): the local day ends while the UTC day goes on.
    ("Pacific/Auckland", datetime(2025, 1, 1, 2, tzinfo=UTC), datetime(2025, 1, 1, 10, tzinfo=UTC),
     datetime(2025, 1, 1, 12, tzinfo=UTC)),
])
def test_nothing_twice_in_a_local_day(store: SqlStore, zone: str, attempt_at: datetime, same_day_later: datetime,
                                      next_day: datetime) -> None:
    bank = make_bank(("only-one", "cnn", 1))
    store.update_user(ALICE, time_zone=zone)
    sched = Scheduler(store, bank)
    answer(store, sched, "only-one", 10, attempt_at)
    assert sched.next_question(ALICE, now=same_day_later) is None
    assert [e.id for e in [sched.next_question(ALICE, now=next_day)] if e] == ["only-one"]


def test_todays_daily_question_is_not_offered_again(store: SqlStore) -> None:
    bank = make_bank(("q-a", "cnn", 1), ("q-b", "cnn", 1))
    sched = Scheduler(store, bank)
    first = sched.next_question(ALICE, now=T0)
    assert first is not None
    store.claim_daily(ALICE, local_date(UTC, T0), first.id)
    second = sched.next_question(ALICE, now=T0)
    assert second is not None and second.id != first.id


def test_due_review_comes_before_new(store: SqlStore) -> None:
    sched = Scheduler(store, BANK)
    answer(store, sched, "opt-3", 20, T0)              # failed: due again in a day or so
    later = T0 + timedelta(days=5)
    picked = sched.next_question(ALICE, now=later)     # pick #2: not a "new" turn
    assert picked is not None and picked.id == "opt-3"


def test_most_overdue_review_first(store: SqlStore) -> None:
    sched = Scheduler(store, BANK, new_every=100)
    answer(store, sched, "cnn-2", 70, T0)
    answer(store, sched, "rnn-2", 20, T0 + timedelta(hours=1))
    answer(store, sched, "opt-2", 20, T0 + timedelta(hours=2))
    picked = sched.next_question(ALICE, now=T0 + timedelta(days=30))
    assert picked is not None and picked.id == "rnn-2"


def test_every_third_pick_is_new_even_with_reviews_due(store: SqlStore) -> None:
    sched = Scheduler(store, BANK)
    answer(store, sched, "opt-3", 20, T0)
    answer(store, sched, "rnn-3", 20, T0 + timedelta(minutes=1))
    picked = sched.next_question(ALICE, now=T0 + timedelta(days=5))
    assert picked is not None and picked.id not in {"opt-3", "rnn-3"}


def test_weak_topic_first(store: SqlStore) -> None:
    sched = Scheduler(store, BANK, new_every=1)        # always a new question, to see the topic order
    answer(store, sched, "cnn-1", 95, T0)
    answer(store, sched, "rnn-1", 15, T0)
    picked = sched.next_question(ALICE, now=T0 + timedelta(days=1))
    assert picked is not None and picked.id == "rnn-2"


def test_untried_topic_before_a_mastered_one(store: SqlStore) -> None:
    sched = Scheduler(store, BANK, new_every=1)
    answer(store, sched, "cnn-1", 95, T0)
    answer(store, sched, "rnn-1", 90, T0)
    picked = sched.next_question(ALICE, now=T0 + timedelta(days=1))
    assert picked is not None and picked.topics == ("optim",)


def test_exclude_and_topic(store: SqlStore) -> None:
    sched = Scheduler(store, BANK)
    picked = sched.next_question(ALICE, now=T0, topic="rnn", exclude=["rnn-1"])
    assert picked is not None and picked.id in {"rnn-2", "rnn-3"}
    assert sched.next_question(ALICE, now=T0, topic="rnn", exclude=["rnn-1", "rnn-2", "rnn-3"]) is None
    assert sched.next_question(ALICE, now=T0, topic="no-such-topic") is None


def test_choices_are_deterministic(store: SqlStore) -> None:
    other = SqlStore("sqlite://")
    one, two = Scheduler(store, BANK, seed=7), Scheduler(other, BANK, seed=7)
    assert one.pick_session_questions(ALICE, 5, now=T0) == two.pick_session_questions(ALICE, 5, now=T0)
    first, second = one.next_question(ALICE, now=T0), two.next_question(ALICE, now=T0)
    assert first is not None and second is not None and first.id == second.id


def test_session_questions_mix_difficulty_easy_first(store: SqlStore) -> None:
    sched = Scheduler(store, BANK)
    ids = sched.pick_session_questions(ALICE, 5, now=T0)
    levels = [BANK.get(i).difficulty for i in ids]
    assert len(set(ids)) == 5 and levels == sorted(levels) and set(levels) == {1, 2, 3}
    assert sched.pick_session_questions(ALICE, 20, now=T0).__len__() == len(BANK)
    assert all(BANK.get(i).topics == ("cnn",) for i in sched.pick_session_questions(ALICE, 3, topic="cnn", now=T0))


def test_session_questions_avoid_recent_ones(store: SqlStore) -> None:
    sched = Scheduler(store, BANK, recent_days=7)
    for n, qid in enumerate(["cnn-1", "cnn-2", "rnn-1", "opt-1"]):
        answer(store, sched, qid, 80, T0 + timedelta(minutes=n))
    ids = sched.pick_session_questions(ALICE, 5, now=T0 + timedelta(days=2))
    assert set(ids) == {"cnn-3", "rnn-2", "rnn-3", "opt-2", "opt-3"}
    refill = sched.pick_session_questions(ALICE, 7, now=T0 + timedelta(days=2))
    assert set(refill) >= set(ids) and {"cnn-1", "cnn-2"} <= set(refill)   # the least recently seen fill up
    old = sched.pick_session_questions(ALICE, 9, now=T0 + timedelta(days=30))
    assert sorted(old) == sorted(BANK.entries)



def test_local_day_helpers() -> None:
    from zoneinfo import ZoneInfo

    tokyo = ZoneInfo("Asia/Tokyo")
    now = datetime(2025, 3, 10, 16, tzinfo=UTC)     # 01:00 on the 11th in Tokyo
    assert local_date(tokyo, now) == "2025-03-11"
    assert local_day_start(tokyo, now) == datetime(2025, 3, 10, 15, tzinfo=UTC)
