"""Slack HTTP mode under hostile and heavy traffic (cases 1, 2, 3, 6, 12 of the reliability suite)."""

from __future__ import annotations

import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.core.replies import UserRef
from bot.core.testing import FakeLLM
from tests.fake_slack_api import CRITIQUE, FORM, Sent, Slack, command_body, dm_event, running, sign, slack_request
from tests.test_slack_app import GOOD_ANSWER, _start, _text

MENTIONS = ("<!channel>", "<!everyone>", "<!here>", "<@U999>", "<b>", "<script>")


def _raw_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": FORM, **headers}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _forged(slack: Slack) -> dict[str, Callable[[], int]]:
    """Each way a request can fail Slack's signature check, as a thunk returning the HTTP status."""
    body = command_body("U1", "topics", slack.api.root + "response/U1")
    now = int(time.time())

    def timed(delta: int) -> Callable[[], int]:
        # The stamp is taken when the request is sent, and 30 s past Slack's 300 s window, so a slow machine
        # (seconds between building and sending) cannot bring a forged stamp back inside the window.
        def send() -> int:
            when = int(time.time()) + delta
            return slack_request(slack.url, body, FORM, timestamp=when, signature=sign(body, when)).status
        return send

    return {
        "tampered body": lambda: slack_request(slack.url, body + b"&text=stop", FORM, signature=sign(body, now),
                                               timestamp=now).status,
        "wrong secret": lambda: slack_request(slack.url, body, FORM, secret="not-the-secret").status,
        "timestamp -330 s": timed(-330),
        "timestamp +330 s": timed(330),
        "no signature header": lambda: _raw_post(slack.url, body, {"X-Slack-Request-Timestamp": str(now)}),
        "no timestamp header": lambda: _raw_post(slack.url, body, {"X-Slack-Signature": sign(body, now)}),
        "no headers": lambda: _raw_post(slack.url, body, {}),
    }


def test_case1_bad_signatures_are_refused(slack: Slack, record: Any) -> None:
    statuses = {name: send() for name, send in _forged(slack).items()}
    time.sleep(0.3)
    assert not slack.api.calls("response_url") and not slack.api.calls("chat.postMessage"), "a forged request acted"
    valid = slack.command("U1", "topics").status
    refused = sum(status == 401 for status in statuses.values())
    record(1, "Slack request signatures", "tampered body, wrong secret, timestamp ±330 s, missing headers → 401; "
           "valid → 200", f"{refused}/{len(statuses)} forged requests refused with 401 ({statuses}); valid → {valid}")
    assert statuses == dict.fromkeys(statuses, 401) and valid == 200


def test_case2_an_event_delivered_4_times_is_graded_once(slack: Slack, record: Any) -> None:
    _start(slack, "U1")
    event = dm_event("U1", GOOD_ANSWER, ts="1000.000100")
    statuses = [slack.event(event, "EvRetried", retry=retry).status for retry in (None, 1, 2, 3)]
    slack.wait_dm("U1", lambda m: _text(m).startswith("*Follow-up"))
    time.sleep(0.5)
    attempts = len(slack.coach.store.attempts(UserRef("slack", "U1")))
    scores = sum(_text(m).startswith("*Score:") for m in slack.dm("U1"))
    record(2, "Slack event retries", "one event delivered 4 times (X-Slack-Retry-Num 1–3)",
           f"acks {statuses}; {attempts} grading, {scores} score reply")
    assert statuses == [200] * 4 and attempts == 1 and scores == 1


def _percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def test_case3_slack_acks_within_3_s_while_the_engine_takes_10(tmp_path: Path, record: Any) -> None:
    release = threading.Event()

    def slow(prompt: Any) -> str:
        release.wait(10)
        return json.dumps(CRITIQUE)

    with running(tmp_path, llm=FakeLLM(respond=slow), workers=4) as slack:
        users = [f"U{i}" for i in range(10)]
        questions = {user: _start(slack, user) for user in users}
        sends: list[Callable[..., Sent]] = [
            lambda i=i, u=u: slack.event(dm_event(u, GOOD_ANSWER, ts=f"3000.{i:06d}"), f"EvSlow{i}")
            for i, u in enumerate(users)]
        sends += [lambda u=u: slack.command(u, "topics") for u in users * 2]
        sends += [lambda u=u: slack.click(u, "coach_answer", questions[u]) for u in users * 2]
        with ThreadPoolExecutor(10) as pool:
            times = [sent.seconds for sent in pool.map(lambda send: send(), sends)]
        release.set()
        p50, p99 = _percentiles(times)
        record(3, "Slack ack under a 10 s engine", f"{len(times)} requests (10 answers holding a 4-worker pool, "
               "20 commands, 20 button clicks)", f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
        assert len(times) == 50 and p99 < 3.0
        for user in users:
            slack.wait_dm(user, lambda m: _text(m).startswith("*Follow-up"), timeout=20)


def test_case6_slack_mentions_and_markup_in_an_answer_are_escaped(slack: Slack, record: Any) -> None:
    _start(slack, "U1")
    hostile = (f"{GOOD_ANSWER} <!channel> <!everyone> <!here> <@U999> <b>bold</b> <script>x</script> "
               "*not bold* `code` > quote")
    assert slack.event(dm_event("U1", hostile, ts="1000.000100"), "EvHostile").status == 200
    slack.wait_dm("U1", lambda m: _text(m).startswith("*Follow-up"))
    posted = b"".join(call.raw for call in slack.api.calls()).decode()
    leaked = [m for m in MENTIONS if m in posted or json.dumps(m)[1:-1] in posted]
    shown = "\n".join(_text(m) for m in slack.dm("U1"))
    record(6, "Slack: mentions and markup in answers", "an answer with <!channel>, <!everyone>, <!here>, <@U999>, "
           "HTML; every message sent to Slack scanned", f"{len(leaked)} raw mention/markup tokens sent {leaked}; "
           f"score reply shown: {'yes' if '*Score:' in shown else 'no'}")
    assert not leaked and "*Score:" in shown


def test_case12_slack_users_cannot_act_on_each_others_sessions(slack: Slack, record: Any) -> None:
    alice = _start(slack, "UA", "2")
    _start(slack, "UB", "2")
    for action in ("coach_skip", "coach_reveal", "coach_hint"):
        slack.click("UB", action, alice)
    opened = slack.api.calls("views.open")
    slack.click("UB", "coach_answer", alice)
    views = slack.api.wait_for(lambda: len(slack.api.calls("views.open")) > len(opened)
                               and slack.api.calls("views.open"))
    slack.submit("UB", "Bob's answer to Alice's question", views[-1].args["view"]["private_metadata"])
    slack.wait_dm("UB", lambda m: "no longer open" in _text(m))
    time.sleep(0.5)
    a_session = slack.coach.open_session(UserRef("slack", "UA"))
    a_attempts = slack.coach.store.attempts(UserRef("slack", "UA"))
    alice_dm = "\n".join(_text(m) for m in slack.dm("UA"))
    record(12, "Slack isolation", "Bob presses Alice's skip/reveal/hint/answer and submits her modal",
           f"Alice's session position {a_session.position if a_session else None}, her attempts {len(a_attempts)}, "
           f"Bob's text in Alice's DM: {'Bob' in alice_dm}")
    assert a_session is not None and a_session.position == 0 and a_attempts == [] and "Bob" not in alice_dm
