"""The Discord adapter end to end: raw gateway payloads into the real command tree and views, the real Coach behind
them, and Discord's HTTP API replaced by a recorder that answers like Discord (no network)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import pytest_asyncio

from bot.core.coach import Coach
from bot.core.replies import Request
from bot.core.store.sql import SqlStore
from bot.core.testing import FakeLLM
from bot.discord_render import MESSAGE_LIMIT
from bot.discord_views import NOT_YOURS
from bot.errors import FAILED
from bot.errors import USER_BUSY as BUSY
from tests.discord_harness import (
    GOOD_ANSWER,
    NOW,
    Harness,
    PacedLLM,
    SlowCoach,
    alice,
    button,
    daily_on,
    make_coach,
    new_bot,
    question_of,
    say,
    session_of,
    started,
    until,
)
from tests.fake_discord import ALICE, APP_ID, BOB, CHANNEL_ID, EPHEMERAL, GUILD_ID, FakeDiscord, dm_channel
from tests.narrow import must

# ---------------------------------------------------------------------------------------------- tests


@pytest.mark.asyncio
async def test_start_opens_a_private_thread_and_posts_the_first_question_there(h: Harness) -> None:
    calls, question, thread = await started(h, topic="regularization", count=1)
    defer, *_ = h.fake.callbacks(calls)
    assert defer.payload == {"type": 5, "data": {"flags": EPHEMERAL}}   # deferred privately: channel stays clean
    created = next(c for c in calls if c.path.endswith("/threads"))
    assert created.path == f"/channels/{CHANNEL_ID}/threads" and created.payload["type"] == 12  # private
    assert any(c.method == "PUT" and c.path.endswith(f"/thread-members/{ALICE}") for c in calls)
    posted = [c for c in h.fake.sends(calls) if c.path.startswith("/channels/")]
    assert {c.path for c in posted} == {f"/channels/{thread['id']}/messages"}   # nothing in the channel itself
    assert "Mock interview: 1 question on regularization" in posted[0].content
    assert question.embeds[0]["title"].startswith("Question 1 of 1") or "Practice question" in question.text()
    assert "What is dropout" in question.text()
    turn = f"{session_of(h).id}:{session_of(h).current_question_id}"
    assert question.custom_ids == [f"coach:{a}:{ALICE}:{turn}"
                                   for a in ("answer", "hint", "skip", "reveal", "stop", "flag")]
    note = h.fake.sends(calls)[-1]
    assert note.path.startswith("/webhooks/") and note.flags == EPHEMERAL and f"<#{thread['id']}>" in note.content
    session = h.coach.open_session(alice())
    assert session is not None and session.channel == thread["id"]


@pytest.mark.asyncio
async def test_start_falls_back_to_a_public_thread_where_private_ones_are_refused(h: Harness) -> None:
    h.fake.forbid_private_threads = True
    calls, question, thread = await started(h)
    kinds = [c.payload["type"] for c in calls if c.path.endswith("/threads")]
    assert kinds == [12, 11]
    assert h.channel_of(question)["id"] == thread["id"] != str(CHANNEL_ID)


@pytest.mark.asyncio
async def test_start_in_a_dm_needs_no_thread(h: Harness) -> None:
    calls = await h.command("start", channel=dm_channel(ALICE), count=2)
    assert not any(c.path.endswith("/threads") for c in calls)
    assert h.fake.callbacks(calls)[0].payload == {"type": 5}   # public: it is the user's own DM
    sends = h.fake.sends(calls)
    assert all(c.path.startswith("/webhooks/") for c in sends)
    assert "Mock interview: 2 questions" in sends[0].content and question_of(calls).embeds
    assert must(h.coach.open_session(alice())).channel == str(ALICE + 1)


@pytest.mark.asyncio
async def test_answer_through_the_modal_shows_the_score_then_the_streamed_critique(h: Harness) -> None:
    _, question, thread = await started(h, topic="regularization", count=1)
    opened = await h.press(question, "answer", channel=thread)
    [modal] = h.fake.callbacks(opened)
    assert modal.payload["type"] == 9
    field = modal.payload["data"]["components"][0]["components"][0]
    assert field["style"] == 2 and field["max_length"] == 4000   # a paragraph of up to 4,000 characters

    calls = await h.submit(modal, GOOD_ANSWER, channel=thread)
    assert h.fake.callbacks(calls)[0].payload == {"type": 5}   # deferred before any grading
    sends = h.fake.sends(calls)
    echo, score, critique = sends[:3]
    assert GOOD_ANSWER[:60] in echo.embeds[0]["description"]
    assert score.embeds[0]["title"].startswith("Score: ")
    [attempt] = h.coach.store.attempts(alice())
    assert score.embeds[0]["title"] == f"Score: {attempt.score}/100"   # the committed score, shown first
    shown = h.fake.messages[h.message_id(critique)]["content"]   # after its edits: the whole critique
    # Every point covered: the critique is what went well (no gap to name), and the follow-up goes deeper.
    assert "You named the mechanism and when it applies." in shown and "✍" not in shown
    nxt = sends[3]
    assert nxt.custom_ids and ("Follow-up" in nxt.text() or "Question" in nxt.text() or "Report" in nxt.text())
    retired = [e for e in h.fake.edits(calls) if e.path.endswith(f"/messages/{h.message_id(question)}")]
    assert retired and retired[0].payload["components"] == []   # the answered question's buttons are gone


@pytest.mark.asyncio
async def test_hint_skip_reveal_then_stop_shows_the_report_card(h: Harness) -> None:
    _, question, thread = await started(h, count=3)
    calls = await h.press(question, "hint", channel=thread)
    [hint] = h.fake.sends(calls)
    assert hint.content.startswith("Hint:") and hint.custom_ids   # the buttons move to the newest message
    calls = await h.press(hint, "skip", channel=thread)
    skipped, second = h.fake.sends(calls)
    assert skipped.content == "Skipped." and "Question 2 of 3" in second.text()
    calls = await h.press(second, "reveal", channel=thread)
    sends = h.fake.sends(calls)
    assert sends[0].content.startswith("Example answer") and "Question 3 of 3" in sends[-1].text()
    calls = await h.command("stop", channel=thread)
    [report] = h.fake.sends(calls)
    assert report.embeds[0]["title"] == "Report card" and "skipped" in report.embeds[0]["description"]
    assert not report.custom_ids and h.coach.open_session(alice()) is None
    calls = await h.command("hint", channel=thread)
    [error] = h.fake.sends(calls)
    assert error.flags == EPHEMERAL and "no interview in progress" in error.content
    assert any(c.method == "DELETE" and c.path.endswith("/messages/@original") for c in calls)


@pytest.mark.asyncio
async def test_stats_attaches_the_progress_chart_as_a_png(h: Harness) -> None:
    _, question, thread = await started(h, topic="regularization", count=1)
    opened = await h.press(question, "answer", channel=thread)
    await h.submit(h.fake.callbacks(opened)[0], GOOD_ANSWER, channel=thread)
    calls = await h.command("stats")
    assert h.fake.callbacks(calls)[0].payload == {"type": 5, "data": {"flags": EPHEMERAL}}
    [stats] = h.fake.sends(calls)
    [(name, png)] = stats.files
    assert name == "progress.png" and png.startswith(b"\x89PNG\r\n\x1a\n")
    assert stats.flags == EPHEMERAL and "Answers: 1" in stats.content


@pytest.mark.asyncio
async def test_topics_lists_the_decks_topics_privately(h: Harness) -> None:
    calls = await h.command("topics")
    [topics] = h.fake.sends(calls)
    assert topics.flags == EPHEMERAL and "regularization (1)" in topics.content
    assert [c.name for c in h.bot.topic_choices("reg")] == ["regularization (1)"]


@pytest.mark.asyncio
async def test_another_user_cannot_press_the_owners_buttons(h: Harness) -> None:
    _, question, thread = await started(h, count=2)
    for action in ("skip", "answer", "stop"):
        calls = await h.press(question, action, user=BOB, channel=thread)
        [refusal] = calls
        assert refusal.payload == {"type": 4, "data": {"content": NOT_YOURS, "flags": EPHEMERAL,
                                                        "allowed_mentions": {"parse": []}, "tts": False}}
    session = h.coach.open_session(alice())
    assert session is not None and session.position == 0


@pytest.mark.asyncio
async def test_a_slow_engine_is_deferred_within_3_seconds_and_blocks_nobody(h: Harness) -> None:
    _, question, thread = await started(h, topic="regularization", count=1)
    slow = SlowCoach(h.coach)
    payload = h.users.base(3, {"custom_id": button(question, "hint"), "component_type": 2}, ALICE, thread)
    payload["message"] = h.fake.messages[h.message_id(question)]
    mark = len(h.fake.calls)
    dispatched = h.dispatch(payload)
    defer = await until(lambda: h.fake.callbacks(h.fake.since(mark)))
    latency = defer[0].at - dispatched
    assert defer[0].payload == {"type": 5} and latency < 3.0
    print(f"\ndefer latency with a 10 s engine: {latency * 1000:.1f} ms")

    # While Alice's hint is stuck in the engine, Bob is served and Alice's second press is refused privately.
    bob = await h.command("topics", user=BOB)
    assert h.fake.callbacks(bob)[0].payload["type"] == 5 and h.fake.sends(bob)
    again = h.users.base(3, {"custom_id": button(question, "skip"), "component_type": 2}, ALICE, thread)
    again["message"] = payload["message"]
    mark2 = len(h.fake.calls)
    h.dispatch(again)
    busy = await until(lambda: h.fake.callbacks(h.fake.since(mark2)))
    assert busy[0].payload["data"]["content"] == BUSY and busy[0].payload["data"]["flags"] == EPHEMERAL
    assert not [c for c in h.fake.sends(h.fake.since(mark)) if c.content.startswith("Hint:")]

    slow.release.set()
    await h.settle()
    assert any(c.content.startswith("Hint:") for c in h.fake.sends(h.fake.since(mark)))


@pytest.mark.asyncio
async def test_a_slow_grader_still_defers_the_modal_at_once(h: Harness) -> None:
    _, question, thread = await started(h, topic="regularization", count=1)
    opened = await h.press(question, "answer", channel=thread)
    slow = SlowCoach(h.coach)
    modal = h.fake.callbacks(opened)[0].payload["data"]
    data = {"custom_id": modal["custom_id"], "components": [{"type": 1, "components": [
        {"type": 4, "custom_id": "coach:answer-text", "value": GOOD_ANSWER}]}]}
    mark = len(h.fake.calls)
    dispatched = h.dispatch(h.users.base(5, data, ALICE, thread))
    defer = await until(lambda: h.fake.callbacks(h.fake.since(mark)))
    assert defer[0].at - dispatched < 3.0
    print(f"\ndefer latency of a modal answer with a 10 s engine: {(defer[0].at - dispatched) * 1000:.1f} ms")
    slow.release.set()
    await h.settle()
    assert any(e.embeds and e.embeds[0].get("title", "").startswith("Score") for e in h.fake.since(mark))


@pytest.mark.asyncio
async def test_the_engines_busy_sentence_is_private(h: Harness) -> None:
    _, question, thread = await started(h, count=2)
    lock = h.coach.gate.lock(alice())   # another caller (the daily sender, say) holds Alice's turn
    lock.acquire()
    try:
        calls = await h.press(question, "hint", channel=thread)
    finally:
        lock.release()
    assert any(c.method == "DELETE" and c.path.endswith("@original") for c in calls)   # the public "thinking…"
    [busy] = h.fake.sends(calls)
    assert busy.flags == EPHEMERAL and "previous" in busy.content


@pytest.mark.asyncio
async def test_an_engine_failure_is_one_private_sentence_and_logged_in_full(
        h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    _, question, thread = await started(h, count=2)

    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("disk on fire")

    h.coach.grader.hint = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR):
        calls = await h.press(question, "hint", channel=thread)
    [error] = h.fake.sends(calls)
    assert error.flags == EPHEMERAL and error.content == FAILED
    assert any(r.exc_info and "disk on fire" in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.asyncio
async def test_the_critique_is_edited_no_faster_than_the_interval_then_finished(
        fake: FakeDiscord, store: SqlStore) -> None:
    bot = new_bot(make_coach(store, PacedLLM(0.03)), fake, edit_interval=0.2)
    await bot.client._async_setup_hook()
    h = Harness(bot, fake)
    _, question, thread = await started(h, topic="regularization", count=1)
    opened = await h.press(question, "answer", channel=thread)
    calls = await h.submit(h.fake.callbacks(opened)[0], GOOD_ANSWER, channel=thread)
    first = next(c for c in h.fake.sends(calls) if c.content.endswith("✍"))
    updates = [first] + [e for e in h.fake.edits(calls) if e.path.endswith(f"/messages/{h.message_id(first)}")]
    gaps = [b.at - a.at for a, b in itertools.pairwise(updates)]
    assert len(updates) >= 3 and min(gaps) >= 0.2 - 0.02, gaps   # several edits, paced
    assert [u.content.endswith("✍") for u in updates] == [True] * (len(updates) - 1) + [False]
    assert "You named the mechanism and when it applies." in updates[-1].content   # the final edit: the whole critique
    await bot.client.close()


@pytest.mark.asyncio
async def test_a_5000_character_critique_is_split_into_clean_chunks(h: Harness) -> None:
    from bot.core.replies import Reply, ReplyKind

    paragraph = "The answer explains dropout well and could say more about rescaling at inference. " * 7
    long_text = "\n\n".join([paragraph.strip()] * 10)
    assert len(long_text) > 5000
    act = h.coach.act

    def long_critique(request: Request, **kwargs: Any) -> Iterator[Reply]:
        for reply in act(request, **kwargs):
            yield Reply(reply.kind, long_text, reply.actions, data=reply.data) if reply.kind is ReplyKind.CRITIQUE \
                else reply

    h.coach.act = long_critique  # type: ignore[method-assign]
    _, question, thread = await started(h, topic="regularization", count=1)
    opened = await h.press(question, "answer", channel=thread)
    calls = await h.submit(h.fake.callbacks(opened)[0], GOOD_ANSWER, channel=thread)
    chunks = [m["content"] for m in h.fake.messages.values() if m["content"].startswith("The answer explains")]
    assert all(len(c.content) <= MESSAGE_LIMIT for c in calls)
    assert len(chunks) >= 3 and all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert " ".join(chunks).split() == long_text.split()   # every word whole, none lost


@pytest.mark.asyncio
async def test_everyone_in_an_answer_pings_nobody(h: Harness) -> None:
    _, question, thread = await started(h, topic="regularization", count=1)
    opened = await h.press(question, "answer", channel=thread)
    sneaky = f"@everyone @here <@{BOB}> " + GOOD_ANSWER
    calls = await h.submit(h.fake.callbacks(opened)[0], sneaky, channel=thread)
    messages = [c for c in h.fake.calls if c.method in ("POST", "PATCH") and (c.content or c.embeds or c.custom_ids)
                and not c.path.startswith("/interactions")]
    assert messages and all(c.payload["allowed_mentions"] == {"parse": []} for c in messages)
    refusals = [c for c in h.fake.callbacks() if c.payload["type"] == 4]
    assert all(c.payload["data"]["allowed_mentions"] == {"parse": []} for c in refusals)
    shown = "\n".join(c.text() for c in calls)
    assert "everyone" in shown   # the answer is echoed...
    assert "@everyone" not in shown and "@here" not in shown and f"<@{BOB}>" not in shown   # ...defused
    assert h.bot.client.allowed_mentions is not None and h.bot.client.allowed_mentions.to_dict() == {"parse": []}


@pytest.mark.asyncio
async def test_a_plain_message_in_the_thread_is_an_answer_only_with_the_message_content_intent(
        fake: FakeDiscord, store: SqlStore, llm: FakeLLM) -> None:
    for intent in (False, True):
        bot = new_bot(make_coach(store, llm), fake, message_content=intent)
        await bot.client._async_setup_hook()
        h = Harness(bot, fake)
        _, _, thread = await started(h, topic="regularization", count=1)
        calls = await say(h, thread, GOOD_ANSWER)
        if not intent:
            assert calls == [] and h.coach.store.attempts(alice()) == []
        else:
            sends = h.fake.sends(calls)
            assert {c.path for c in sends} == {f"/channels/{thread['id']}/messages"}
            assert sends[0].embeds[0]["title"].startswith("Score: ") and len(h.coach.store.attempts(alice())) == 1
        await bot.client.close()


@pytest.mark.asyncio
async def test_daily_settings_are_validated_before_anything_is_stored(h: Harness) -> None:
    [refusal] = await h.command("daily", state="on", time="25:00")
    assert refusal.payload["type"] == 4 and refusal.flags == EPHEMERAL and "HH:MM" in refusal.content
    [refusal] = await h.command("daily", state="on", timezone="Mars/Olympus")
    assert refusal.flags == EPHEMERAL and "time zone" in refusal.content
    assert h.coach.store.get_user(alice()) is None
    calls = await h.command("daily", state="on", time="8:30", timezone="Europe/Paris")
    [done] = h.fake.sends(calls)
    assert done.flags == EPHEMERAL and "08:30 (Europe/Paris)" in done.content and "direct message" in done.content
    user = h.coach.store.get_user(alice())
    assert user is not None and (user.daily_on, user.daily_time, user.time_zone) == (True, "08:30", "Europe/Paris")
    [off] = h.fake.sends(await h.command("daily", state="off"))
    assert "off" in off.content and not must(h.coach.store.get_user(alice())).daily_on


@pytest.mark.asyncio
async def test_the_daily_question_is_claimed_before_it_is_sent_and_sent_once(h: Harness) -> None:
    daily_on(h.coach)
    claims: list[Any] = []
    h.fake.on_send = lambda call: claims.append(h.coach.store.daily_send(alice(), "2025-03-03"))
    mark = len(h.fake.calls)
    assert await h.bot.daily_tick(NOW) == 1
    assert [c.status for c in claims] == ["claimed"]   # stored before the DM went out
    [dm] = h.fake.sends(h.fake.since(mark))
    assert dm.path == f"/channels/{ALICE + 1}/messages"
    assert dm.embeds[0]["footer"]["text"].startswith("Daily question · 2025-03-03")
    assert dm.custom_ids[0] == f"coach:answer:{ALICE}:{session_of(h).id}:{session_of(h).current_question_id}"
    record = must(h.coach.store.daily_send(alice(), "2025-03-03"))
    assert record.status == "sent" and record.message_ref == str(h.message_id(dm))
    assert await h.bot.daily_tick(NOW) == 0 and len(h.fake.sends(h.fake.since(mark))) == 1   # never twice

    # The user answers in the DM with a plain message: no privileged intent is needed there.
    calls = await say(h, dm_channel(ALICE), GOOD_ANSWER)
    assert h.fake.sends(calls)[0].embeds[0]["title"].startswith("Score: ")


@pytest_asyncio.fixture()
async def crashed(fake: FakeDiscord, store: SqlStore, llm: FakeLLM) -> Coach:
    """The engine of a process that claimed Alice's question for the day and opened it, then died before sending."""
    coach = make_coach(store, llm)
    daily_on(coach)
    dead = new_bot(coach, fake)
    await dead.client._async_setup_hook()

    def die(*args: Any, **kwargs: Any) -> None:
        raise SystemExit("killed before the send")

    dead.daily.port.send = die  # type: ignore[method-assign]
    with pytest.raises(SystemExit):
        await dead.daily_tick(NOW)
    dead.shutdown()
    await dead.client.close()
    return coach


@pytest.mark.asyncio
async def test_a_restart_between_claim_and_send_sends_the_claimed_question_once(
        fake: FakeDiscord, store: SqlStore, crashed: Coach) -> None:
    coach = crashed   # the process that died: it opened the day's question and claimed the day, then stopped
    claimed = coach.current(alice())
    assert claimed is not None and must(store.daily_send(alice(), "2025-03-03")).status == "claimed"
    bot = new_bot(coach, fake)   # the restarted process
    await bot.client._async_setup_hook()
    assert await bot.daily_tick(NOW) == 1
    [dm] = fake.sends()
    assert claimed.data["question"] in dm.text()
    assert await bot.daily_tick(NOW) == 0 and len(fake.sends()) == 1
    assert must(store.daily_send(alice(), "2025-03-03")).status == "sent"
    await bot.client.close()


@pytest.mark.asyncio
async def test_a_restart_after_the_send_but_before_the_mark_does_not_repeat(
        fake: FakeDiscord, store: SqlStore, crashed: Coach) -> None:
    coach = crashed
    assert coach.current(alice()) is not None   # claimed, then died
    posted = fake._message(ALICE + 1, {"embeds": [{"footer": {"text": "Daily question · 2025-03-03 · answer"}}]})
    bot = new_bot(coach, fake)
    await bot.client._async_setup_hook()
    assert await bot.daily_tick(NOW) == 0 and fake.sends() == []
    assert must(store.daily_send(alice(), "2025-03-03")).message_ref == posted["id"]
    await bot.client.close()


@pytest.mark.asyncio
async def test_a_user_who_refuses_dms_has_daily_questions_turned_off(h: Harness) -> None:
    daily_on(h.coach)
    h.fake.forbid_dms = True
    assert await h.bot.daily_tick(NOW) == 0
    assert not must(h.coach.store.get_user(alice())).daily_on


@pytest.mark.asyncio
async def test_commands_sync_to_the_development_guild_or_globally(
        fake: FakeDiscord, store: SqlStore, llm: FakeLLM) -> None:
    from bot.discord_views import command_payload

    for guild_id, path in ((GUILD_ID, f"/applications/{APP_ID}/guilds/{GUILD_ID}/commands"),
                           (None, f"/applications/{APP_ID}/commands")):
        bot = new_bot(make_coach(store, llm), fake, guild_id=guild_id)
        await bot.client._async_setup_hook()
        mark = len(fake.calls)
        await bot.setup_hook()
        [sync] = fake.since(mark)
        assert (sync.method, sync.path) == ("PUT", path) and sync.payload == command_payload()
        assert bot._daily_task is not None
        bot._daily_task.cancel()
        await bot.client.close()
