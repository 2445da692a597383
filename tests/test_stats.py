"""Progress figures and the progress chart, from attempts in the in-memory store."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.bank import Bank, Entry
from bot.core.charts import progress_chart
from bot.core.replies import UserRef
from bot.core.schedule import Scheduler
from bot.core.stats import history, streak, trend, user_stats
from bot.core.store.records import AttemptRecord
from bot.core.store.sql import SqlStore

ALICE = UserRef("cli", "alice")
NOW = datetime(2025, 3, 10, 18, 0, tzinfo=UTC)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_bank() -> Bank:
    """Four questions over three topics."""
    specs = [("cnn-1", ("cnn",)), ("cnn-2", ("cnn", "optim")), ("rnn-1", ("rnn",)), ("opt-1", ("optim",))]
    entries = {qid: Entry(id=qid, question=f"Explain {qid} briefly, please.", topics=topics, difficulty=1,
                          answer="A reference answer.") for qid, topics in specs}
    return Bank(entries=entries, decks={})


BANK = make_bank()


@pytest.fixture()
def store() -> SqlStore:
    return SqlStore("sqlite://")


def add(store: SqlStore, qid: str, score: int, when: datetime, follow_up: bool = False) -> None:
    store.add_attempt(AttemptRecord(ALICE, qid, score, created=when, is_follow_up=follow_up))


def test_stats_of_a_new_user(store: SqlStore) -> None:
    stats = user_stats(store, ALICE, NOW, bank=BANK)
    assert stats["attempts"] == 0 and stats["average"] is None and stats["trend"] is None
    assert stats["streak"] == 0 and stats["by_topic"] == {} and stats["recent"] == []
    assert stats["best_topics"] == [] and stats["weakest_topics"] == [] and stats["due_reviews"] == 0


def test_averages_topics_and_recent(store: SqlStore) -> None:
    add(store, "cnn-1", 90, NOW - timedelta(hours=5))
    add(store, "cnn-2", 70, NOW - timedelta(hours=4))
    add(store, "cnn-2", 10, NOW - timedelta(hours=4), follow_up=True)    # follow-ups do not count in averages
    add(store, "rnn-1", 30, NOW - timedelta(hours=3))
    stats = user_stats(store, ALICE, NOW, bank=BANK)
    assert stats["attempts"] == 3 and stats["follow_ups"] == 1
    assert stats["average"] == round((90 + 70 + 30) / 3, 1)
    assert stats["by_topic"] == {"cnn": 80.0, "optim": 70.0, "rnn": 30.0}
    assert stats["best_topics"] == ["cnn"] and stats["weakest_topics"] == ["rnn"]
    assert [r["question_id"] for r in stats["recent"]] == ["rnn-1", "cnn-2", "cnn-1"]
    assert stats["recent"][0]["question"] == BANK.get("rnn-1").question and stats["recent"][0]["date"] == "2025-03-10"


def test_trend_needs_ten_scores() -> None:
    assert trend([50] * 9) is None
    assert trend([40] * 5 + [60] * 5) == 20.0
    assert trend([90] * 3 + [40] * 5 + [30] * 5) == -10.0


def test_streak_counts_local_days(store: SqlStore) -> None:
    store.update_user(ALICE, time_zone="America/New_York")
    # 2025-03-10 18:00 UTC is 14:00 in New York; 03:00 UTC on the 10th is still the 9th there.
    for hours in (1, 15, 39, 63):
        add(store, "cnn-1", 50, NOW - timedelta(hours=hours))
    assert user_stats(store, ALICE, NOW, bank=BANK)["streak"] == 4
    assert user_stats(store, ALICE, NOW + timedelta(days=1), bank=BANK)["streak"] == 4    # yesterday still counts
    assert user_stats(store, ALICE, NOW + timedelta(days=2), bank=BANK)["streak"] == 0


def test_streak_helper() -> None:
    today = datetime(2025, 3, 10).date()
    days = {today - timedelta(days=n) for n in (1, 2, 4)}
    assert streak(days, today) == 2
    assert streak(set(), today) == 0


def test_due_reviews_counted(store: SqlStore) -> None:
    sched = Scheduler(store, BANK)
    sched.record(ALICE, "cnn-1", 10, when=NOW - timedelta(days=10))
    sched.record(ALICE, "rnn-1", 95, when=NOW)
    assert user_stats(store, ALICE, NOW, bank=BANK)["due_reviews"] == 1


def test_history_in_time_order(store: SqlStore) -> None:
    add(store, "rnn-1", 30, NOW - timedelta(days=2))
    add(store, "cnn-1", 80, NOW - timedelta(days=1))
    data = history(store, ALICE, bank=BANK)
    assert [p["score"] for p in data["points"]] == [30, 80] and data["by_topic"]["rnn"] == 30.0


def _decode(png: bytes) -> tuple[int, ...]:
    """The shape of a PNG decoded by matplotlib."""
    import matplotlib.image

    return tuple(matplotlib.image.imread(io.BytesIO(png), format="png").shape)


def test_chart_is_a_valid_png(store: SqlStore) -> None:
    for day in range(12):
        add(store, ["cnn-1", "rnn-1", "opt-1"][day % 3], 30 + 5 * day, NOW - timedelta(days=12 - day))
    progress_chart({})    # the first call imports matplotlib (and may build its font cache): not timed
    for data in (history(store, ALICE, bank=BANK), user_stats(store, ALICE, NOW, bank=BANK)):
        started = time.perf_counter()
        png = progress_chart(data)
        elapsed = time.perf_counter() - started
        assert png.startswith(PNG_MAGIC) and len(png) > 10_000
        height, width = _decode(png)[:2]
        assert (width, height) == (800, 600)
        assert elapsed < 2.0    # 0.1-0.5 s once matplotlib is imported; generous for busy CI machines


def test_chart_without_data_says_so() -> None:
    png = progress_chart({"points": [], "by_topic": {}})
    assert png.startswith(PNG_MAGIC) and len(png) > 2_000
    assert _decode(png)[:2] == (350, 800)


def test_skipped_questions_are_not_scores_of_zero(store: SqlStore) -> None:
    add(store, "cnn-1", 80, NOW - timedelta(hours=3))
    store.add_attempt(AttemptRecord(ALICE, "cnn-2", 0, created=NOW - timedelta(hours=2), skipped=True))
    store.add_attempt(AttemptRecord(ALICE, "rnn-1", 0, created=NOW - timedelta(hours=1), skipped=True))
    stats = user_stats(store, ALICE, NOW, bank=BANK)
    assert stats["average"] == 80 and stats["attempts"] == 1 and stats["skipped"] == 2
    assert stats["by_topic"] == {"cnn": 80} and "rnn" not in stats["by_topic"]
    assert [r["question_id"] for r in stats["recent"]] == ["cnn-1"]
    assert [p["score"] for p in history(store, ALICE, bank=BANK)["points"]] == [80]
