"""Daily questions on Slack with a fake clock: local times in several zones, restarts, DST, crashes and 429s."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, update

from bot.core.daily import DailyDispatcher, Ticker
from bot.core.replies import Action, Request, UserRef
from bot.core.store.records import utc_now
from bot.slack_app import web_client
from bot.slack_daily import daily_sender
from bot.slack_messages import SlackPoster
from tests.fake_slack_api import FakeSlackApi, build_coach

STEP = timedelta(minutes=30)


class FakeClock:
    """A settable clock for the coach and its schedule."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Daily:
    """A sender on the SQLite file, as one process would build it."""

    sender: DailyDispatcher
    coach: Any


def _process(db: Path, api: FakeSlackApi, clock: FakeClock, **options: Any) -> Daily:
    """What a (re)started process builds: a new coach, a new store object, a new sender."""
    coach = build_coach(db, clock=clock)
    options.setdefault("post_interval", 0.0)
    return Daily(daily_sender(coach, SlackPoster(web_client("xoxb-test", api.url)), **options), coach)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _posts(api: FakeSlackApi) -> list[dict[str, Any]]:
    return [c.args for c in api.calls("chat.postMessage")]


def _run(daily: Daily, api: FakeSlackApi, clock: FakeClock, start: datetime, end: datetime,
         sent: dict[str, dict[str, datetime]]) -> None:
    """Tick every 30 minutes from start (included) to end (excluded); record user -> local day -> send instant."""
    clock.now = start
    while clock.now < end:
        before = len(api.calls("chat.postMessage"))
        daily.sender.tick(clock.now)
        for args in _posts(api)[before:]:
            day = args["metadata"]["event_payload"]["local_date"]
            user = args["channel"].removeprefix("D")
            assert day not in sent.setdefault(user, {}), f"{user} got a second question for {day}"
            sent[user][day] = clock.now
        clock.now += STEP


@pytest.fixture()
def api() -> Iterator[FakeSlackApi]:
    with FakeSlackApi() as fake:
        yield fake


def _age_claims(store: Any, minutes: int) -> None:
    """Make every daily claim `minutes` older, as if its sender had died that long ago."""
    table = Table("daily_sends", MetaData(), autoload_with=store.engine)
    with store.engine.begin() as conn:
        conn.execute(update(table).values(created=(utc_now() - timedelta(minutes=minutes)).replace(tzinfo=None)))


def _daily_on(coach: Any, user: str, time: str, tz: str) -> None:
    list(coach.act(Request(UserRef("slack", user), Action.DAILY, daily=True, time=time, zone=tz)))


def test_three_zones_get_one_question_a_day_at_local_time_across_a_restart_and_spring_dst(
        tmp_path: Path, api: FakeSlackApi) -> None:
    clock = FakeClock(_utc("2026-03-06T00:00"))
    db = tmp_path / "coach.db"
    first = _process(db, api, clock)
    _daily_on(first.coach, "UNY", "09:00", "America/New_York")      # DST starts 2026-03-08 02:00 local
    _daily_on(first.coach, "UGAP", "02:30", "America/New_York")     # 02:30 does not exist on 2026-03-08
    _daily_on(first.coach, "UTOKYO", "07:30", "Asia/Tokyo")
    _daily_on(first.coach, "UBERLIN", "18:00", "Europe/Berlin")
    sent: dict[str, dict[str, datetime]] = {}
    _run(first, api, clock, _utc("2026-03-06T00:00"), _utc("2026-03-08T05:00"), sent)
    # Restart: a new process (new coach, store object and sender) on the same SQLite file.
    second = _process(db, api, clock)
    _run(second, api, clock, _utc("2026-03-08T05:00"), _utc("2026-03-10T00:00"), sent)
    at = {user: {day: when.strftime("%m-%d %H:%M") for day, when in days.items()} for user, days in sent.items()}
    assert at["UNY"] == {"2026-03-05": "03-06 00:00",   # the day's time had passed at the first pass: catch up
                         "2026-03-06": "03-06 14:00", "2026-03-07": "03-07 14:00",     # 09:00 EST
                         "2026-03-08": "03-08 13:00", "2026-03-09": "03-09 13:00"}     # 09:00 EDT
    assert at["UGAP"] == {"2026-03-05": "03-06 00:00", "2026-03-06": "03-06 07:30", "2026-03-07": "03-07 07:30",
                          "2026-03-08": "03-08 07:00",   # 03:00 EDT, the first local time past 02:30 that day
                          "2026-03-09": "03-09 06:30"}
    assert at["UTOKYO"] == {"2026-03-06": "03-06 00:00", "2026-03-07": "03-06 22:30", "2026-03-08": "03-07 22:30",
                            "2026-03-09": "03-08 22:30", "2026-03-10": "03-09 22:30"}
    assert at["UBERLIN"] == {"2026-03-06": "03-06 17:00", "2026-03-07": "03-07 17:00", "2026-03-08": "03-08 17:00",
                             "2026-03-09": "03-09 17:00"}
    store = second.coach.store
    for user, days in sent.items():
        for day in days:
            record = store.daily_send(UserRef("slack", user), day)
            assert record is not None and record.status == "sent" and record.channel == f"D{user}"
    # Each daily question is answerable: the latest one is the user's open session.
    assert second.coach.open_session(UserRef("slack", "UNY")).extra.get("daily") == "2026-03-09"


def test_fall_back_sends_once_although_the_local_time_happens_twice(tmp_path: Path, api: FakeSlackApi) -> None:
    clock = FakeClock(_utc("2026-10-31T04:00"))
    daily = _process(tmp_path / "coach.db", api, clock)
    _daily_on(daily.coach, "UNY", "01:30", "America/New_York")    # 01:30 happens twice on 2026-11-01
    sent: dict[str, dict[str, datetime]] = {}
    _run(daily, api, clock, _utc("2026-10-31T04:00"), _utc("2026-11-02T12:00"), sent)
    assert {d: w.strftime("%m-%d %H:%M") for d, w in sent["UNY"].items()} == {
        "2026-10-31": "10-31 05:30", "2026-11-01": "11-01 05:30", "2026-11-02": "11-02 06:30"}


def test_a_sender_that_died_after_claiming_is_taken_over_once(tmp_path: Path, api: FakeSlackApi) -> None:
    clock = FakeClock(_utc("2026-05-04T09:00"))
    db = tmp_path / "coach.db"
    first = _process(db, api, clock)
    _daily_on(first.coach, "U1", "09:00", "UTC")
    api.fail("chat.postMessage", status=500, retry_after=None)    # the post never happens
    assert first.sender.tick(clock.now) == 0
    record = first.coach.store.daily_send(UserRef("slack", "U1"), "2026-05-04")
    assert record.status == "claimed" and not api.calls("chat.postMessage")
    # A second pass right away leaves a fresh claim alone: its sender may still be working.
    assert _process(db, api, clock).sender.tick(clock.now) == 0
    # After a restart, once the claim is older than stale_after, the new process sends the claimed question.
    _age_claims(first.coach.store, minutes=11)
    later = _process(db, api, clock)
    assert later.sender.tick(clock.now) == 1
    assert later.sender.tick(clock.now) == 0
    posts = _posts(api)
    assert len(posts) == 1 and posts[0]["metadata"]["event_payload"]["question_id"] == record.question_id
    assert later.coach.store.daily_send(UserRef("slack", "U1"), "2026-05-04").status == "sent"


def test_a_sender_that_died_after_posting_is_not_repeated(tmp_path: Path, api: FakeSlackApi,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(_utc("2026-05-04T09:00"))
    db = tmp_path / "coach.db"
    first = _process(db, api, clock)
    _daily_on(first.coach, "U1", "09:00", "UTC")

    def die(*args: Any, **kwargs: Any) -> None:
        raise SystemExit("killed between the post and the mark")

    monkeypatch.setattr(first.coach.store, "mark_daily_sent", die)
    with pytest.raises(SystemExit):
        first.sender.tick(clock.now)
    _age_claims(first.coach.store, minutes=11)
    later = _process(db, api, clock)
    assert later.sender.tick(clock.now) == 0
    posts = api.calls("chat.postMessage")
    assert len(posts) == 1
    record = later.coach.store.daily_send(UserRef("slack", "U1"), "2026-05-04")
    assert record.status == "sent" and record.message_ref == api.messages("DU1")[0]["ts"]


def test_no_daily_question_during_a_mock_interview(tmp_path: Path, api: FakeSlackApi) -> None:
    clock = FakeClock(_utc("2026-05-04T09:00"))
    daily = _process(tmp_path / "coach.db", api, clock)
    ref = UserRef("slack", "U1")
    _daily_on(daily.coach, "U1", "09:00", "UTC")
    list(daily.coach.act(Request(ref, Action.START, count=2)))
    assert daily.sender.tick(clock.now) == 0
    list(daily.coach.act(Request(ref, Action.STOP)))
    clock.now += STEP
    assert daily.sender.tick(clock.now) == 1


def test_a_429_is_retried_and_the_question_delivered(tmp_path: Path, api: FakeSlackApi) -> None:
    clock = FakeClock(_utc("2026-05-04T09:00"))
    daily = _process(tmp_path / "coach.db", api, clock)
    _daily_on(daily.coach, "U1", "09:00", "UTC")
    api.fail("chat.postMessage", status=429, retry_after=1)
    assert daily.sender.tick(clock.now) == 1
    attempts = api.all_calls("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200] and attempts[1].at - attempts[0].at >= 0.9
    assert daily.coach.store.daily_send(UserRef("slack", "U1"), "2026-05-04").status == "sent"


def test_many_users_due_at_once_are_spaced_within_the_rate_limit(tmp_path: Path, api: FakeSlackApi) -> None:
    clock = FakeClock(_utc("2026-05-04T09:00"))
    daily = _process(tmp_path / "coach.db", api, clock, post_interval=0.3)
    for i in range(5):
        _daily_on(daily.coach, f"U{i}", "09:00", "UTC")
    assert daily.sender.tick(clock.now) == 5
    times = [c.at for c in api.calls("chat.postMessage")]
    assert all(b - a >= 0.28 for a, b in zip(times, times[1:], strict=False))


def test_the_ticker_runs_each_job_every_period_and_survives_a_failing_one() -> None:
    seen: list[datetime] = []

    def broken(now: datetime) -> None:
        raise RuntimeError("a failing pass")

    ticker = Ticker([broken, seen.append], period=0.05, margin=0.0)
    ticker.start()
    deadline = time.monotonic() + 5
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    ticker.stop()
    assert len(seen) >= 3 and all(now.tzinfo is not None for now in seen)
