"""Discord, through the recorded transport: flags (button, form, command), the review queue for Manage Server
only, export and forget for the user alone; nobody reads another person's answer, score or export."""

from __future__ import annotations

import csv
import io
from typing import Any

import discord
import pytest
import pytest_asyncio

from bot.core.access import Access
from bot.core.replies import Action, Request, UserRef
from tests.discord_harness import GOOD_ANSWER, Harness, new_bot, question_of, started
from tests.fake_discord import ALICE, BOB, Call, dm_channel, text_channel

pytestmark = pytest.mark.asyncio
MANAGE = str(discord.Permissions(manage_guild=True).value)


@pytest_asyncio.fixture()
async def hk(fake: Any, store: Any, llm: Any, knowledge: Any) -> Any:
    """The bot whose coach writes reviewers' fixes to a copy of the test deck."""
    from bot.core.bank import load_bank
    from bot.core.testing import fake_coach
    from tests.discord_harness import NOW

    coach = fake_coach(load_bank(knowledge), store, llm=llm, clock=lambda: NOW, access=Access(knowledge_dir=knowledge))
    bot = new_bot(coach, fake)
    await bot.client._async_setup_hook()
    yield Harness(bot, fake)
    await bot.client.close()
    bot.shutdown()


def private(calls: list[Call]) -> list[str]:
    return [c.text() for c in calls if c.flags & 64 or (c.payload or {}).get("data", {}).get("flags") == 64]


async def as_manager(h: Harness, name: str, **options: Any) -> list[Call]:
    """/interview <name> by Bob, who has Manage Server."""
    types = {str: 3, int: 4}
    data = {"id": "1", "name": "interview", "type": 1, "options": [
        {"type": 1, "name": name, "options": [{"type": types[type(v)], "name": k, "value": v}
                                             for k, v in options.items()]}]}
    payload = h.users.base(2, data, BOB, text_channel())
    payload["member"]["permissions"] = MANAGE
    return await h.run(payload)


async def press_as(h: Harness, message: Call, custom_id: str, user: int, manage: bool = False) -> list[Call]:
    payload = h.users.base(3, {"custom_id": custom_id, "component_type": 2}, user, text_channel())
    payload["message"] = h.fake.messages[h.message_id(message)]
    if manage:
        payload["member"]["permissions"] = MANAGE
    return await h.run(payload)


async def submit_form(h: Harness, custom_id: str, values: dict[str, str], user: int, manage: bool = False,
                      channel: dict[str, Any] | None = None) -> list[Call]:
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
    payload = h.users.base(5, {"custom_id": custom_id, "components": rows}, user, channel or text_channel())
    if manage:
        payload["member"]["permissions"] = MANAGE
    return await h.run(payload)


def modal_of(calls: list[Call]) -> dict[str, Any]:
    [opened] = [c for c in h_callbacks(calls) if (c.payload or {}).get("type") == 9]
    return opened.payload["data"]  # type: ignore[index]


def h_callbacks(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.path.startswith("/interactions")]


async def test_flag_button_opens_a_form_and_the_question_leaves_the_schedule(hk: Harness) -> None:
    _, question, thread = await started(hk, count=2)
    flag = next(c for c in question.custom_ids if c.split(":")[1] == "flag")
    # Bob cannot flag through Alice's button.
    refused = await press_as(hk, question, flag, BOB)
    assert "someone else's interview" in " ".join(c.content for c in refused)
    form = modal_of(await hk.press(question, "flag", channel=thread))
    assert form["custom_id"].startswith(f"coach:flagform:{ALICE}:")
    calls = await submit_form(hk, form["custom_id"], {"reason": "The reference answer is outdated"}, ALICE,
                              channel=thread)
    texts = " ".join(c.text() for c in hk.fake.sends(calls))
    assert "flagged for review" in texts and "Question 2 of 2" in texts
    [flag_record] = hk.coach.store.flags()
    assert flag_record.reason == "The reference answer is outdated"
    user = UserRef("discord", str(ALICE))
    assert hk.coach.store.held_questions(user) == {flag_record.question_id}
    ids = hk.coach.scheduler.pick_session_questions(user, 10)
    assert flag_record.question_id not in ids


async def test_review_is_for_manage_server_and_fixes_go_to_the_override_file(hk: Harness, knowledge: Any) -> None:
    await started(hk, count=1)
    calls = await hk.command("flag", reason="Key points miss the inference scaling")
    assert any("flagged for review" in t for t in private(calls))
    # Alice lacks Manage Server: the queue and its buttons are refused.
    refused = await hk.command("review")
    assert any("Only reviewers" in t for t in private(refused))
    calls = await as_manager(hk, "review")
    [queue] = [c for c in hk.fake.sends(calls) if c.custom_ids]
    assert "1 flagged question" in queue.text() and queue.custom_ids == ["coach-review:fix:1", "coach-review:dismiss:1"]
    refused = await press_as(hk, queue, "coach-review:dismiss:1", ALICE)
    assert any("Only reviewers" in t for t in private(refused))
    form = modal_of(await press_as(hk, queue, "coach-review:fix:1", BOB, manage=True))
    assert [row["components"][0]["custom_id"] for row in form["components"]] == ["question", "answer", "key_points"]
    flagged = hk.coach.store.flags()[0].question_id
    entry = hk.coach.bank.get(flagged)
    calls = await submit_form(hk, form["custom_id"], {"question": entry.question, "answer": entry.answer,
                                                      "key_points": "One fixed\nTwo fixed\nThree fixed"}, BOB, True)
    assert any("Fixed" in t for t in private(calls))
    assert hk.coach.bank.get(flagged).key_points == ("One fixed", "Two fixed", "Three fixed")
    assert "Three fixed" in (knowledge / f"{entry.deck}.overrides.yaml").read_text()
    assert "Three fixed" not in (knowledge / "mini.yaml").read_text()   # the deck itself is never rewritten
    again = await press_as(hk, queue, "coach-review:dismiss:1", BOB, manage=True)
    assert any("is not open" in t for t in private(again))


async def test_export_is_private_and_only_the_askers_data(hk: Harness) -> None:
    calls = await hk.command("export", format="csv", user=BOB)
    assert any("no answers to export" in t for t in private(calls))
    list(hk.coach.act(Request(UserRef("discord", str(ALICE)), Action.START, count=1)))
    list(hk.coach.act(Request(UserRef("discord", str(ALICE)), Action.ANSWER, text=GOOD_ANSWER)))
    calls = await hk.command("export", format="csv")
    [sent] = [c for c in hk.fake.sends(calls) if c.files]
    assert sent.flags & 64                                   # only Alice sees it
    name, content = sent.files[0]
    assert name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert [r["answer"] for r in rows] == [GOOD_ANSWER]
    calls = await hk.command("export", format="anki")
    [deck] = [c for c in hk.fake.sends(calls) if c.files]
    assert deck.files[0][0].endswith(".apkg") and deck.files[0][1][:2] == b"PK"
    # Bob still has nothing: the command names no user, so he can only ever get his own.
    calls = await hk.command("export", format="jsonl", user=BOB)
    assert not [c for c in hk.fake.sends(calls) if c.files]


async def test_forget_asks_first_and_only_the_owner_can_confirm(hk: Harness) -> None:
    alice = UserRef("discord", str(ALICE))
    list(hk.coach.act(Request(alice, Action.START, count=1)))
    list(hk.coach.act(Request(alice, Action.ANSWER, text=GOOD_ANSWER)))
    calls = await hk.command("forget")
    ask = question_of(hk.fake.sends(calls))
    assert "cannot be undone" in ask.text() and ask.flags & 64
    assert hk.coach.store.attempts(alice)                     # nothing deleted before the confirmation
    refused = await press_as(hk, ask, ask.custom_ids[0], BOB)
    assert "someone else's" in " ".join(c.content for c in refused) and hk.coach.store.attempts(alice)
    calls = await hk.press(ask, "forget", channel=dm_channel(ALICE))
    assert any("Deleted" in t for t in private(calls))
    assert hk.coach.store.attempts(alice) == [] and hk.coach.store.get_user(alice) is None
