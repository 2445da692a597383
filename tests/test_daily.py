"""The engine's daily dispatcher, through a fake platform port: one claim and takeover rule for every platform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.coach import Coach
from bot.core.daily import DailyDispatcher
from bot.core.replies import Action, ReplyKind, Request, UserRef
from bot.core.testing import FakeDailyPort, fake_coach

ALICE = UserRef("test", "alice")
BOB = UserRef("other", "bob")
MORNING = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


def daily_on(coach: Coach, user: UserRef = ALICE, time: str = "09:00", zone: str = "UTC") -> None:
    """Daily questions on for the user."""
    [reply] = coach.act(Request(user, Action.DAILY, daily=True, time=time, zone=zone))
    assert reply.kind is ReplyKind.INFO, reply.text


@pytest.fixture()
def port() -> FakeDailyPort:
    return FakeDailyPort(platform="test")


def test_the_question_is_claimed_before_it_is_sent_and_sent_once(coach: Coach, port: FakeDailyPort) -> None:
    daily_on(coach)
    claims: list[Any] = []
    send = port.send

    def recording(user: UserRef, place: str, reply: Any, day: str) -> str:
        claims.append(coach.store.daily_send(user, day))
        return send(user, place, reply, day)

    port.send = recording  # type: ignore[method-assign]
    dispatcher = DailyDispatcher(coach, port)
    assert dispatcher.tick(MORNING) == 1
    assert [c.status for c in claims] == ["claimed"] and claims[0].owner == coach.id
    [(user, day, reply)] = port.sent
    assert (user, day, reply.kind, reply.data["daily"]) == (ALICE, "2025-03-03", ReplyKind.QUESTION, True)
    record = coach.store.daily_send(ALICE, day)
    assert (record.status, record.channel, record.message_ref) == ("sent", "dm-alice", "m1")
    assert dispatcher.tick(MORNING) == 0 and len(port.sent) == 1
    assert coach.open_session(ALICE).channel == "dm-alice"   # answered where it was sent


def test_only_the_ports_platform_is_served(coach: Coach, port: FakeDailyPort) -> None:
    daily_on(coach)
    daily_on(coach, BOB)
    assert DailyDispatcher(coach, port).tick(MORNING) == 1
    assert [u for u, _, _ in port.sent] == [ALICE] and coach.store.daily_send(BOB, "2025-03-03") is None


def test_the_process_that_claimed_retries_at_once_and_another_waits_until_the_claim_is_stale(
        coach: Coach, port: FakeDailyPort, tmp_path: Any, test_bank: Any) -> None:
    from bot.core.store.sql import SqlStore

    database = f"sqlite:///{tmp_path / 'coach.db'}"
    mine = fake_coach(test_bank, SqlStore(database), clock=lambda: MORNING)
    other = fake_coach(test_bank, SqlStore(database), clock=lambda: MORNING)
    daily_on(mine)
    port.fail = RuntimeError("HTTP 500")   # the post fails: the claim stays
    assert DailyDispatcher(mine, port).tick(MORNING) == 0
    assert mine.store.daily_send(ALICE, "2025-03-03").status == "claimed"
    assert DailyDispatcher(other, port).tick(MORNING) == 0 and port.sent == []   # another process: too fresh
    assert DailyDispatcher(mine, port).tick(MORNING) == 1                       # the one that claimed it: at once
    assert len(port.sent) == 1 and mine.store.daily_send(ALICE, "2025-03-03").status == "sent"
    question = port.sent[0][2].data["question_id"]
    assert mine.open_session(ALICE).question_ids == [question]   # the same question, one session


def test_a_stale_claim_is_taken_over_once_and_not_reposted_when_it_went_out(coach: Coach, test_bank: Any,
                                                                           port: FakeDailyPort) -> None:
    daily_on(coach)
    port.fail = RuntimeError("killed")
    DailyDispatcher(coach, port).tick(MORNING)
    other = fake_coach(test_bank, coach.store, clock=lambda: MORNING)   # another process on the same store
    port.already[(ALICE.key, "2025-03-03")] = "posted-before-the-crash"
    assert DailyDispatcher(other, port, stale_after=timedelta(0)).tick(MORNING) == 0
    assert port.sent == [] and coach.store.daily_send(ALICE, "2025-03-03").message_ref == "posted-before-the-crash"


def test_an_unreachable_user_has_daily_questions_turned_off(coach: Coach, port: FakeDailyPort) -> None:
    daily_on(coach)
    port.unreachable.add(ALICE.key)
    dispatcher = DailyDispatcher(coach, port)
    assert dispatcher.tick(MORNING) == 0 and dispatcher.tick(MORNING + timedelta(minutes=1)) == 0
    assert port.calls == [f"place {ALICE.key}"] and not coach.store.get_user(ALICE).daily_on


def test_a_mock_interview_is_never_interrupted(coach: Coach, port: FakeDailyPort) -> None:
    daily_on(coach)
    list(coach.act(Request(ALICE, Action.START, count=2)))
    dispatcher = DailyDispatcher(coach, port)
    assert dispatcher.tick(MORNING) == 0
    list(coach.act(Request(ALICE, Action.STOP)))
    assert dispatcher.tick(MORNING) == 1


def test_a_user_busy_answering_is_sent_the_question_on_a_later_pass(coach: Coach, port: FakeDailyPort) -> None:
    daily_on(coach)
    dispatcher = DailyDispatcher(coach, port)
    with coach.gate.hold(ALICE):
        assert dispatcher.tick(MORNING) == 0
    assert dispatcher.tick(MORNING) == 1


def test_yesterdays_unanswered_question_is_closed_for_todays(coach: Coach, port: FakeDailyPort) -> None:
    daily_on(coach)
    dispatcher = DailyDispatcher(coach, port)
    assert dispatcher.tick(MORNING) == 1
    assert dispatcher.tick(MORNING + timedelta(days=1)) == 1
    session = coach.open_session(ALICE)
    assert session.extra["daily"] == "2025-03-04" and [d for _, d, _ in port.sent] == ["2025-03-03", "2025-03-04"]


def test_the_daily_status_names_the_next_send_in_the_users_zone(coach: Coach) -> None:
    daily_on(coach, time="21:30", zone="Asia/Tokyo")   # it is 19:00 in Tokyo
    [status] = coach.act(Request(ALICE, Action.DAILY))
    assert status.text == "Daily question: on, at 21:30 (Asia/Tokyo); next Mon 03 Mar 21:30."
    assert status.data["next"] == "2025-03-03T21:30:00+09:00"
    [off] = coach.act(Request(ALICE, Action.DAILY, daily=False))
    assert off.text == "Daily questions are off."
    for time, zone, said in (("25:00", None, "24-hour"), (None, "Mars/Olympus", "time zone")):
        [error] = coach.act(Request(ALICE, Action.DAILY, daily=True, time=time, zone=zone))
        assert error.kind is ReplyKind.ERROR and said in error.text
    assert not coach.store.get_user(ALICE).daily_on
