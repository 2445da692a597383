"""The Discord adapter: interactions and plain messages as coach requests, the coach's replies as messages.

Every request is deferred before any engine work (Discord allows 3 seconds). Engine calls run on two executors of
the adapter's own: answers, which wait for the model, on one; everything else on the other, so `/interview topics`
answers at once however many answers queue for the model. The rules (busy users, stale buttons and forms, empty
answers, topics, daily settings) are the coach's; this module only translates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from bot.core.daily import DailyDispatcher
from bot.core.localtime import parse_daily_time, zone_problem
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.discord_commands import sync_commands
from bot.discord_daily import DiscordDaily
from bot.discord_delivery import Delivery
from bot.discord_out import TOKEN_LIFETIME, ChannelOutbox, InteractionOutbox, Outbox
from bot.discord_practice import DiscordPractice
from bot.discord_render import NO_MENTIONS, Outgoing, answer_embed, clip, defuse
from bot.discord_views import NOT_YOURS, AnswerModal, build_tree, parse_submission, register
from bot.discord_voice import uploads_of
from bot.discord_worker import TokenSink
from bot.errors import FAILED

if TYPE_CHECKING:
    from bot.core.coach import Coach

log = logging.getLogger(__name__)
PLATFORM = "discord"
DM_NOTE = "The question comes by direct message: allow direct messages from this server's members to receive it."
MOVED_TO_DM = "I cannot open a thread in this channel, so your interview is in our direct messages."
NOWHERE = ("I can neither open a thread in this channel nor send you a direct message: ask an admin to let me create "
           "threads here, or allow direct messages from this server's members.")
EDIT_INTERVAL = 1.2      # seconds between two edits of the streamed critique (Discord's rate limits)
DAILY_PERIOD = 30.0      # seconds between two passes of the daily-question sender


def user_ref(user: discord.abc.User) -> UserRef:
    """The engine's reference for a Discord user."""
    return UserRef(PLATFORM, str(user.id))


def space_of(interaction: discord.Interaction) -> str | None:
    """The server an interaction comes from (None in a DM): its default deck applies."""
    return str(interaction.guild_id) if interaction.guild_id else None


class DiscordCoach:
    """Translates Discord interactions and messages into coach requests, and the coach's replies into messages."""

    def __init__(self, coach: Coach, client: discord.Client, *, guild_id: int | None = None,
                 edit_interval: float = EDIT_INTERVAL, daily_period: float = DAILY_PERIOD, workers: int = 4,
                 commands_file: Path | None = None, token_lifetime: float = TOKEN_LIFETIME) -> None:
        self.coach = coach
        self.client = client
        self.guild_id = guild_id
        self.daily_period = daily_period
        self.commands_file = commands_file
        self.token_lifetime = token_lifetime
        self.answers = ThreadPoolExecutor(workers, "discord-answers")   # wait for the model: bounded, queued
        self.quick = ThreadPoolExecutor(4, "discord-quick")             # everything else: never behind answers
        self._daily_pool = ThreadPoolExecutor(1, "discord-daily")
        self.daily = DailyDispatcher(coach, DiscordDaily(self))
        self.practice = DiscordPractice(self)
        self.delivery = Delivery(edit_interval)
        self.tree = build_tree(client, self)
        self.tree.error(self.on_tree_error)
        self._daily_task: asyncio.Task[None] | None = None
        self.closing = False
        register(client, self)
        client.setup_hook = self.setup_hook  # type: ignore[method-assign]
        client.event(self.on_message)
        client.event(self.on_interaction)

    async def setup_hook(self) -> None:
        """Register the commands when they changed, then start the daily sender."""
        await sync_commands(self.tree, self.guild_id, self.commands_file)
        self._daily_task = asyncio.create_task(self._daily_loop())

    def shutdown(self) -> None:
        """Stop the executors (work in progress finishes; queued work is dropped)."""
        self.closing = True
        for pool in (self.answers, self.quick, self._daily_pool):
            pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ interactions

    async def _refuse(self, interaction: discord.Interaction, text: str) -> None:
        """Answer at once with one private sentence."""
        await interaction.response.send_message(defuse(text), ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _interact(self, interaction: discord.Interaction, body: Callable[[InteractionOutbox], Awaitable[Any]],
                        *, ephemeral: bool = False) -> None:
        """Defer at once (Discord allows 3 s), then run the body; the coach's one-request-per-user rule first."""
        with self.coach.reserve(user_ref(interaction.user)) as busy:
            if busy is not None:
                await self._refuse(interaction, busy.text)
                return
            out = InteractionOutbox(interaction, ephemeral=ephemeral, lifetime=self.token_lifetime)
            try:
                await interaction.response.defer(thinking=True, ephemeral=ephemeral)
                await body(out)
            except Exception:
                log.exception("Discord interaction %s of user %s failed", interaction.id, interaction.user.id)
                with suppress(discord.HTTPException):
                    await out.send(Outgoing(content=FAILED, ephemeral=True))
            finally:
                await out.close()

    async def _run(self, interaction: discord.Interaction, request: Request, *, ephemeral: bool = False,
                   amend: Callable[[Reply], Reply] | None = None) -> None:
        """Defer, run one quick request on a worker thread, and send its replies as followups."""
        owner = interaction.user.id

        def work(_token: TokenSink) -> Iterable[Reply]:
            return (amend(reply) if amend else reply for reply in self.coach.act(request))

        async def body(out: InteractionOutbox) -> None:
            await self.delivery.pump(out, out, owner, work, self.quick)

        await self._interact(interaction, body, ephemeral=ephemeral)

    async def start_interview(self, interaction: discord.Interaction, topic: str | None, count: int,
                              mode: str = "coach") -> None:
        """/interview start: a thread for the session (or the user's DM), then the first question there."""
        problem = self.coach.topic_problem(topic)
        if problem:
            await self._refuse(interaction, problem)
            return
        user = user_ref(interaction.user)
        # In a server channel the interview gets a place of its own and the channel sees nothing.
        threaded = isinstance(interaction.channel, discord.TextChannel)

        async def body(followups: InteractionOutbox) -> None:
            place: discord.abc.Messageable | None = None
            if threaded:
                place = await self._open_thread(interaction) or await self._dm_or_none(interaction.user)
                if place is None:
                    await followups.send(Outgoing(content=NOWHERE, ephemeral=True))
                    return
            out: Outbox = ChannelOutbox(place) if place is not None else followups
            where = str(getattr(place, "id", None) or interaction.channel_id)
            request = Request(user, Action.START, topic=topic, count=count, place=where, mode=mode,
                              space=space_of(interaction))
            replies = await self.delivery.pump(out, followups, interaction.user.id, lambda _t: self.coach.act(request),
                                       self.quick)
            if place is None:
                return
            if not replies or replies[0].kind is ReplyKind.ERROR:
                if isinstance(place, discord.Thread):
                    with suppress(discord.HTTPException):
                        await place.delete()
                return
            note = f"Your interview is ready in {place.mention}." if isinstance(place, discord.Thread) else MOVED_TO_DM
            await followups.send(Outgoing(content=note))

        await self._interact(interaction, body, ephemeral=threaded)

    async def _open_thread(self, interaction: discord.Interaction) -> discord.Thread | None:
        """A private thread with the user where the bot may make one, else a public one; None when neither works."""
        channel = cast(discord.TextChannel, interaction.channel)
        name = clip(f"Interview · {interaction.user.display_name}", 100)
        kinds = [discord.ChannelType.public_thread]
        if interaction.app_permissions.create_private_threads:
            kinds.insert(0, discord.ChannelType.private_thread)
        for kind in kinds:
            try:
                thread = await channel.create_thread(name=name, type=kind, invitable=False,
                                                     auto_archive_duration=1440)
            except discord.HTTPException as exc:
                log.info("Could not open a %s in channel %s: %s", kind.name, channel.id, exc)
                continue
            try:
                await thread.add_user(interaction.user)
                return thread
            except discord.HTTPException as exc:
                # A thread the user is not in would hold the interview where they cannot see it: remove it.
                log.info("Could not add user %s to thread %s: %s", interaction.user.id, thread.id, exc)
                with suppress(discord.HTTPException):
                    await thread.delete()
        return None

    async def _dm_or_none(self, user: discord.abc.User) -> discord.DMChannel | None:
        try:
            return await self.dm(user.id)
        except discord.HTTPException as exc:
            log.info("Could not open a DM with user %s: %s", user.id, exc)
            return None

    async def dm(self, user_id: int) -> discord.DMChannel:
        """The bot's DM channel with a user."""
        user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
        return user.dm_channel or await user.create_dm()

    def topic_choices(self, current: str, interaction: discord.Interaction | None = None
                      ) -> list[app_commands.Choice[str]]:
        """Up to 25 topics of the user's deck containing the typed text, with their question counts."""
        needle = current.strip().lower()
        topics = self.coach.topic_counts(user_ref(interaction.user), space_of(interaction)) if interaction else \
            self.coach.topic_counts()
        return [app_commands.Choice(name=f"{t} ({n})", value=t) for t, n in topics.items() if needle in t][:25]

    async def open_answer(self, interaction: discord.Interaction, turn: str | None = None) -> None:
        """The Answer button (for its question) or /interview answer (the open one): the modal, as first response."""
        with self.coach.reserve(user_ref(interaction.user)) as busy:
            if busy is not None:
                await self._refuse(interaction, busy.text)
                return
        modal = AnswerModal(interaction.user.id, turn)
        modal.stop()   # never kept in discord.py's store: `on_interaction` reads every submission, even after a restart
        await interaction.response.send_modal(modal)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """An answer form's submission: the owner's answer, for the question the form was opened on."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        submitted = parse_submission(cast(dict[str, Any], interaction.data or {}))
        if submitted is None:
            await self.practice.on_submit(interaction)
            return
        owner, turn, text = submitted
        if owner != interaction.user.id:
            await self._refuse(interaction, NOT_YOURS)
            return
        request = Request(user_ref(interaction.user), Action.ANSWER, text=text, turn=turn)

        async def body(out: InteractionOutbox) -> None:
            await out.send(Outgoing(embed=answer_embed(text, interaction.user.display_name)))
            await self.delivery.pump(out, out, owner, lambda on_token: self.coach.act(request, on_token=on_token),
                             self.answers)

        await self._interact(interaction, body)

    async def on_button(self, interaction: discord.Interaction, action: Action, turn: str) -> None:
        """A session button pressed by its owner (others are refused by the button itself)."""
        if action is Action.ANSWER:
            await self.open_answer(interaction, turn)
        elif action in (Action.FLAG, Action.FORGET):
            await self.practice.on_button(interaction, action, turn)
        else:
            await self._run(interaction, Request(user_ref(interaction.user), action, turn=turn))

    async def act(self, interaction: discord.Interaction, action: Action) -> None:
        """/interview hint, skip, reveal or stop: on the open question."""
        await self._run(interaction, Request(user_ref(interaction.user), action))

    async def show_stats(self, interaction: discord.Interaction) -> None:
        """/interview stats: the progress text and the chart, privately."""
        await self._run(interaction, Request(user_ref(interaction.user), Action.STATS), ephemeral=True)

    async def show_topics(self, interaction: discord.Interaction) -> None:
        """/interview topics, privately."""
        request = Request(user_ref(interaction.user), Action.TOPICS, space=space_of(interaction))
        await self._run(interaction, request, ephemeral=True)

    async def set_deck(self, interaction: discord.Interaction, name: str | None, server: bool) -> None:
        """/interview deck [name] [scope]: the decks, the user's pick, or (Manage Server) the server's default."""
        manager = bool(interaction.guild_id) and interaction.permissions.manage_guild
        request = Request(user_ref(interaction.user), Action.DECK, deck=name, space=space_of(interaction),
                          for_space=server, admin=manager)
        await self._run(interaction, request, ephemeral=True)

    def deck_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """Up to 25 installed decks containing the typed text, then the words 'default' and 'all'."""
        needle = current.strip().lower()
        names = [*sorted(self.coach.bank.decks), "default", "all"]
        return [app_commands.Choice(name=n, value=n) for n in names if needle in n][:25]

    async def set_daily(self, interaction: discord.Interaction, on: bool, at: str | None, zone: str | None) -> None:
        """/interview daily on|off [time] [timezone]; a mistake is answered at once, before anything is stored."""
        problem = None
        if at and parse_daily_time(at) is None:
            problem = f"'{clip(at, 20)}' is not a 24-hour time; use HH:MM, such as 08:30."
        elif zone and zone.strip():
            problem = zone_problem(zone)
        if problem:
            await self._refuse(interaction, problem)
            return

        def note(reply: Reply) -> Reply:
            if not on or reply.kind is not ReplyKind.INFO:
                return reply
            return Reply(reply.kind, f"{reply.text}\n{DM_NOTE}", reply.actions, reply.image, reply.data)

        request = Request(user_ref(interaction.user), Action.DAILY, daily=on, time=at, zone=zone,
                          space=space_of(interaction))
        await self._run(interaction, request, ephemeral=True, amend=note)

    async def on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """A command that failed before or outside our handlers: logged in full, one private sentence shown."""
        log.error("Command failed for user %s", interaction.user.id, exc_info=error)
        text = defuse(str(error)) if isinstance(error, app_commands.TransformerError) else FAILED
        with suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await self._refuse(interaction, text)

    # ------------------------------------------------------------------ plain messages

    def _watched(self, channel: Any) -> bool:
        """Where a plain message may be an answer: a DM, or a thread the bot opened when it can read messages."""
        if isinstance(channel, discord.DMChannel):
            return True  # DMs carry their content without the privileged intent
        me = self.client.user
        return (self.client.intents.message_content and isinstance(channel, discord.Thread)
                and me is not None and channel.owner_id == me.id)

    async def on_message(self, message: discord.Message) -> None:
        """A plain message, a voice message or an audio file in a DM or an interview thread is an answer, for the
        session that lives there (the coach downloads and transcribes a recording)."""
        if message.author.bot or not self._watched(message.channel):
            return
        user = user_ref(message.author)
        request = Request(user, Action.ANSWER, text=message.content, place=str(message.channel.id),
                          files=len(message.attachments), uploads=uploads_of(message, asyncio.get_running_loop()))
        out = ChannelOutbox(message.channel)
        with self.coach.reserve(user) as busy:
            if busy is not None:
                await out.send(Outgoing(content=busy.text))
                return
            try:
                await self.delivery.pump(out, out, message.author.id,
                                 lambda on_token: self.coach.act(request, on_token=on_token), self.answers)
            except Exception:
                log.exception("Answer by message of user %s failed", message.author.id)

    # ------------------------------------------------------------------ daily questions

    async def _daily_loop(self) -> None:
        await self.client.wait_until_ready()
        while not self.client.is_closed():
            try:
                await self.daily_tick()
            except Exception:  # a failed pass is logged and retried; it must never stop the sender
                log.exception("Daily questions pass failed")
            await asyncio.sleep(self.daily_period)

    async def daily_tick(self, now: datetime | None = None) -> int:
        """One pass of the engine's daily dispatcher for Discord users; returns how many questions were sent."""
        when = now or self.coach.clock()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._daily_pool, self.coach.upkeep, when)   # reviewers' fixes from elsewhere
        return await loop.run_in_executor(self._daily_pool, self.daily.tick, when)

