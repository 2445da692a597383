"""Defects a real server hit, each reproduced through the fake Discord transport: old buttons and forms acting on the
current question, results lost when the interaction token expires, quick commands starved by queued answers,
half-private interviews, threads left behind, commands re-registered on every start, two processes sending one
daily question twice."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.core.store.sql import SqlStore
from bot.core.testing import FakeLLM
from tests.discord_harness import (
    CRITIQUE,
    GOOD_ANSWER,
    NOW,
    Harness,
    PacedLLM,
    alice,
    daily_on,
    make_coach,
    new_bot,
    question_of,
    session_of,
    started,
    until,
)
from tests.fake_discord import ALICE, CHANNEL_ID, EPHEMERAL, FakeDiscord, dm_channel

STALE = "no longer open"


def _private(calls: list[Any]) -> list[str]:
    """What was said privately: ephemeral followups and immediate ephemeral responses."""
    said = [c.content for c in calls if c.flags == EPHEMERAL]
    return [text for text in said if text]


# ---------------------------------------------------------------------------------------------- 1. stale actions


async def restarted(h: Harness) -> Harness:
    """The same coach and Discord after a restart: the new process knows nothing of the buttons already posted."""
    bot = new_bot(h.coach, h.fake)
    await bot.client._async_setup_hook()
    return Harness(bot, h.fake)


@pytest.mark.asyncio
async def test_an_old_questions_skip_button_is_refused_and_the_current_question_stays(h: Harness) -> None:
    _, first, thread = await started(h, count=3)
    h = await restarted(h)   # question 1 keeps its buttons: only the process that posted them could remove them
    calls = await h.press(first, "skip", channel=thread)
    assert "Question 2 of 3" in question_of(calls).text()
    stale = await h.press(first, "skip", channel=thread)   # question 1's Skip again
    assert any(STALE in text for text in _private(stale))
    assert session_of(h).position == 1 and not any("Question 3 of 3" in c.text() for c in stale)
    await h.bot.client.close()


@pytest.mark.asyncio
async def test_an_answer_form_opened_on_an_old_question_is_not_graded_for_the_new_one(h: Harness) -> None:
    _, first, thread = await started(h, count=2)
    opened = await h.press(first, "answer", channel=thread)
    await h.command("skip", channel=thread)                 # the question moves on while the form is open
    calls = await h.submit(h.fake.callbacks(opened)[0], GOOD_ANSWER, channel=thread)
    assert any(STALE in text for text in _private(calls))
    assert [a.skipped for a in h.coach.store.attempts(alice())] == [True]   # only the skip; nothing graded
    assert session_of(h).position == 1


@pytest.mark.asyncio
async def test_a_replaced_interviews_buttons_do_not_act_on_the_new_one(h: Harness) -> None:
    _, old, old_thread = await started(h, count=2)
    h = await restarted(h)
    await started(h, count=2)               # a second /interview start replaces the first
    calls = await h.press(old, "reveal", channel=old_thread)
    assert any(STALE in text for text in _private(calls))
    assert session_of(h).position == 0 and not any(c.content.startswith("Example answer") for c in calls)
    await h.bot.client.close()


@pytest.mark.asyncio
async def test_a_button_posted_before_buttons_named_their_question_is_stale_not_a_crash(h: Harness) -> None:
    _, question, thread = await started(h, count=2)
    message = h.fake.messages[h.message_id(question)]
    for row in message["components"]:   # as the previous release posted them: action and owner only
        for button in row["components"]:
            button["custom_id"] = ":".join(button["custom_id"].split(":")[:3])
    payload = h.users.base(3, {"custom_id": f"coach:skip:{ALICE}", "component_type": 2}, ALICE, thread)
    payload["message"] = message
    calls = await h.run(payload)
    assert any(STALE in text for text in _private(calls)) and session_of(h).position == 0


# ---------------------------------------------------------------------------------------------- 2. late results


@pytest.mark.asyncio
async def test_results_still_arrive_after_the_interaction_token_expired(fake: FakeDiscord, store: SqlStore) -> None:
    bot = new_bot(make_coach(store, PacedLLM(0.04)), fake, edit_interval=0.05)
    await bot.client._async_setup_hook()
    h = Harness(bot, fake)
    _, question, thread = await started(h, topic="regularization", count=1)
    opened = await h.press(question, "answer", channel=thread)
    fake.token_lifetime = 0.4   # the critique takes longer than the token lives, as on a busy CPU
    await h.submit(h.fake.callbacks(opened)[0], GOOD_ANSWER, channel=thread)
    shown = [m for m in fake.messages.values() if m["channel_id"] == thread["id"]]
    texts = "\n".join(m["content"] + " ".join(e.get("title") or "" for e in m["embeds"]) for m in shown)
    # The whole critique (every point covered: what went well; the follow-up comes on its own).
    assert "You named the mechanism and when it applies." in texts and "✍" not in texts
    follow = [m for m in shown if any("Follow-up" in (e.get("title") or "") for e in m["embeds"])]
    assert follow and follow[-1]["components"], "the follow-up question never reached the thread"
    assert session_of(h).follow_up is not None
    await bot.client.close()
    bot.shutdown()


# ---------------------------------------------------------------------------------------------- 3. starvation


@pytest.mark.asyncio
async def test_topics_answers_at_once_while_eight_answers_wait_for_the_model(fake: FakeDiscord,
                                                                             store: SqlStore) -> None:
    # asyncio's default pool on this 2-core machine: min(32, cores + 4) threads.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(6))
    release = threading.Event()

    def slow(prompt: Any) -> str:
        release.wait(20)
        return json.dumps(CRITIQUE)

    bot = new_bot(make_coach(store, FakeLLM(respond=slow)), fake)
    await bot.client._async_setup_hook()
    h = Harness(bot, fake)
    users = [ALICE + 100 + i for i in range(8)]
    forms = []
    for user in users:
        calls = await h.command("start", user=user, channel=dm_channel(user), topic="regularization", count=1)
        forms.append(await h.press(question_of(calls), "answer", user=user, channel=dm_channel(user)))
    for user, opened in zip(users, forms, strict=True):
        modal = h.fake.callbacks(opened)[0].payload["data"]
        data = {"custom_id": modal["custom_id"], "components": [{"type": 1, "components": [
            {"type": 4, "custom_id": "coach:answer-text", "value": GOOD_ANSWER}]}]}
        h.dispatch(h.users.base(5, data, user, dm_channel(user)))
    await asyncio.sleep(1.0)   # the answers are graded, then wait for the model
    mark = len(fake.calls)
    asked = time.monotonic()
    h.dispatch(h.users.base(2, {"id": "799", "name": "interview", "type": 1, "options": [
        {"type": 1, "name": "topics", "options": []}]}, ALICE, dm_channel(ALICE)))
    try:
        topics = await until(lambda: [c for c in fake.sends(fake.since(mark)) if "regularization" in c.content],
                             timeout=2.0)
        waited = topics[0].at - asked
    except AssertionError:   # no answer within 2 s
        waited = math.inf
    finally:
        release.set()
        await h.settle(timeout=30)
        await bot.client.close()
        bot.shutdown()
    print(f"\n/interview topics answered {waited * 1000:.0f} ms after it came, 8 answers waiting for the model")
    assert waited < 2.0


# ---------------------------------------------------------------------------------------------- 4. privacy


@pytest.mark.asyncio
async def test_without_threads_the_interview_moves_to_the_dm_and_nothing_is_public(h: Harness) -> None:
    h.fake.forbid_private_threads = h.fake.forbid_public_threads = True
    calls = await h.command("start", topic="regularization", count=1)
    question = question_of(calls)
    assert h.channel_of(question)["id"] == str(ALICE + 1) and question.flags != EPHEMERAL
    opened = await h.press(question, "answer", channel=dm_channel(ALICE))
    await h.submit(h.fake.callbacks(opened)[0], GOOD_ANSWER, channel=dm_channel(ALICE))
    public = [c for c in h.fake.sends() if c.flags != EPHEMERAL and int(c.response["channel_id"]) == CHANNEL_ID]
    assert public == [], [c.text()[:80] for c in public]
    assert h.coach.store.attempts(alice()), "the answer was not graded"
    assert any("direct messages" in text for text in _private(calls))


@pytest.mark.asyncio
async def test_a_thread_the_user_could_not_be_added_to_is_deleted(h: Harness) -> None:
    h.fake.forbid_thread_members = True
    calls = await h.command("start", count=1)
    created = [c.response["id"] for c in calls if c.path.endswith("/threads")]
    deleted = [c.path.rsplit("/", 1)[1] for c in calls if c.method == "DELETE" and c.path.startswith("/channels/")]
    assert created and sorted(created) == sorted(deleted)


# ---------------------------------------------------------------------------------------------- 6. commands


@pytest.mark.asyncio
async def test_a_refused_command_sync_is_logged_and_the_bot_runs_on(
        fake: FakeDiscord, store: SqlStore, llm: FakeLLM, caplog: pytest.LogCaptureFixture) -> None:
    fake.forbid_sync = True
    bot = new_bot(make_coach(store, llm), fake)
    await bot.client._async_setup_hook()
    with caplog.at_level(logging.WARNING):
        await bot.setup_hook()   # raised Forbidden, and the process exited with a traceback
    assert any("refused" in r.getMessage() for r in caplog.records)
    assert bot._daily_task is not None
    bot._daily_task.cancel()
    await bot.client.close()
    bot.shutdown()


@pytest.mark.asyncio
async def test_a_restart_with_the_same_commands_registers_nothing(fake: FakeDiscord, store: SqlStore, llm: FakeLLM,
                                                                  tmp_path: Path) -> None:
    puts = []
    for _ in range(2):
        bot = new_bot(make_coach(store, llm), fake, commands_file=tmp_path / "commands")
        await bot.client._async_setup_hook()
        mark = len(fake.calls)
        await bot.setup_hook()
        puts.append([c.path for c in fake.since(mark) if c.method == "PUT"])
        assert bot._daily_task is not None
        bot._daily_task.cancel()
        await bot.client.close()
        bot.shutdown()
    assert len(puts[0]) == 1 and puts[1] == []


# ---------------------------------------------------------------------------------------------- 7. two processes


@pytest.mark.asyncio
async def test_two_processes_on_one_database_send_one_daily_question(fake: FakeDiscord, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'coach.db'}"
    first_store, second_store = SqlStore(database), SqlStore(database)
    first = new_bot(make_coach(first_store, None), fake)
    await first.client._async_setup_hook()
    daily_on(first.coach)
    fake.hold_dms = asyncio.Event()   # the first process is slow to send (Discord rate-limits it, say)
    sending = asyncio.create_task(first.daily_tick(NOW))
    await until(lambda: first_store.daily_send(alice(), "2025-03-03"))
    second = new_bot(make_coach(second_store, None), fake)   # started while the first is still sending
    await second.client._async_setup_hook()
    other = asyncio.create_task(second.daily_tick(NOW))
    await asyncio.sleep(0.5)
    fake.hold_dms.set()
    results = [await sending, await other]
    dms = [c for c in fake.sends() if c.path == f"/channels/{ALICE + 1}/messages"]
    assert results == [1, 0] and len(dms) == 1
    for bot in (first, second):
        await bot.client.close()
        bot.shutdown()
    first_store.close()
    second_store.close()
