"""Engine replies as Discord messages: the engine call runs off the loop, the critique is streamed as it is written,
and only the newest question of a user keeps its buttons."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from contextlib import aclosing, suppress

import discord

from bot.core.replies import Reply, ReplyKind
from bot.discord_out import CritiqueStream, Editable, Outbox
from bot.discord_render import NO_MENTIONS, render
from bot.discord_views import actions_view
from bot.discord_worker import Work, run_in_worker
from bot.errors import FAILED

log = logging.getLogger(__name__)


class Delivery:
    """Sends one engine call's replies in order, for every interaction and message of the adapter."""

    def __init__(self, edit_interval: float) -> None:
        self.edit_interval = edit_interval
        self._buttons: dict[int, tuple[Outbox, Editable]] = {}   # owner id -> the message whose buttons are live

    async def pump(self, out: Outbox, private: Outbox, owner: int, work: Work, executor: Executor) -> list[Reply]:
        """Run an engine call off the loop; deliver its replies in order, the critique streamed as it is written."""
        stream = CritiqueStream(out, self.edit_interval)
        replies: list[Reply] = []
        try:
            async with aclosing(run_in_worker(work, executor)) as events:
                async for kind, value in events:
                    if kind == "token":
                        stream.feed(value)
                        continue
                    reply = value if kind == "reply" else _failure(value)
                    replies.append(reply)
                    await self._deliver(out, private, owner, reply, stream)
        finally:
            await stream.close()
        return replies

    async def _deliver(self, out: Outbox, private: Outbox, owner: int, reply: Reply, stream: CritiqueStream) -> None:
        """One reply as messages; the buttons move to the newest message that offers them."""
        if reply.kind is ReplyKind.CRITIQUE:
            await stream.finish(reply.text)
            return
        for message in render(reply):
            view = actions_view(message.actions, owner, reply.turn)
            box = private if message.ephemeral else out
            sent = await box.send(message, view)
            if view is not None:
                await self._move_buttons(owner, (box, sent))
        if reply.kind is ReplyKind.REPORT:
            await self._move_buttons(owner, None)

    async def _move_buttons(self, owner: int, live: tuple[Outbox, Editable] | None) -> None:
        """Remove the buttons of the owner's previous question, so only the current one offers them."""
        previous = self._buttons.pop(owner, None)
        if live is not None:
            self._buttons[owner] = live
        if previous is not None and (live is None or previous[1] is not live[1]):
            with suppress(discord.HTTPException):  # gone, or its followup token expired: harmless
                await previous[0].edit(previous[1], view=None, allowed_mentions=NO_MENTIONS)


def _failure(error: BaseException) -> Reply:
    """An adapter failure as one sentence for the user; the full error goes to the log."""
    log.error("Engine call failed", exc_info=error)
    return Reply(ReplyKind.ERROR, FAILED)
