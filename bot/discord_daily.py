"""Daily questions on Discord: the platform's side of the engine's daily dispatcher (`bot.core.daily`).

The dispatcher runs on a thread of its own; this port hands each Discord call to the bot's event loop and waits
for it. A daily question is a DM whose embed footer names its local day, so it can be found again when a sender
died between posting it and marking it sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.core.replies import Reply, UserRef
from bot.discord_render import Outgoing, reply_embed, send_fields
from bot.discord_views import actions_view
from bot.errors import UserUnreachable

if TYPE_CHECKING:
    from bot.discord_coach import DiscordCoach

DAILY_MARK = "Daily question · "
T = TypeVar("T")


class DiscordDaily:
    """The DailyPort of Discord: DMs, posted and searched on the bot's loop."""

    platform = "discord"

    def __init__(self, bot: DiscordCoach, timeout: float = 60.0) -> None:
        self.bot = bot
        self.timeout = timeout

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the bot's loop from the dispatcher's thread (never once the bot is closing)."""
        loop = self.bot.client.loop
        if self.bot.closing or loop.is_closed():
            work.close()
            raise RuntimeError("the Discord client is closing")
        return asyncio.run_coroutine_threadsafe(work, loop).result(self.timeout)

    def place(self, user: UserRef) -> str:
        """The bot's DM with the user."""
        return str(self._call(self.bot.dm(int(user.user_id))).id)

    def send(self, user: UserRef, place: str, reply: Reply, day: str) -> str:
        """DM the question with the day in its footer; UserUnreachable when the user accepts no DMs from the bot."""
        return self._call(self._send(int(user.user_id), reply, day))

    async def _send(self, user_id: int, reply: Reply, day: str) -> str:
        dm = await self.bot.dm(user_id)
        embed = reply_embed(reply)
        embed.set_footer(text=f"{DAILY_MARK}{day} · answer here in your own words, or press Answer")
        try:
            sent = await dm.send(**send_fields(Outgoing(embed=embed), actions_view(reply.actions, user_id, reply.turn)))
        except discord.Forbidden as exc:
            raise UserUnreachable(f"Discord user {user_id} accepts no direct messages from the bot.") from exc
        return str(sent.id)

    def posted(self, user: UserRef, place: str, day: str, since: datetime) -> str | None:
        """The id of the day's question among the DM's latest messages, if a sender that died had posted it."""
        return self._call(self._posted(int(user.user_id), day))

    async def _posted(self, user_id: int, day: str) -> str | None:
        dm = await self.bot.dm(user_id)
        async for message in dm.history(limit=20):
            if message.author == self.bot.client.user and any(
                    (e.footer.text or "").startswith(f"{DAILY_MARK}{day}") for e in message.embeds):
                return str(message.id)
        return None
