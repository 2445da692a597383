"""Discord adapter under a slow engine, hostile text and other users' buttons (cases 3, 6, 12)."""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

import pytest

from bot.discord_views import NOT_YOURS
from tests.discord_harness import GOOD_ANSWER, Harness, SlowCoach, alice, question_of, started, until
from tests.fake_discord import ALICE, BOB, EPHEMERAL

USERS = [ALICE + 100 + i for i in range(10)]


async def _start_user(h: Harness, user: int) -> dict[str, Any]:
    """Start an interview for `user`; the payload of a press of its Hint button, ready to dispatch."""
    calls = await h.command("start", user=user, topic="regularization", count=1)
    question = question_of(calls)
    custom_id = next(c for c in question.custom_ids if c.startswith(f"coach:hint:{user}:"))
    payload = h.users.base(3, {"custom_id": custom_id, "component_type": 2}, user, h.channel_of(question))
    payload["message"] = h.fake.messages[h.message_id(question)]
    return payload


def _topics(h: Harness, user: int) -> dict[str, Any]:
    data = {"id": "799", "name": "interview", "type": 1, "options": [{"type": 1, "name": "topics", "options": []}]}
    from tests.fake_discord import text_channel

    return h.users.base(2, data, user, text_channel())


@pytest.mark.asyncio
async def test_case3_discord_defers_within_3_s_while_the_engine_takes_10(h: Harness, record: Any) -> None:
    presses = [await _start_user(h, user) for user in USERS]
    slow = SlowCoach(h.coach)
    payloads = presses + [_topics(h, USERS[i % 10] + 50) for i in range(40)]
    sent: dict[str, float] = {}
    for payload in payloads:
        sent[payload["id"]] = h.dispatch(payload)
        await asyncio.sleep(0)

    def answered() -> dict[str, float] | None:
        first: dict[str, float] = {}
        for call in h.fake.callbacks():
            first.setdefault(call.path.split("/")[2], call.at)
        return first if all(i in first for i in sent) else None

    first = await until(answered, timeout=10)
    latencies = sorted(first[i] - t for i, t in sent.items())
    p50, p99 = statistics.median(latencies), latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    slow.release.set()
    await h.settle(timeout=20)
    record(3, "Discord defer under a 10 s engine", f"{len(latencies)} interactions (10 Hint presses stuck in the "
           "engine, 40 commands)", f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
    assert len(latencies) == 50 and p99 < 3.0


@pytest.mark.asyncio
async def test_case6_discord_mentions_and_markdown_ping_nobody(h: Harness, record: Any) -> None:
    _, question, thread = await started(h, topic="regularization", count=1)
    opened = await h.press(question, "answer", channel=thread)
    hostile = f"@everyone @here <@{BOB}> <@&700000000000000099> **bold** <b>x</b> {GOOD_ANSWER}"
    calls = await h.submit(h.fake.callbacks(opened)[0], hostile, channel=thread)
    messages = [c for c in h.fake.calls if c.method in ("POST", "PATCH") and not c.path.startswith("/interactions")
                and (c.content or c.embeds)]
    unguarded = [c.path for c in messages if (c.payload or {}).get("allowed_mentions") != {"parse": []}]
    shown = "\n".join(c.text() for c in calls)
    print("\nshown to the thread:\n" + shown[:600])
    raw = [m for m in ("@everyone", "@here", f"<@{BOB}>", "<@&700000000000000099>") if m in shown]
    record(6, "Discord: mentions in answers", "an answer with @everyone, @here, <@user>, <@&role>, Markdown, HTML",
           f"{len(messages)} messages, {len(unguarded)} without allowed_mentions none; raw mentions shown: {raw}")
    assert messages and not unguarded and not raw


@pytest.mark.asyncio
async def test_case12_discord_buttons_and_modal_belong_to_their_owner(h: Harness, record: Any) -> None:
    _, question, thread = await started(h, count=2)
    refused = 0
    for action in ("answer", "hint", "skip", "reveal", "stop"):
        calls = await h.press(question, action, user=BOB, channel=thread)
        refused += sum(c.payload["data"].get("content") == NOT_YOURS and c.payload["data"]["flags"] == EPHEMERAL
                       for c in h.fake.callbacks(calls))
    opened = await h.press(question, "answer", channel=thread)
    await h.submit(h.fake.callbacks(opened)[0], "Bob writes in Alice's form", user=BOB, channel=thread)
    session = h.coach.open_session(alice())
    attempts = h.coach.store.attempts(alice())
    record(12, "Discord isolation", "Bob presses Alice's 5 buttons and submits the modal Alice opened",
           f"{refused}/5 presses refused privately; Alice's position {session.position if session else None}, "
           f"her attempts {len(attempts)}")
    assert refused == 5 and session is not None and session.position == 0 and attempts == []
