"""Interviewer mode and deck choice on Discord: raw gateway payloads into the real command tree and views, the real
Coach behind them (two decks installed), Discord's HTTP API recorded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio

from bot.core.bank import load_bank
from bot.core.replies import Action, Reply, ReplyKind, UserRef
from bot.core.store.sql import SqlStore
from bot.core.testing import FakeLLM, fake_coach
from bot.discord_render import DESCRIPTION_LIMIT, render
from tests.discord_harness import NOW, Harness, alice, make_coach, new_bot, question_of, started
from tests.fake_discord import ALICE, APP_ID, BOB, EPHEMERAL, GUILD_ID, Call, FakeDiscord, text_channel
from tests.narrow import must

MANAGE_GUILD = discord.Permissions(manage_guild=True).value
BOB_REF = UserRef("discord", str(BOB))


@pytest_asyncio.fixture()
async def h2(fake: FakeDiscord, store: SqlStore, llm: FakeLLM, two_decks: Path) -> AsyncIterator[Harness]:
    """The Discord bot with two decks installed (mini and databases)."""
    bot = new_bot(fake_coach(load_bank(two_decks), store, llm=llm, clock=lambda: NOW), fake)
    await bot.client._async_setup_hook()
    yield Harness(bot, fake)
    await bot.client.close()
    bot.shutdown()


async def command(h: Harness, sub: str, user: int = ALICE, *, manage: bool = False, **options: Any) -> list[Call]:
    """/interview <sub> in the server channel, by a member with or without Manage Server."""
    types = {str: 3, int: 4}
    data = {"id": str(APP_ID + 99), "name": "interview", "type": 1, "options": [
        {"type": 1, "name": sub, "options": [{"type": types[type(v)], "name": k, "value": v}
                                             for k, v in options.items()]}]}
    payload = h.users.base(2, data, user, text_channel())
    payload["member"]["permissions"] = str(MANAGE_GUILD if manage else 0)
    return await h.run(payload)


def private_text(calls: list[Call]) -> str:
    """What the private followups said."""
    return "\n".join(c.text() for c in calls if c.flags == EPHEMERAL)


@pytest.mark.asyncio
async def test_interviewer_mode_asks_probes_and_shows_no_score_until_the_report(h: Harness) -> None:
    calls, question, thread = await started(h, topic="cnn", count=1, mode="interviewer")
    intro = next(c for c in h.fake.sends(calls) if "interviewer mode" in c.content)
    assert "no score or feedback until the end" in intro.content
    assert [c.split(":")[1] for c in question.custom_ids] == ["answer", "skip", "stop", "flag"]   # no hint or reveal
    [time_field] = question.embeds[0]["fields"]
    deadline = int(NOW.timestamp()) + 240
    assert f"<t:{deadline}:R>" in time_field["value"]   # a live countdown in the user's own time
    assert "Time budget: 4:00" in question.text()
    opened = await h.press(question, "answer", channel=thread)
    [modal] = h.fake.callbacks(opened)
    answered = await h.submit(modal, "Pooling reduces the spatial size of feature maps.", channel=thread)
    sends = h.fake.sends(answered)
    assert not [c for c in sends if c.embeds and (c.embeds[0].get("title") or "").startswith("Score")]
    assert any(c.content == "Noted (0:00)." for c in sends)
    probe = question_of(answered)
    assert probe.embeds[0]["title"] == "Follow-up question" and probe.embeds[0]["fields"]
    assert [c.split(":")[1] for c in probe.custom_ids] == ["answer", "skip", "stop"]
    hinted = await command(h, "hint")
    assert "Interviewer mode has no hints" in private_text(hinted)
    skipped = await h.press(probe, "skip", channel=thread)
    [report] = [c for c in h.fake.sends(skipped) if c.embeds and "Interview report" in c.text()]
    assert "Verdict:" in report.text() and 'you said: "Pooling reduces the spatial size of feature maps."' in \
        report.text()
    assert h.coach.open_session(alice()) is None


@pytest.mark.asyncio
async def test_a_long_report_is_split_over_embeds_and_nothing_is_cut() -> None:
    text = "Interview report\n\n" + "\n".join(f"  ✓ point {i} — you said: \"{'x' * 120}\"" for i in range(80))
    messages = render(Reply(ReplyKind.REPORT, text, (Action.START,), data={"mode": "interviewer"}))
    assert len(messages) > 2 and all(m.embed is not None for m in messages)
    embeds = [must(m.embed) for m in messages]
    assert all(len(e.description or "") <= DESCRIPTION_LIMIT for e in embeds)
    shown = "\n".join(f"{e.title}\n{e.description}" for e in embeds)
    assert all(f"point {i} —" in shown for i in range(80))
    assert messages[-1].actions == (Action.START,) and not messages[0].actions


@pytest.mark.asyncio
async def test_the_server_default_deck_needs_manage_server_and_a_member_picks_their_own(h2: Harness) -> None:
    shown = await command(h2, "deck")
    assert "Decks installed:" in private_text(shown) and "• databases" in private_text(shown)
    refused = await command(h2, "deck", user=BOB, name="databases", scope="server")
    assert "Only someone who can manage this server can change its default deck." in private_text(refused)
    assert h2.coach.store.space_deck("discord", str(GUILD_ID)) is None
    done = await command(h2, "deck", manage=True, name="databases", scope="server")
    assert "This server's default deck is now 'databases'." in private_text(done)
    calls = await command(h2, "start", user=BOB, count=3)
    bob = must(h2.coach.open_session(BOB_REF))
    assert all(q.startswith("db-") for q in bob.question_ids) and question_of(calls)
    mine = await command(h2, "deck", user=BOB, name="mini")
    assert "Your interviews and daily questions now come from the deck 'mini'." in private_text(mine)
    await command(h2, "start", user=BOB, count=3)
    assert set(must(h2.coach.open_session(BOB_REF)).question_ids) == {"dropout", "momentum", "pooling"}
    wrong = await command(h2, "deck", user=BOB, name="kubernetes")
    assert "There is no deck 'kubernetes'. Decks: databases, mini." in private_text(wrong)
    # Topics and their suggestions follow the deck.
    topics = await command(h2, "topics", user=BOB)
    assert "regularization" in private_text(topics) and "indexing" not in private_text(topics)


@pytest.mark.asyncio
async def test_deck_names_are_suggested(h2: Harness) -> None:
    assert [c.value for c in h2.bot.deck_choices("")] == ["databases", "mini", "default", "all"]
    assert [c.value for c in h2.bot.deck_choices("dat")] == ["databases"]



@pytest.mark.asyncio
async def test_an_interview_goes_on_after_the_bot_restarts(h: Harness, store: SqlStore, llm: FakeLLM) -> None:
    _, question, thread = await started(h, topic="cnn", count=1, mode="interviewer")
    opened = await h.press(question, "answer", channel=thread)
    answered = await h.submit(h.fake.callbacks(opened)[0], "Pooling reduces the spatial size of feature maps.",
                              channel=thread)
    probe = question_of(answered)
    await h.bot.client.close()
    h.bot.shutdown()
    bot = new_bot(make_coach(store, llm), h.fake)   # a new process on the same database
    await bot.client._async_setup_hook()
    again = Harness(bot, h.fake)
    try:
        skipped = await again.press(probe, "skip", channel=thread)   # a button posted before the restart
        assert any("Follow-up skipped." in c.text() for c in h.fake.sends(skipped))
        assert any("Interview report" in c.text() for c in h.fake.sends(skipped))
    finally:
        await bot.client.close()
        bot.shutdown()
