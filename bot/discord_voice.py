"""Discord attachments as the coach's uploads: a voice message or an audio file in the interview's place is an answer.

The adapter only describes each attachment (name, type, size and, for a voice message, its length) and how to
download it; the coach decides whether it is a recording, checks its limits before anything is downloaded, shows the
transcript and grades it (bot/core/voice.py). Downloads run on the engine's worker thread, through the bot's own
HTTP session on the event loop.
"""

from __future__ import annotations

import asyncio

import discord

from bot.core.replies import Upload

DOWNLOAD_SECONDS = 60.0   # a 25 MB file from Discord's CDN takes a few seconds; past this the user is told to resend
VOICE_HINT = "Answer in your own words, or close this and send a voice message here."


def downloader(attachment: discord.Attachment, loop: asyncio.AbstractEventLoop) -> Upload:
    """One attachment as an upload whose `read` (called off the loop) downloads it on the loop."""

    def read(limit: int) -> bytes:
        # Discord states the size exactly and the coach checked it before asking: the whole file is read.
        return asyncio.run_coroutine_threadsafe(attachment.read(), loop).result(DOWNLOAD_SECONDS)

    return Upload(read=read, filename=attachment.filename, mime=attachment.content_type, size=attachment.size,
                  seconds=attachment.duration)


def uploads_of(message: discord.Message, loop: asyncio.AbstractEventLoop) -> tuple[Upload, ...]:
    """The message's attachments as uploads (nothing is downloaded here)."""
    return tuple(downloader(attachment, loop) for attachment in message.attachments)
