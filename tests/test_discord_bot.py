"""The Discord adapter end to end: raw gateway payloads into the real command tree and views, the real Coach behind
them, and Discord's HTTP API replaced by a recorder that answers like Discord (no network)."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
import pytest_asyncio
from discord.webhook.async_ import AsyncWebhookAdapter

from bot.core.bank import load_bank
from bot.core.coach import Coach
from bot.core.embedder import HashEmbedder
from bot.core.grading.grader import Grader
from bot.core.replies import UserRef
from bot.core.schedule import Scheduler
from bot.core.store.sql import SqlStore
from bot.core.testing import FakeLLM
from bot.discord_bot import BUSY, FAILED, DiscordCoach
from bot.discord_render import MESSAGE_LIMIT
from bot.discord_views import NOT_YOURS

TEST_DECKS = Path(__file__).resolve().parent / "data" / "decks"
APP_ID = 700000000000000001
BOT_ID = 700000000000000002
GUILD_ID = 700000000000000003
CHANNEL_ID = 700000000000000004
ALICE = 700000000000000010
BOB = 700000000000000011
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
EPHEMERAL = 64
PERMISSIONS = (discord.Permissions(send_messages=True, send_messages_in_threads=True, create_public_threads=True,
                                   create_private_threads=True, embed_links=True, attach_files=True,
                                   read_message_history=True).value)
GOOD_ANSWER = ("Dropout randomly turns off a fraction of neurons during each training step. Neurons cannot rely on "
               "specific other neurons, so features become robust. It is only applied during training, not at "
               "inference, and it reduces overfitting like an ensemble of thinned networks.")
CRITIQUE = {"strengths": ["You named the mechanism and when it applies."],
            "improvements": ["Say why an ensemble of thinned networks generalises better."],
            "follow_up": "Why are activations rescaled when dropout is used?"}


def user_payload(user_id: int, name: str = "alice") -> dict[str, Any]:
    """A Discord user object."""
    return {"id": str(user_id), "username": name, "global_name": name.title(), "discriminator": "0",
            "avatar": None, "bot": user_id == BOT_ID}


# ---------------------------------------------------------------------------------------------- Discord, recorded


@dataclass
class Call:
    """One HTTP request the bot made."""

    method: str
    path: str
    payload: dict[str, Any] | None
    files: list[tuple[str, bytes]]
    at: float = field(default_factory=time.monotonic)
    response: Any = None

    @property
    def content(self) -> str:
        """The message text (of a message, or of an interaction's immediate response), or ''."""
        data = self.payload or {}
        return data.get("content") or (data.get("data") or {}).get("content") or ""

    @property
    def flags(self) -> int:
        """The message flags (64 = ephemeral)."""
        data = self.payload or {}
        return int(data.get("flags") or (data.get("data") or {}).get("flags") or 0)

    @property
    def embeds(self) -> list[dict[str, Any]]:
        """The message's embeds."""
        return (self.payload or {}).get("embeds") or []

    @property
    def custom_ids(self) -> list[str]:
        """Custom ids of the message's buttons."""
        rows = (self.payload or {}).get("components") or []
        return [c["custom_id"] for row in rows for c in row.get("components", []) if "custom_id" in c]

    def text(self) -> str:
        """Everything a user reads in the message: content and embed texts."""
        parts = [self.content]
        for embed in self.embeds:
            author = (embed.get("author") or {}).get("name", "")
            parts += [embed.get("title") or "", embed.get("description") or "", author]
        return "\n".join(p for p in parts if p)


class FakeDiscord:
    """Discord's HTTP API for one test: records every request and answers it as Discord would."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.ids = itertools.count(800000000000000000)
        self.channels: dict[str, int] = {}      # interaction token -> channel id
        self.messages: dict[int, dict[str, Any]] = {}
        self.forbid_private_threads = False
        self.forbid_dms = False
        self.on_send: Callable[[Call], None] | None = None

    # ------------------------------------------------------------------ the two transports of discord.py

    async def webhook_request(self, route: Any, session: Any = None, *, payload: dict[str, Any] | None = None,
                              multipart: list[dict[str, Any]] | None = None, files: Any = None,
                              **_: Any) -> Any:
        """Interaction callbacks, followups and their edits."""
        return self._answer(route, payload, multipart, files)

    async def http_request(self, route: Any, *, files: Any = None, form: Any = None, **kwargs: Any) -> Any:
        """Everything sent with the bot token: threads, channel messages, DMs, command sync."""
        return self._answer(route, kwargs.get("json"), form, files)

    def _answer(self, route: Any, payload: dict[str, Any] | None, form: Any, files: Any) -> Any:
        if form:
            payload = json.loads(next(p["value"] for p in form if p["name"] == "payload_json"))
        uploaded = [(f.filename, _read(f)) for f in files or []]
        call = Call(route.method, route.url.split("/api/v10", 1)[1].split("?")[0], payload, uploaded)
        self.calls.append(call)
        call.response = self._respond(call)
        return call.response

    def _respond(self, call: Call) -> Any:
        parts = call.path.strip("/").split("/")
        method, payload = call.method, call.payload or {}
        if parts[0] == "interactions":
            return {"interaction": {"id": parts[1], "type": 2}}
        if parts[0] == "webhooks":
            token = parts[2]
            if method == "DELETE":
                return None
            if method == "POST":
                return self._message(self.channels.get(token, CHANNEL_ID), payload, flags=call.flags)
            return self._edit(parts[-1], payload, self.channels.get(token, CHANNEL_ID))
        if parts[0] == "channels" and parts[-1] == "threads":
            if payload.get("type") == 12 and self.forbid_private_threads:
                raise discord.Forbidden(_Response(403), {"code": 50001, "message": "Missing Access"})
            thread_id = next(self.ids)
            return {"id": str(thread_id), "guild_id": str(GUILD_ID), "parent_id": parts[1], "owner_id": str(BOT_ID),
                    "name": payload["name"], "type": payload["type"], "last_message_id": None,
                    "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "flags": 0,
                    "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False,
                                        "archive_timestamp": "2025-03-03T10:00:00+00:00", "invitable": False}}
        if parts[0] == "channels" and "thread-members" in parts:
            return None
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            if self.forbid_dms and int(parts[1]) in self._dm_ids():
                raise discord.Forbidden(_Response(403), {"code": 50007, "message": "Cannot send messages"})
            if self.on_send is not None:
                self.on_send(call)
            return self._message(int(parts[1]), payload)
        if parts[0] == "channels" and parts[-1] == "messages" and method == "GET":
            return [m for m in reversed(self.messages.values()) if m["channel_id"] == parts[1]]
        if parts[0] == "channels" and len(parts) == 4 and method == "PATCH":
            return self._edit(parts[3], payload, int(parts[1]))
        if parts[0] == "channels" and len(parts) == 2 and method == "DELETE":
            return {"id": parts[1], "type": 12, "guild_id": str(GUILD_ID), "parent_id": str(CHANNEL_ID)}
        if parts[:2] == ["users", "@me"]:
            user_id = payload["recipient_id"]
            return {"id": str(self._dm_id(int(user_id))), "type": 1, "recipients": [user_payload(int(user_id))]}
        if parts[0] == "users":
            return user_payload(int(parts[1]))
        if parts[0] == "applications":
            return [dict(c, id=str(next(self.ids)), application_id=str(APP_ID), version="1") for c in call.payload]
        raise AssertionError(f"unexpected request {call.method} {call.path}")

    def _dm_id(self, user_id: int) -> int:
        return user_id + 1

    def _dm_ids(self) -> set[int]:
        return {self._dm_id(ALICE), self._dm_id(BOB)}

    def _message(self, channel_id: int, payload: dict[str, Any], flags: int = 0) -> dict[str, Any]:
        message_id = next(self.ids)
        message = {"id": str(message_id), "channel_id": str(channel_id), "type": 0,
                   "author": user_payload(BOT_ID, "coach"), "content": payload.get("content") or "",
                   "embeds": payload.get("embeds") or [],
                   "components": payload.get("components") or [], "attachments": [], "mentions": [],
                   "mention_roles": [], "mention_everyone": False, "pinned": False, "tts": False,
                   "timestamp": "2025-03-03T10:00:00+00:00", "edited_timestamp": None, "flags": flags}
        self.messages[message_id] = message
        return message

    def _edit(self, message_id: str, payload: dict[str, Any], channel_id: int) -> dict[str, Any]:
        message = self.messages.get(int(message_id)) if message_id.isdigit() else None
        if message is None:
            return self._message(channel_id, payload)
        for key in ("content", "embeds", "components"):
            if key in payload:
                message[key] = payload[key]
        return message

    # ------------------------------------------------------------------ what the tests read

    def since(self, mark: int) -> list[Call]:
        """Calls made after a mark (len(calls) taken earlier)."""
        return self.calls[mark:]

    def sends(self, calls: list[Call] | None = None) -> list[Call]:
        """Messages created (followups and channel messages), in order."""
        return [c for c in (self.calls if calls is None else calls)
                if c.method == "POST" and (c.path.startswith("/webhooks") or c.path.endswith("/messages"))]

    def edits(self, calls: list[Call] | None = None) -> list[Call]:
        """Message edits, in order."""
        return [c for c in (self.calls if calls is None else calls) if c.method == "PATCH"]

    def callbacks(self, calls: list[Call] | None = None) -> list[Call]:
        """Interaction responses (defer = type 5, message = 4, modal = 9)."""
        return [c for c in (self.calls if calls is None else calls) if c.path.startswith("/interactions")]


class _Response:
    """Enough of an aiohttp response for discord.HTTPException."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "Forbidden"


def _read(file: discord.File) -> bytes:
    file.reset()
    return file.fp.read()


# ---------------------------------------------------------------------------------------------- raw interactions


class Users:
    """Builds gateway INTERACTION_CREATE payloads as Discord sends them."""

    def __init__(self) -> None:
        self.ids = itertools.count(900000000000000000)

    def base(self, kind: int, data: dict[str, Any], user: int, channel: dict[str, Any]) -> dict[str, Any]:
        """The fields common to every interaction."""
        interaction_id = next(self.ids)
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(APP_ID), "type": kind, "token": f"tok{interaction_id}",
            "version": 1, "data": data, "channel": channel, "channel_id": channel["id"], "locale": "en-US",
            "app_permissions": str(PERMISSIONS), "attachment_size_limit": 8_000_000, "entitlements": []}
        if "guild_id" in channel:
            payload["guild_id"] = channel["guild_id"]
            payload["member"] = {"user": user_payload(user, _name(user)), "roles": [], "flags": 0, "deaf": False,
                                 "mute": False, "joined_at": "2024-01-01T00:00:00+00:00", "permissions": "0"}
        else:
            payload["user"] = user_payload(user, _name(user))
        return payload


def _name(user: int) -> str:
    return {ALICE: "alice", BOB: "bob"}.get(user, "someone")


def text_channel() -> dict[str, Any]:
    """The server channel where commands are run."""
    return {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID), "name": "practice", "position": 0,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "rate_limit_per_user": 0}


def thread_channel(thread_id: int) -> dict[str, Any]:
    """A thread the bot opened."""
    return {"id": str(thread_id), "type": 12, "guild_id": str(GUILD_ID), "parent_id": str(CHANNEL_ID),
            "owner_id": str(BOT_ID), "name": "Interview", "message_count": 1, "member_count": 2,
            "rate_limit_per_user": 0, "last_message_id": None, "flags": 0,
            "thread_metadata": {"archived": False, "locked": False, "auto_archive_duration": 1440,
                                "archive_timestamp": "2025-03-03T10:00:00+00:00"}}


def dm_channel(user: int) -> dict[str, Any]:
    """A DM between the user and the bot."""
    return {"id": str(user + 1), "type": 1, "recipients": [user_payload(user, _name(user))]}


# ---------------------------------------------------------------------------------------------- the bot under test


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
        self.bot.client._connection.parse_interaction_create(payload)
        return started

    async def settle(self, user: int | None = None, timeout: float = 10.0) -> None:
        """Wait until the user's requests (everyone's by default) are answered and discord.py's tasks are done."""
        deadline = time.monotonic() + timeout
        quiet_since, seen = time.monotonic(), len(self.fake.calls)
        while time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            busy = self.bot._inflight if user is None else {f"discord:{user}"} & self.bot._inflight
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
    bank = load_bank(TEST_DECKS)
    grader = Grader(HashEmbedder(), llm=llm, related=lambda entry, k=2: [])
    return Coach(bank, grader, store, Scheduler(store, bank, clock=clock), clock=clock)


def new_bot(coach: Coach, fake: FakeDiscord, *, message_content: bool = False, **options: Any) -> DiscordCoach:
    """The adapter on a fresh client wired to the fake transport."""
    intents = discord.Intents.default()
    intents.message_content = message_content
    client = discord.Client(intents=intents, application_id=APP_ID,
                            allowed_mentions=discord.AllowedMentions.none())
    client.http.request = fake.http_request  # type: ignore[method-assign]
    client._connection.user = discord.ClientUser(state=client._connection, data=user_payload(BOT_ID, "coach"))
    return DiscordCoach(coach, client, **({"edit_interval": 0.05} | options))


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    """The recorder, installed as discord.py's webhook transport (interaction callbacks and followups)."""
    recorder = FakeDiscord()

    async def request(self: AsyncWebhookAdapter, route: Any, session: Any = None, **kwargs: Any) -> Any:
        return await recorder.webhook_request(route, session, **kwargs)

    monkeypatch.setattr(AsyncWebhookAdapter, "request", request)
    return recorder


@pytest.fixture()
def store() -> Iterator[SqlStore]:
    """An in-memory store."""
    sql = SqlStore("sqlite://")
    yield sql
    sql.close()


@pytest.fixture()
def llm() -> FakeLLM:
    """A scripted model: always the same critique."""
    return FakeLLM(respond=lambda prompt: json.dumps(CRITIQUE))


@pytest_asyncio.fixture()
async def h(fake: FakeDiscord, store: SqlStore, llm: FakeLLM) -> AsyncIterator[Harness]:
    """The bot, set up as at start (dynamic items registered, loop attached)."""
    bot = new_bot(make_coach(store, llm), fake)
    await bot.client._async_setup_hook()
    yield Harness(bot, fake)
    await bot.client.close()


# ---------------------------------------------------------------------------------------------- helpers


def question_of(calls: list[Call]) -> Call:
    """The last message with the session's buttons."""
    return [c for c in calls if c.custom_ids][-1]


def alice() -> UserRef:
    """Alice in the engine."""
    return UserRef("discord", str(ALICE))


async def started(h: Harness, **options: Any) -> tuple[list[Call], Call, dict[str, Any]]:
    """Alice starts an interview; the calls, the first question, and her thread's channel payload."""
    calls = await h.command("start", **options)
    question = question_of(calls)
    return calls, question, h.channel_of(question)


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
    assert question.custom_ids == [f"coach:{a}:{ALICE}" for a in ("answer", "hint", "skip", "reveal", "stop")]
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
    assert h.coach.open_session(alice()).channel == str(ALICE + 1)


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


class SlowCoach:
    """Makes a Coach slow: hint and answer wait (up to 10 s) until the test releases them."""

    def __init__(self, coach: Any) -> None:
        self.release = threading.Event()
        hint, answer = coach.hint, coach.answer

        def slow_hint(user: UserRef) -> Any:
            self.release.wait(10)
            return hint(user)

        def slow_answer(user: UserRef, text: str, **kwargs: Any) -> Any:
            self.release.wait(10)
            yield from answer(user, text, **kwargs)

        coach.hint, coach.answer = slow_hint, slow_answer


async def _until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        await asyncio.sleep(0.005)
    raise AssertionError("timed out")


@pytest.mark.asyncio
async def test_a_slow_engine_is_deferred_within_3_seconds_and_blocks_nobody(h: Harness) -> None:
    _, question, thread = await started(h, topic="regularization", count=1)
    slow = SlowCoach(h.coach)
    payload = h.users.base(3, {"custom_id": f"coach:hint:{ALICE}", "component_type": 2}, ALICE, thread)
    payload["message"] = h.fake.messages[h.message_id(question)]
    mark = len(h.fake.calls)
    dispatched = h.dispatch(payload)
    defer = await _until(lambda: h.fake.callbacks(h.fake.since(mark)))
    latency = defer[0].at - dispatched
    assert defer[0].payload == {"type": 5} and latency < 3.0
    print(f"\ndefer latency with a 10 s engine: {latency * 1000:.1f} ms")

    # While Alice's hint is stuck in the engine, Bob is served and Alice's second press is refused privately.
    bob = await h.command("topics", user=BOB)
    assert h.fake.callbacks(bob)[0].payload["type"] == 5 and h.fake.sends(bob)
    again = h.users.base(3, {"custom_id": f"coach:skip:{ALICE}", "component_type": 2}, ALICE, thread)
    again["message"] = payload["message"]
    mark2 = len(h.fake.calls)
    h.dispatch(again)
    busy = await _until(lambda: h.fake.callbacks(h.fake.since(mark2)))
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
    defer = await _until(lambda: h.fake.callbacks(h.fake.since(mark)))
    assert defer[0].at - dispatched < 3.0
    print(f"\ndefer latency of a modal answer with a 10 s engine: {(defer[0].at - dispatched) * 1000:.1f} ms")
    slow.release.set()
    await h.settle()
    assert any(e.embeds and e.embeds[0].get("title", "").startswith("Score") for e in h.fake.since(mark))


@pytest.mark.asyncio
async def test_the_engines_busy_sentence_is_private(h: Harness) -> None:
    _, question, thread = await started(h, count=2)
    lock = h.coach._lock(alice())   # another caller (the daily sender, say) holds Alice's turn
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

    def broken(user: UserRef) -> Any:
        raise RuntimeError("disk on fire")

    h.coach.hint = broken
    with caplog.at_level(logging.ERROR):
        calls = await h.press(question, "hint", channel=thread)
    [error] = h.fake.sends(calls)
    assert error.flags == EPHEMERAL and error.content == FAILED
    assert any(r.exc_info and "disk on fire" in str(r.exc_info[1]) for r in caplog.records)


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
    answer = h.coach.answer

    def long_critique(user: UserRef, text: str, **kwargs: Any) -> Iterator[Reply]:
        for reply in answer(user, text, **kwargs):
            yield Reply(reply.kind, long_text, reply.actions, data=reply.data) if reply.kind is ReplyKind.CRITIQUE \
                else reply

    h.coach.answer = long_critique
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


def _message(h: Harness, channel: dict[str, Any], text: str, user: int = ALICE) -> discord.Message:
    """A user's message in a channel, as the gateway hands it to on_message."""
    state = h.bot.client._connection
    place = discord.Interaction(data=h.users.base(2, {"id": "1", "name": "x", "type": 1}, user, channel),
                                state=state).channel
    data = {"id": str(next(h.users.ids)), "channel_id": channel["id"], "author": user_payload(user, _name(user)),
            "content": text, "type": 0, "embeds": [], "attachments": [], "mentions": [], "mention_roles": [],
            "mention_everyone": False, "pinned": False, "tts": False, "edited_timestamp": None, "flags": 0,
            "timestamp": "2025-03-03T10:00:00+00:00", "components": []}
    return discord.Message(state=state, channel=place, data=data)  # type: ignore[arg-type]


async def _say(h: Harness, channel: dict[str, Any], text: str) -> list[Call]:
    mark = len(h.fake.calls)
    h.bot.client.dispatch("message", _message(h, channel, text))
    await asyncio.sleep(0.05)
    await h.settle(ALICE)
    return h.fake.since(mark)


@pytest.mark.asyncio
async def test_a_plain_message_in_the_thread_is_an_answer_only_with_the_message_content_intent(
        fake: FakeDiscord, store: SqlStore, llm: FakeLLM) -> None:
    for intent in (False, True):
        bot = new_bot(make_coach(store, llm), fake, message_content=intent)
        await bot.client._async_setup_hook()
        h = Harness(bot, fake)
        _, _, thread = await started(h, topic="regularization", count=1)
        calls = await _say(h, thread, GOOD_ANSWER)
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
    assert "off" in off.content and not h.coach.store.get_user(alice()).daily_on


@pytest.mark.asyncio
async def test_the_daily_question_is_claimed_before_it_is_sent_and_sent_once(h: Harness) -> None:
    h.coach.set_daily(alice(), True, time="09:00", tz="UTC")
    claims: list[Any] = []
    h.fake.on_send = lambda call: claims.append(h.coach.store.daily_send(alice(), "2025-03-03"))
    mark = len(h.fake.calls)
    assert await h.bot.daily_tick(NOW) == 1
    assert [c.status for c in claims] == ["claimed"]   # stored before the DM went out
    [dm] = h.fake.sends(h.fake.since(mark))
    assert dm.path == f"/channels/{ALICE + 1}/messages"
    assert dm.embeds[0]["footer"]["text"].startswith("Daily question · 2025-03-03")
    assert dm.custom_ids[0] == f"coach:answer:{ALICE}"
    record = h.coach.store.daily_send(alice(), "2025-03-03")
    assert record.status == "sent" and record.message_ref == str(h.message_id(dm))
    assert await h.bot.daily_tick(NOW) == 0 and len(h.fake.sends(h.fake.since(mark))) == 1   # never twice

    # The user answers in the DM with a plain message: no privileged intent is needed there.
    calls = await _say(h, dm_channel(ALICE), GOOD_ANSWER)
    assert h.fake.sends(calls)[0].embeds[0]["title"].startswith("Score: ")


@pytest.mark.asyncio
async def test_a_restart_between_claim_and_send_sends_the_claimed_question_once(
        fake: FakeDiscord, store: SqlStore, llm: FakeLLM) -> None:
    coach = make_coach(store, llm)
    coach.set_daily(alice(), True, time="09:00", tz="UTC")
    # The process that died: it opened the day's question and claimed the day, then stopped before sending.
    claimed = coach.daily_question(alice(), channel=str(ALICE + 1), now=NOW)
    assert claimed is not None and store.daily_send(alice(), "2025-03-03").status == "claimed"
    bot = new_bot(coach, fake)   # the restarted process
    await bot.client._async_setup_hook()
    assert await bot.daily_tick(NOW) == 1
    [dm] = fake.sends()
    assert claimed.data["question"] in dm.text()
    assert await bot.daily_tick(NOW) == 0 and len(fake.sends()) == 1
    assert store.daily_send(alice(), "2025-03-03").status == "sent"
    await bot.client.close()


@pytest.mark.asyncio
async def test_a_restart_after_the_send_but_before_the_mark_does_not_repeat(
        fake: FakeDiscord, store: SqlStore, llm: FakeLLM) -> None:
    coach = make_coach(store, llm)
    coach.set_daily(alice(), True, time="09:00", tz="UTC")
    assert coach.daily_question(alice(), channel=str(ALICE + 1), now=NOW) is not None   # claimed, then died
    posted = fake._message(ALICE + 1, {"embeds": [{"footer": {"text": "Daily question · 2025-03-03 · answer"}}]})
    bot = new_bot(coach, fake)
    await bot.client._async_setup_hook()
    assert await bot.daily_tick(NOW) == 0 and fake.sends() == []
    assert store.daily_send(alice(), "2025-03-03").message_ref == posted["id"]
    await bot.client.close()


@pytest.mark.asyncio
async def test_a_user_who_refuses_dms_has_daily_questions_turned_off(h: Harness) -> None:
    h.coach.set_daily(alice(), True, time="09:00", tz="UTC")
    h.fake.forbid_dms = True
    assert await h.bot.daily_tick(NOW) == 0
    assert not h.coach.store.get_user(alice()).daily_on


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
