"""Defects a real workspace hit, each reproduced through the real Bolt app on signed HTTP and the fake Web API: a file
graded as an empty answer, a reply in an old question's thread graded for the new one, deactivated users retried
forever, a late draft of the critique overwriting the final text."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.replies import Reply, ReplyKind, UserRef
from bot.slack_app import web_client
from bot.slack_messages import CritiqueStream
from tests.fake_slack_api import FakeSlackApi, Slack, dm_event
from tests.test_slack_app import GOOD_ANSWER, _start, _text
from tests.test_slack_daily import STEP, FakeClock, _daily_on, _process

U1 = UserRef("slack", "U1")


def test_a_file_without_text_is_not_graded_and_the_question_stays_open(slack: Slack) -> None:
    _start(slack, "U1")
    screenshot = {"id": "F1", "name": "answer.png", "mimetype": "image/png", "filetype": "png"}
    slack.event(dm_event("U1", "", ts="1000.000100", subtype="file_share", files=[screenshot]), "EvFile")
    said = slack.wait_dm("U1", lambda m: "not a recording" in _text(m))   # voice works, a screenshot does not
    assert "voice message" in _text(said)
    assert said["thread_ts"] == "1000.000100"
    assert slack.coach.store.attempts(U1) == [] and slack.coach.open_session(U1) is not None
    assert not any("Report card" in _text(m) for m in slack.dm("U1"))


def test_a_reply_in_an_old_questions_thread_does_not_answer_the_new_one(slack: Slack) -> None:
    first = _start(slack, "U1", "2")
    slack.event(dm_event("U1", GOOD_ANSWER, ts="1000.000100", thread_ts=first["ts"]), "Ev1")
    slack.wait_dm("U1", lambda m: _text(m).startswith("*Follow-up"))
    slack.event(dm_event("U1", "At inference every neuron is active.", ts="1000.000200", thread_ts=first["ts"]), "Ev2")
    slack.wait_dm("U1", lambda m: "Question 2 of 2" in _text(m))
    slack.event(dm_event("U1", "One more thought on dropout.", ts="1000.000300", thread_ts=first["ts"]), "Ev3")
    stale = slack.wait_dm("U1", lambda m: "no longer open" in _text(m))
    assert stale["thread_ts"] == first["ts"]
    session = slack.coach.open_session(U1)
    assert len(slack.coach.store.attempts(U1)) == 2 and session is not None and session.position == 1


@pytest.fixture()
def api() -> Iterator[FakeSlackApi]:
    with FakeSlackApi() as fake:
        yield fake


@pytest.mark.parametrize(("method", "error"), [("conversations.open", "user_disabled"),
                                               ("chat.postMessage", "is_archived")])
def test_a_deactivated_user_is_not_retried_every_pass(tmp_path: Path, api: FakeSlackApi, method: str,
                                                       error: str) -> None:
    clock = FakeClock(datetime(2026, 5, 4, 9, 0, tzinfo=UTC))
    daily = _process(tmp_path / "coach.db", api, clock)
    _daily_on(daily.coach, "U1", "09:00", "UTC")
    api.fail(method, status=200, retry_after=None, error=error, times=10)
    for _ in range(3):
        assert daily.sender.tick(clock.now) == 0
        clock.now += STEP
    assert len(api.all_calls(method)) == 1
    user = daily.coach.store.get_user(U1)
    assert user is not None and not user.daily_on


def test_a_rate_limited_draft_never_overwrites_the_final_critique() -> None:
    with FakeSlackApi() as api:
        stream = CritiqueStream(web_client("xoxb-test", api.url), "DU1", "1.0", interval=0.1)
        api.fail("chat.update", status=429, retry_after=31)   # Slack holds the first draft update back for 31 s
        raw = json.dumps({"strengths": ["one two three four five six seven eight"], "improvements": []})
        for word in raw.split(" "):
            stream.feed(word + " ")
            time.sleep(0.05)
        api.wait_for(lambda: api.all_calls("chat.update"))
        started = time.monotonic()
        stream.finish(Reply(ReplyKind.CRITIQUE, "• the final critique"))
        took = time.monotonic() - started
        final_at = time.monotonic()
        time.sleep(1.5)
        late = [c for c in api.calls("chat.update") if c.at > final_at]
        print(f"\nfinal critique shown {took:.2f} s after the model finished; drafts after it: {len(late)}")
        assert api.messages("DU1")[0]["text"] == "• the final critique"
        assert took < 5 and late == []


def test_slack_going_away_mid_stream_stops_the_drafts_with_one_logged_line(caplog: pytest.LogCaptureFixture,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    died: list[BaseException | None] = []
    monkeypatch.setattr("threading.excepthook", lambda args: died.append(args.exc_value))
    with FakeSlackApi() as api:
        stream = CritiqueStream(web_client("xoxb-test", api.url), "DU1", "1.0", interval=0.1)
        stream.feed('{"strengths": ["first words"')
        api.wait_for(lambda: api.all_calls("chat.postMessage"))
    for word in ", ".join(f'"point {n}"' for n in range(20)).split(" "):   # Slack is gone; the model goes on
        stream.feed(word + " ")
        time.sleep(0.03)
    stream.close()
    assert stream._thread is not None and not stream._thread.is_alive()
    assert died == []   # the streaming thread did not die with a traceback
    said = [r for r in caplog.records if "could not be reached" in r.getMessage()]
    assert len(said) == 1 and "xoxb" not in said[0].getMessage()
