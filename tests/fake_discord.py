"""Discord for tests: the HTTP API replaced by a recorder that answers like Discord, and gateway payloads as Discord
sends them (the bot under test is in tests/discord_harness.py)."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import discord

if TYPE_CHECKING:
    import aiohttp

APP_ID = 700000000000000001
BOT_ID = 700000000000000002
GUILD_ID = 700000000000000003
CHANNEL_ID = 700000000000000004
ALICE = 700000000000000010
BOB = 700000000000000011
EPHEMERAL = 64
PERMISSIONS = (discord.Permissions(send_messages=True, send_messages_in_threads=True, create_public_threads=True,
                                   create_private_threads=True, embed_links=True, attach_files=True,
                                   read_message_history=True).value)


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
    payload: Any   # the JSON body as sent: an object, a list (the command sync) or None
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
        self.forbid_public_threads = False
        self.forbid_thread_members = False     # adding the user to a new thread fails
        self.forbid_dms = False
        self.forbid_sync = False               # registering the commands is refused
        self.token_lifetime: float | None = None   # interaction tokens older than this are refused (401)
        self.issued: dict[str, float] = {}     # interaction token -> when the interaction came
        self.hold_dms: asyncio.Event | None = None   # DMs wait for this before Discord takes them
        self.on_send: Callable[[Call], None] | None = None
        self.cdn: dict[str, bytes] = {}         # attachment url -> its bytes (what Discord's CDN serves)
        self.downloads: list[str] = []          # attachment urls the bot downloaded, in order

    # ------------------------------------------------------------------ the two transports of discord.py

    async def webhook_request(self, route: Any, session: Any = None, *, payload: dict[str, Any] | None = None,
                              multipart: list[dict[str, Any]] | None = None, files: Any = None,
                              **_: Any) -> Any:
        """Interaction callbacks, followups and their edits; refused with 401 once the token expired."""
        token = route.url.split("/webhooks/", 1)[1].split("/")[1] if "/webhooks/" in route.url else None
        issued = self.issued.get(token or "")
        if self.token_lifetime is not None and issued is not None and time.monotonic() - issued > self.token_lifetime:
            self.calls.append(Call(route.method, route.url.split("/api/v10", 1)[1], payload, [], response="401"))
            raise discord.HTTPException(_response(401), {"code": 50027, "message": "Invalid Webhook Token"})
        return self._answer(route, payload, multipart, files)

    async def http_request(self, route: Any, *, files: Any = None, form: Any = None, **kwargs: Any) -> Any:
        """Everything sent with the bot token: threads, channel messages, DMs, command sync."""
        parts = route.url.split("/api/v10", 1)[1].strip("/").split("/")
        if self.hold_dms is not None and route.method == "POST" and parts[0] == "channels" \
                and int(parts[1]) in self._dm_ids():
            await self.hold_dms.wait()
        return self._answer(route, kwargs.get("json"), form, files)

    async def get_from_cdn(self, url: str) -> bytes:
        """An attachment's bytes, as Discord's CDN serves them (404 once gone)."""
        self.downloads.append(url)
        if url not in self.cdn:
            raise discord.NotFound(_response(404), {"code": 0, "message": "asset not found"})
        return self.cdn[url]

    def attachment(self, data: bytes, filename: str, content_type: str | None, *, size: int | None = None,
                   voice_seconds: float | None = None) -> dict[str, Any]:
        """An attachment object put on the CDN; `voice_seconds` makes it a voice message's recording."""
        attachment_id = next(self.ids)
        url = f"https://cdn.discordapp.com/attachments/{CHANNEL_ID}/{attachment_id}/{filename}"
        self.cdn[url] = data
        payload: dict[str, Any] = {"id": str(attachment_id), "filename": filename,
                                   "size": len(data) if size is None else size, "url": url, "proxy_url": url}
        if content_type:
            payload["content_type"] = content_type
        if voice_seconds is not None:
            payload.update(duration_secs=voice_seconds, waveform="AAAA", flags=0)
        return payload

    def _answer(self, route: Any, payload: Any, form: Any, files: Any) -> Any:
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
            if (self.forbid_private_threads if payload.get("type") == 12 else self.forbid_public_threads):
                raise discord.Forbidden(_response(403), {"code": 50001, "message": "Missing Access"})
            thread_id = next(self.ids)
            return {"id": str(thread_id), "guild_id": str(GUILD_ID), "parent_id": parts[1], "owner_id": str(BOT_ID),
                    "name": payload["name"], "type": payload["type"], "last_message_id": None,
                    "rate_limit_per_user": 0, "message_count": 0, "member_count": 1, "flags": 0,
                    "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False,
                                        "archive_timestamp": "2025-03-03T10:00:00+00:00", "invitable": False}}
        if parts[0] == "channels" and "thread-members" in parts:
            if self.forbid_thread_members:
                raise discord.Forbidden(_response(403), {"code": 50001, "message": "Missing Access"})
            return None
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            if self.forbid_dms and int(parts[1]) in self._dm_ids():
                raise discord.Forbidden(_response(403), {"code": 50007, "message": "Cannot send messages"})
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
            if self.forbid_sync:
                raise discord.Forbidden(_response(403), {"code": 50001, "message": "Missing Access"})
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


def _response(status: int) -> aiohttp.ClientResponse:
    """A `_Response`, typed as what discord.HTTPException reads it as (only its status and reason)."""
    return cast("aiohttp.ClientResponse", _Response(status))


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
            payload["member"] = {"user": user_payload(user, name_of(user)), "roles": [], "flags": 0, "deaf": False,
                                 "mute": False, "joined_at": "2024-01-01T00:00:00+00:00", "permissions": "0"}
        else:
            payload["user"] = user_payload(user, name_of(user))
        return payload


def name_of(user: int) -> str:
    """The test user's name."""
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
    return {"id": str(user + 1), "type": 1, "recipients": [user_payload(user, name_of(user))]}
