"""The Discord adapter under test: a real discord.Client (never connected) on the recorder of tests/fake_discord.py,
with the real Coach on fast parts, and the steps a test takes through it."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.bank import load_bank
from bot.core.coach import Coach
from bot.core.replies import Action, Request, UserRef
from bot.core.store.sql import SqlStore
from bot.core.testing import TEST_NOW, FakeLLM, fake_coach
from bot.discord_coach import DiscordCoach
from tests.fake_discord import (
    ALICE,
    APP_ID,
    BOB,
    BOT_ID,
    CHANNEL_ID,
    Call,
    FakeDiscord,
    Users,
    dm_channel,
    name_of,
    text_channel,
    thread_channel,
    user_payload,
)

if TYPE_CHECKING:
    from discord.types.interactions import Interaction as InteractionPayload
    from discord.types.user import User as UserPayload

TEST_DECKS = Path(__file__).resolve().parent / "data" / "decks"
NOW = TEST_NOW
GOOD_ANSWER = ("Dropout randomly turns off a fraction of neurons during each training step. Neurons cannot rely on "
               "specific other neurons, so features become robust. It is only applied during training, not at "
               "inference, and it reduces overfitting like an ensemble of thinned networks.")
CRITIQUE = {"strengths": ["You named the mechanism and when it applies."],
            "improvements": ["Say why an ensemble of thinned networks generalises better."],
            "follow_up": "Why are activations rescaled when dropout is used?"}


class Harness:
    """The adapter on a real discord.Client (never connected) and a real Coach with fast parts."""

    def __init__(self, bot: DiscordCoach, fake: FakeDiscord) -> None:
        self.bot = bot
        self.fake = fake
        self.users = Users()
        self.coach = bot.coach

    def dispatch(self, payload: dict[str, Any]) -> float:
        """Hand a payload to discord.py as the gateway would; returns the dispatch time."""
        self.fake.channels[payload["token"]] = int(payload["channel_id"])
        started = time.monotonic()
        self.fake.issued[payload["token"]] = started
        self.bot.client._connection.parse_interaction_create(cast("InteractionPayload", payload))
        return started

    async def settle(self, user: int | None = None, timeout: float = 10.0) -> None:
        """Wait until the user's requests (everyone's by default) are answered and discord.py's tasks are done."""
        deadline = time.monotonic() + timeout
        quiet_since, seen = time.monotonic(), len(self.fake.calls)
        while time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            busy = self.coach.gate.reserved(None if user is None else UserRef("discord", str(user)))
            if len(self.fake.calls) != seen:
                quiet_since, seen = time.monotonic(), len(self.fake.calls)
            elif not busy and time.monotonic() - quiet_since > 0.05:
                return
        raise AssertionError("the bot did not settle")

    async def command(self, name: str, user: int = ALICE, channel: dict[str, Any] | None = None,
                      **options: Any) -> list[Call]:
        """Run /interview <name> [options] and return the requests it made."""
        types = {str: 3, int: 4}
        data = {"id": str(APP_ID + 99), "name": "interview", "type": 1, "options": [
            {"type": 1, "name": name, "options": [{"type": types[type(v)], "name": k, "value": v}
                                                 for k, v in options.items()]}]}
        return await self.run(self.users.base(2, data, user, channel or text_channel()))

    async def press(self, message: Call, action: str, user: int = ALICE, channel: dict[str, Any] | None = None,
                    ) -> list[Call]:
        """Press one of a sent message's buttons."""
        custom_id = next(c for c in message.custom_ids if c.split(":")[1] == action)
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self.users.base(3, data, user, channel or self.channel_of(message))
        payload["message"] = self.fake.messages[self.message_id(message)]
        return await self.run(payload)

    async def submit(self, opened: Call, text: str, user: int = ALICE, channel: dict[str, Any] | None = None,
                     ) -> list[Call]:
        """Submit the modal that a callback opened."""
        modal = opened.payload["data"]  # type: ignore[index]
        field_id = modal["components"][0]["components"][0]["custom_id"]
        data = {"custom_id": modal["custom_id"],
                "components": [{"type": 1, "components": [{"type": 4, "custom_id": field_id, "value": text}]}]}
        return await self.run(self.users.base(5, data, user, channel or text_channel()))

    async def run(self, payload: dict[str, Any]) -> list[Call]:
        """Dispatch and wait until the bot is done; the requests made meanwhile."""
        mark = len(self.fake.calls)
        self.dispatch(payload)
        await self.settle(int((payload.get("member") or payload)["user"]["id"]))
        return self.fake.since(mark)

    def message_id(self, call: Call) -> int:
        """The id Discord gave the message a call created."""
        return int(call.response["id"])

    def channel_of(self, call: Call) -> dict[str, Any]:
        """The channel payload of the channel a message went to."""
        channel_id = int(call.response["channel_id"])
        if channel_id == CHANNEL_ID:
            return text_channel()
        if channel_id in (ALICE + 1, BOB + 1):
            return dm_channel(channel_id - 1)
        return thread_channel(channel_id)


def make_coach(store: SqlStore, llm: FakeLLM | None, clock: Callable[[], datetime] = lambda: NOW) -> Coach:
    """The real Coach with fast parts: the mini deck, a hashing embedder, a scripted LLM, SQLite in memory."""
    return fake_coach(load_bank(TEST_DECKS), store, llm=llm, clock=clock)


def new_bot(coach: Coach, fake: FakeDiscord, *, message_content: bool = False, **options: Any) -> DiscordCoach:
    """The adapter on a fresh client wired to the fake transport."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    client = discord.Client(intents=intents, application_id=APP_ID,
                            allowed_mentions=discord.AllowedMentions.none())
    client.http.request = fake.http_request  # type: ignore[method-assign]
    client.http.get_from_cdn = fake.get_from_cdn  # type: ignore[method-assign]
    client._connection.user = discord.ClientUser(state=client._connection,
                                                 data=cast("UserPayload", user_payload(BOT_ID, "coach")))
    return DiscordCoach(coach, client, **({"edit_interval": 0.05} | options))


def question_of(calls: list[Call]) -> Call:
    """The last message with the session's buttons."""
    return [c for c in calls if c.custom_ids][-1]


def alice() -> UserRef:
    """Alice in the engine."""
    return UserRef("discord", str(ALICE))


def session_of(h: Harness, user: UserRef | None = None) -> Any:
    """The user's (Alice's) open session."""
    return h.coach.open_session(user or alice())


def button(message: Call, action: str) -> str:
    """The custom id of one of a sent message's buttons."""
    return next(c for c in message.custom_ids if c.split(":")[1] == action)


def daily_on(coach: Coach, user: UserRef | None = None) -> None:
    """Daily questions at 09:00 UTC."""
    list(coach.act(Request(user or alice(), Action.DAILY, daily=True, time="09:00", zone="UTC")))


async def started(h: Harness, **options: Any) -> tuple[list[Call], Call, dict[str, Any]]:
    """Alice starts an interview; the calls, the first question, and her thread's channel payload."""
    calls = await h.command("start", **options)
    question = question_of(calls)
    return calls, question, h.channel_of(question)


class SlowCoach:
    """Makes a Coach slow: hint and answer wait (up to 10 s) until the test releases them."""

    def __init__(self, coach: Any) -> None:
        self.release = threading.Event()
        act = coach.act

        def slow_act(request: Request, **kwargs: Any) -> Any:
            if request.action in (Action.HINT, Action.ANSWER):
                self.release.wait(10)
            yield from act(request, **kwargs)

        coach.act = slow_act


async def until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        await asyncio.sleep(0.005)
    raise AssertionError("timed out")


def user_message(h: Harness, channel: dict[str, Any], text: str, user: int = ALICE,
                 attachments: list[dict[str, Any]] | None = None) -> discord.Message:
    """A user's message in a channel (with attachments: a voice message when one has a duration), as the gateway
    hands it to on_message."""
    state = h.bot.client._connection
    place = discord.Interaction(data=cast("InteractionPayload",
                                          h.users.base(2, {"id": "1", "name": "x", "type": 1}, user, channel)),
                                state=state).channel
    data = {"id": str(next(h.users.ids)), "channel_id": channel["id"], "author": user_payload(user, name_of(user)),
            "content": text, "type": 0, "embeds": [], "attachments": attachments or [], "mentions": [],
            "mention_roles": [], "mention_everyone": False, "pinned": False, "tts": False, "edited_timestamp": None,
            "flags": 8192 if any("duration_secs" in a for a in attachments or []) else 0,
            "timestamp": "2025-03-03T10:00:00+00:00", "components": []}
    return discord.Message(state=state, channel=place, data=data)  # type: ignore[arg-type]


async def say(h: Harness, channel: dict[str, Any], text: str,
              attachments: list[dict[str, Any]] | None = None) -> list[Call]:
    mark = len(h.fake.calls)
    h.bot.client.dispatch("message", user_message(h, channel, text, attachments=attachments))
    await asyncio.sleep(0.05)
    await h.settle(ALICE)
    return h.fake.since(mark)


class PacedLLM(FakeLLM):
    """The scripted model, writing one word every `delay` seconds like a real one."""

    def __init__(self, delay: float) -> None:
        super().__init__(respond=lambda prompt: json.dumps(CRITIQUE))
        self.delay = delay

    def generate(self, prompt: Any, **kwargs: Any) -> str:
        """The critique, streamed slowly."""
        on_token = kwargs.pop("on_token", None)

        def paced(piece: str) -> None:
            time.sleep(self.delay)
            on_token(piece)

        return super().generate(prompt, on_token=paced if on_token else None, **kwargs)
