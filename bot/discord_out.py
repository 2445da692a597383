"""Where Discord messages go: an interaction's followups while its token lives, else the channel with the bot token;
and the critique streamed into one message as the model writes it."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from contextlib import suppress
from typing import Any, Protocol

import discord

from bot.discord_render import NO_MENTIONS, Outgoing, defuse, preview, send_fields, split_message

# Discord accepts followups for 15 minutes after an interaction; past 14, messages go through the channel instead.
TOKEN_LIFETIME = 14 * 60.0
log = logging.getLogger(__name__)

# A sent message that can be edited: a channel message, or an interaction followup (edited through its token).
Editable = discord.Message | discord.WebhookMessage


class Outbox(Protocol):
    """Somewhere to send messages, and a way to edit what was sent there."""

    async def send(self, message: Outgoing, view: discord.ui.View | None = None) -> Editable: ...

    async def edit(self, sent: Editable, **fields: Any) -> None: ...


def _token_expired(error: discord.HTTPException) -> bool:
    """Whether Discord refused an interaction's webhook because its token expired (401 / Unknown Webhook)."""
    return error.status == 401 or getattr(error, "code", 0) in (10015, 50027)


class InteractionOutbox:
    """Followups of a deferred interaction while its token lives; then, and when Discord says the token expired,
    plain messages in the interaction's channel (the bot token never expires), so late results still arrive."""

    def __init__(self, interaction: discord.Interaction, *, ephemeral: bool = False,
                 lifetime: float = TOKEN_LIFETIME) -> None:
        self.interaction = interaction
        self.ephemeral = ephemeral
        self.placeholder = True   # the "thinking…" message, which the first followup replaces
        self.deadline = time.monotonic() + lifetime
        self.late = False
        channel = interaction.channel
        self.channel: Any = channel if isinstance(channel, discord.abc.Messageable) else \
            interaction.client.get_partial_messageable(interaction.channel_id or 0)

    def _fresh(self) -> bool:
        return not self.late and time.monotonic() < self.deadline

    async def send(self, message: Outgoing, view: discord.ui.View | None = None) -> Editable:
        """One followup, or a channel message once the token is gone (a private one is then shown in the channel:
        that is the user's own interview thread or DM)."""
        if self._fresh():
            try:
                return await self._followup(message, view)
            except discord.HTTPException as exc:
                if not _token_expired(exc):
                    raise
                log.info("Interaction %s expired; sending through the channel", self.interaction.id)
                self.late = True
        return await self.channel.send(**send_fields(message, view))

    async def _followup(self, message: Outgoing, view: discord.ui.View | None) -> Editable:
        private = self.ephemeral or message.ephemeral
        if private and not self.ephemeral and self.placeholder:
            # The first followup takes over the public "thinking…" message and its visibility: remove it first,
            # so that this message is private.
            await self._drop_placeholder()
        self.placeholder = False
        return await self.interaction.followup.send(wait=True, ephemeral=private, **send_fields(message, view))

    async def edit(self, sent: Editable, **fields: Any) -> None:
        """Edit a message sent here: through the token while it lives, else with the bot token in the channel."""
        if isinstance(sent, discord.WebhookMessage) and self._fresh():
            try:
                await sent.edit(**fields)
                return
            except discord.HTTPException as exc:
                if not _token_expired(exc):
                    raise
                self.late = True
        await self.channel.get_partial_message(sent.id).edit(**fields)

    async def close(self) -> None:
        """Remove the "thinking…" message if nothing replaced it."""
        if self.placeholder and self._fresh():
            await self._drop_placeholder()

    async def _drop_placeholder(self) -> None:
        self.placeholder = False
        with suppress(discord.HTTPException):
            await self.interaction.delete_original_response()


class ChannelOutbox:
    """Plain messages in a channel: the interview thread, or the DM where a plain message was answered."""

    def __init__(self, channel: discord.abc.Messageable) -> None:
        self.channel = channel

    async def send(self, message: Outgoing, view: discord.ui.View | None = None) -> Editable:
        """Send one message."""
        return await self.channel.send(**send_fields(message, view))

    async def edit(self, sent: Editable, **fields: Any) -> None:
        """Edit a message sent here."""
        await sent.edit(**fields)


class CritiqueStream:
    """The critique as the model writes it: one message, edited at most once per interval, then the full text."""

    def __init__(self, out: Outbox, interval: float) -> None:
        self.out = out
        self.interval = interval
        self.raw = ""
        self.message: Editable | None = None
        self._last = -math.inf
        self._dirty = asyncio.Event()
        self._done = False
        self._task: asyncio.Task[None] | None = None

    def feed(self, token: str) -> None:
        """Take one piece of the model's output (on the loop)."""
        self.raw += token
        self._dirty.set()
        if self._task is None and not self._done:
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self._done:
            await self._dirty.wait()
            await self._pace()
            if self._done:
                return
            self._dirty.clear()
            shown = preview(self.raw)
            if shown:  # nothing readable yet (the JSON's opening): wait for words
                await self._show(shown)

    async def _pace(self) -> None:
        """Wait until an interval has passed since the last send or edit."""
        await asyncio.sleep(max(0.0, self._last + self.interval - time.monotonic()))

    async def _show(self, content: str) -> None:
        try:
            if self.message is None:
                self.message = await self.out.send(Outgoing(content=content))
            else:
                await self.out.edit(self.message, content=content, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("Could not update the streamed critique (the final text follows): %s", exc)
        self._last = time.monotonic()

    async def finish(self, text: str) -> None:
        """Replace the preview with the full critique, split over several messages when it is long."""
        await self.close()
        chunks = split_message(defuse(text)) or ["…"]
        if self.message is None:
            for chunk in chunks:
                await self.out.send(Outgoing(content=chunk))
            return
        await self._pace()
        await self.out.edit(self.message, content=chunks[0], allowed_mentions=NO_MENTIONS)
        for chunk in chunks[1:]:
            await self.out.send(Outgoing(content=chunk))

    async def close(self) -> None:
        """Stop editing (the engine is done, or failed)."""
        self._done = True
        self._dirty.set()
        if self._task is not None:
            await self._task
