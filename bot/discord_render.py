"""Engine replies as Discord messages: text split under Discord's limits, embeds that fit, no mention ever pinged."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import discord

from bot.core.llm.jsonstream import JsonProse
from bot.core.replies import Action, Reply, ReplyKind
from bot.core.text import clip

MESSAGE_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELD_COUNT_LIMIT = 25
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
NO_MENTIONS = discord.AllowedMentions.none()
CHART_NAME = "progress.png"

BLURPLE = discord.Colour.blurple()
EMBED_KINDS = {ReplyKind.QUESTION, ReplyKind.FOLLOW_UP, ReplyKind.SCORE, ReplyKind.REPORT}
REPORT_PART = 3500   # characters of a long report per embed (the description holds 4096; mentions grow when defused)


@dataclass
class Outgoing:
    """One Discord message to send: text or an embed, an optional PNG, the actions to offer as buttons."""

    content: str | None = None
    embed: discord.Embed | None = None
    image: bytes | None = None
    filename: str = CHART_NAME
    actions: tuple[Action, ...] = ()
    ephemeral: bool = False

    def file(self) -> discord.File | None:
        """A fresh File for the image (a File is consumed by the send that uploads it)."""
        return discord.File(io.BytesIO(self.image), filename=self.filename) if self.image is not None else None


def defuse(text: str) -> str:
    """The text with @everyone, @here and user/role mentions broken by a zero-width space."""
    # Belt and braces: every send also carries AllowedMentions.none(), but a copied message must not ping either.
    return discord.utils.escape_mentions(text)




def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The text in chunks of at most `limit` characters, cut between paragraphs, else lines, else words."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _cut_point(text: str, limit: int) -> int:
    """Where to cut: the last paragraph or line break in the second half of the window, else the last space."""
    for separator in ("\n\n", "\n"):
        at = text.rfind(separator, 0, limit + 1)
        if at > limit // 2:
            return at
    at = text.rfind(" ", 0, limit + 1)
    if at > 0:
        return at
    # A single "word" longer than a message (a URL, a pasted blob): a hard cut is the only way.
    return limit


def readable(raw: str) -> str:
    """What the model has written so far, as prose: a JSON critique shows only its labelled values."""
    text = raw.lstrip()
    if not text.startswith("{"):
        return text
    out: list[str] = []
    JsonProse(out.append)(text)
    return "".join(out)


def preview(raw: str) -> str:
    """The streaming critique as shown while the model writes: readable, clipped to one message ('' before words)."""
    text = defuse(readable(raw)).strip()
    return clip(text, MESSAGE_LIMIT - 2) + " ✍" if text else ""


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """The embed clipped to Discord's limits: title, description, fields (count, name, value), footer, total."""
    if embed.title:
        embed.title = clip(embed.title, TITLE_LIMIT)
    if embed.description:
        embed.description = clip(embed.description, DESCRIPTION_LIMIT)
    fields = embed.fields[:FIELD_COUNT_LIMIT]
    embed.clear_fields()
    for field in fields:
        embed.add_field(name=clip(field.name or "\u200b", FIELD_NAME_LIMIT),
                        value=clip(field.value or "\u200b", FIELD_VALUE_LIMIT), inline=bool(field.inline))
    if embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, FOOTER_LIMIT), icon_url=embed.footer.icon_url)
    excess = len(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, max(1, len(embed.description) - excess))
    while len(embed) > EMBED_TOTAL_LIMIT and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def text_embed(text: str, colour: discord.Colour, title: str | None = None) -> discord.Embed:
    """An embed whose title is the text's first line (or `title`) and whose description is the rest."""
    text = defuse(text).strip()
    if title is None:
        first, _, rest = text.partition("\n")
        if len(first) <= TITLE_LIMIT:
            title, text = first, rest.strip()
    return fit_embed(discord.Embed(title=title, description=text or None, colour=colour))


def score_colour(score: int) -> discord.Colour:
    """Green for a good score, gold for a partial one, red otherwise."""
    if score >= 70:
        return discord.Colour.green()
    return discord.Colour.gold() if score >= 40 else discord.Colour.red()


def deadline_field(embed: discord.Embed, reply: Reply) -> discord.Embed:
    """An interviewer-mode question's time budget as a live Discord timestamp ("in 3 minutes"), in local time."""
    deadline = reply.data.get("deadline")
    if deadline:
        when = int(deadline)
        embed.add_field(name="Time", value=f"Time is up <t:{when}:R> (at <t:{when}:t>); a late answer still counts.")
    return embed


def reply_embed(reply: Reply) -> discord.Embed:
    """The embed of a question, follow-up, score or report card."""
    if reply.kind is ReplyKind.FOLLOW_UP:
        text = str(reply.data.get("follow_up") or reply.text)
        return deadline_field(text_embed(text, BLURPLE, title="Follow-up question"), reply)
    if reply.kind is ReplyKind.SCORE:
        return text_embed(reply.text, score_colour(int(reply.data.get("score", 0))))
    if reply.kind is ReplyKind.REPORT:
        return text_embed(reply.text, discord.Colour.teal())
    embed = deadline_field(text_embed(reply.text, BLURPLE), reply)
    if reply.data.get("daily"):
        embed.set_footer(text="Daily question · answer here in your own words, or press Answer")
    return embed


def answer_embed(text: str, author: str) -> discord.Embed:
    """The user's modal answer echoed in the thread, so the conversation reads in order."""
    embed = discord.Embed(description=clip(defuse(text), DESCRIPTION_LIMIT), colour=discord.Colour.light_grey())
    embed.set_author(name=clip(f"{author}'s answer", TITLE_LIMIT))
    return fit_embed(embed)


def render(reply: Reply) -> list[Outgoing]:
    """The messages of one reply; the buttons and the image ride on the last one."""
    if reply.kind is ReplyKind.ERROR:
        return [Outgoing(content=clip(defuse(reply.text), MESSAGE_LIMIT), ephemeral=True)]
    if reply.kind is ReplyKind.FILE:   # the user's own data: for them alone
        return [Outgoing(content=clip(defuse(reply.text), MESSAGE_LIMIT), image=reply.data["content"],
                         filename=str(reply.data["filename"]), ephemeral=True)]
    if reply.kind is ReplyKind.REPORT and len(reply.text) > REPORT_PART:
        # An interviewer-mode report outgrows one embed: one embed per part, never clipped.
        parts = split_message(reply.text, REPORT_PART)
        messages = [Outgoing(embed=text_embed(part, discord.Colour.teal())) for part in parts]
        messages[-1].actions = reply.actions
        return messages
    if reply.kind in EMBED_KINDS:
        return [Outgoing(embed=reply_embed(reply), actions=reply.actions)]
    messages = [Outgoing(content=chunk) for chunk in split_message(defuse(reply.text))] or [Outgoing(content="…")]
    messages[-1].actions = reply.actions
    messages[-1].image = reply.image
    return messages


def send_fields(message: Outgoing, view: discord.ui.View | None = None) -> dict[str, Any]:
    """The send() keywords of a message, leaving out what it lacks (discord.py treats None and MISSING apart)."""
    fields: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
    file = message.file()
    for name, value in (("content", message.content), ("embed", message.embed), ("file", file), ("view", view)):
        if value is not None:
            fields[name] = value
    return fields
