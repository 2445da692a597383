"""Discord adapter: `/interview` commands, a thread per interview, persistent buttons and an answer modal.

`python -m bot.discord_bot` runs the bot with DISCORD_TOKEN; `--print-commands` prints, as JSON, the application
commands it would register, without connecting. Every engine call runs on a worker thread after the interaction
is deferred, so Discord's 3-second deadline never waits on grading.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from contextlib import aclosing, suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from pydantic import ValidationError

from bot.config import Settings, get_settings
from bot.core.replies import Action, Reply, ReplyKind, UserRef
from bot.core.schedule import local_date
from bot.core.store.records import utc_now
from bot.discord_render import (
    NO_MENTIONS,
    ChannelOutbox,
    CritiqueStream,
    Editable,
    FollowupOutbox,
    Outbox,
    Outgoing,
    answer_embed,
    clip,
    defuse,
    render,
    reply_embed,
    send_fields,
)
from bot.discord_views import AnswerModal, actions_view, build_tree, command_payload, parse_time, register, zone_problem
from bot.errors import CoachError, ConfigError
from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.core.coach import Coach
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)
PLATFORM = "discord"
BUSY = "I'm still working on your previous request; one moment."
FAILED = "Something went wrong on my side; please try again in a moment."
DM_NOTE = "The question comes by direct message: allow direct messages from this server's members to receive it."
EDIT_INTERVAL = 1.2      # seconds between two edits of the streamed critique (Discord's rate limits)
DAILY_PERIOD = 30.0      # seconds between two passes of the daily-question sender
DAILY_MARK = "Daily question · "
TokenSink = Callable[[str], None]
Work = Callable[[TokenSink], Iterable[Reply]]


def user_ref(user: discord.abc.User) -> UserRef:
    """The engine's reference for a Discord user."""
    return UserRef(PLATFORM, str(user.id))


# ---------------------------------------------------------------------------------------------- engine calls


async def run_in_worker(work: Work) -> AsyncGenerator[tuple[str, Any], None]:
    """Run an engine call on a worker thread; yield ("token", str), ("reply", Reply), ("error", exc) in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(kind: str, value: Any) -> None:
        # The engine calls back from its own thread: hand each event to the loop, never touch Discord from here.
        with suppress(RuntimeError):  # the loop closed while the engine was finishing (shutdown)
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    def produce() -> None:
        try:
            for reply in work(lambda token: put("token", token)):
                put("reply", reply)
        except Exception as exc:  # shown to the user by the loop; a worker thread must not die silently
            put("error", exc)
        finally:
            put("done", None)

    worker = asyncio.ensure_future(asyncio.to_thread(produce))
    while (event := await queue.get())[0] != "done":
        yield event
    await worker


# ---------------------------------------------------------------------------------------------- the adapter


class DiscordCoach:
    """Translates Discord interactions and messages into coach calls, and the coach's replies into messages."""

    def __init__(self, coach: Coach, client: discord.Client, *, guild_id: int | None = None,
                 edit_interval: float = EDIT_INTERVAL, daily_period: float = DAILY_PERIOD,
                 stale_after: timedelta = timedelta(minutes=10)) -> None:
        self.coach = coach
        self.client = client
        self.guild_id = guild_id
        self.edit_interval = edit_interval
        self.daily_period = daily_period
        self.stale_after = stale_after
        self.started = datetime.now(UTC)   # the store stamps daily claims with the wall clock
        self.tree = build_tree(client, self)
        self.tree.error(self.on_tree_error)
        self._inflight: set[str] = set()
        self._buttons: dict[int, Editable] = {}   # owner id -> the message whose buttons are live
        self._daily_task: asyncio.Task[None] | None = None
        register(client, self)
        client.setup_hook = self.setup_hook  # type: ignore[method-assign]
        client.event(self.on_message)

    async def setup_hook(self) -> None:
        """Sync the commands (to the development guild when one is set) and start the daily sender."""
        if self.guild_id:
            guild = discord.Object(id=self.guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()
        self._daily_task = asyncio.create_task(self._daily_loop())

    # ------------------------------------------------------------------ interactions

    async def _refuse(self, interaction: discord.Interaction, text: str) -> None:
        """Answer at once with one private sentence."""
        await interaction.response.send_message(defuse(text), ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def _interact(self, interaction: discord.Interaction, body: Callable[[FollowupOutbox], Awaitable[Any]],
                        *, ephemeral: bool = False) -> None:
        """Defer at once (Discord allows 3 s), then run the body; one request per user at a time."""
        key = user_ref(interaction.user).key
        if key in self._inflight:
            await self._refuse(interaction, BUSY)
            return
        self._inflight.add(key)
        followups = FollowupOutbox(interaction, ephemeral=ephemeral)
        try:
            await interaction.response.defer(thinking=True, ephemeral=ephemeral)
            await body(followups)
        except Exception:
            log.exception("Discord interaction %s of user %s failed", interaction.id, interaction.user.id)
            with suppress(discord.HTTPException):
                await followups.send(Outgoing(content=FAILED, ephemeral=True))
        finally:
            await followups.close()
            self._inflight.discard(key)

    async def _run(self, interaction: discord.Interaction, call: Callable[[], Iterable[Reply]], *,
                   ephemeral: bool = False) -> None:
        """Defer, run one engine call on a worker thread, and send its replies as followups."""
        owner = interaction.user.id

        async def body(out: FollowupOutbox) -> None:
            await self._pump(out, out, owner, lambda _token: call())

        await self._interact(interaction, body, ephemeral=ephemeral)

    async def start_interview(self, interaction: discord.Interaction, topic: str | None, count: int) -> None:
        """/interview start: a thread for the session (none in a DM), then the first question there."""
        topics = self.coach.topics().data.get("topics", {})
        topic = (topic or "").strip().lower() or None
        if topic and topic not in topics:
            await self._refuse(interaction, f"There is no topic '{topic}'. Topics: {', '.join(topics)}.")
            return
        user = user_ref(interaction.user)
        # In a server channel the interview gets a thread and the channel sees nothing; elsewhere it stays put.
        threaded = isinstance(interaction.channel, discord.TextChannel)

        async def body(followups: FollowupOutbox) -> None:
            thread = await self._open_thread(interaction) if threaded else None
            out: Outbox = ChannelOutbox(thread) if thread is not None else followups
            where = str(thread.id if thread is not None else interaction.channel_id)
            replies = await self._pump(out, followups, interaction.user.id,
                                       lambda _t: self.coach.start(user, topic=topic, count=count, channel=where))
            if thread is None:
                return
            if not replies or replies[0].kind is ReplyKind.ERROR:
                with suppress(discord.HTTPException):
                    await thread.delete()
                return
            await followups.send(Outgoing(content=f"Your interview is ready in {thread.mention}."))

        await self._interact(interaction, body, ephemeral=threaded)

    async def _open_thread(self, interaction: discord.Interaction) -> discord.Thread | None:
        """A private thread where the bot may create one, else a public one; None when neither is allowed."""
        channel = cast(discord.TextChannel, interaction.channel)
        name = clip(f"Interview · {interaction.user.display_name}", 100)
        kinds = [discord.ChannelType.public_thread]
        if interaction.app_permissions.create_private_threads:
            kinds.insert(0, discord.ChannelType.private_thread)
        for kind in kinds:
            try:
                thread = await channel.create_thread(name=name, type=kind, invitable=False,
                                                     auto_archive_duration=1440)
                await thread.add_user(interaction.user)
                return thread
            except discord.HTTPException as exc:
                log.info("Could not open a %s in channel %s: %s", kind.name, channel.id, exc)
        return None

    def topic_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """Up to 25 deck topics containing the typed text, with their question counts."""
        needle = current.strip().lower()
        topics = self.coach.topics().data.get("topics", {})
        return [app_commands.Choice(name=f"{t} ({n})", value=t) for t, n in topics.items() if needle in t][:25]

    async def open_answer(self, interaction: discord.Interaction) -> None:
        """The Answer button or /interview answer: the modal (which must be the first response)."""
        if user_ref(interaction.user).key in self._inflight:
            await self._refuse(interaction, BUSY)
            return
        await interaction.response.send_modal(AnswerModal(self, interaction.user.id))

    async def on_answer(self, interaction: discord.Interaction, text: str) -> None:
        """The modal's answer: echoed, then the score, the critique streamed, and what comes next."""
        user = user_ref(interaction.user)

        async def body(out: FollowupOutbox) -> None:
            await out.send(Outgoing(embed=answer_embed(text, interaction.user.display_name)))
            await self._pump(out, out, interaction.user.id,
                             lambda on_token: self.coach.answer(user, text, on_token=on_token))

        await self._interact(interaction, body)

    async def on_button(self, interaction: discord.Interaction, action: Action) -> None:
        """A session button pressed by its owner (others are refused by the button itself)."""
        if action is Action.ANSWER:
            await self.open_answer(interaction)
        else:
            await self.act(interaction, action)

    async def act(self, interaction: discord.Interaction, action: Action) -> None:
        """Hint, skip, reveal or stop on the user's open session."""
        user = user_ref(interaction.user)
        calls: dict[Action, Callable[[], Iterable[Reply]]] = {
            Action.HINT: lambda: [self.coach.hint(user)],
            Action.SKIP: lambda: self.coach.skip(user),
            Action.REVEAL: lambda: self.coach.reveal(user),
            Action.STOP: lambda: [self.coach.stop(user)],
        }
        await self._run(interaction, calls[action])

    async def show_stats(self, interaction: discord.Interaction) -> None:
        """/interview stats: the progress text and the chart, privately."""
        user = user_ref(interaction.user)
        await self._run(interaction, lambda: [self.coach.stats(user)], ephemeral=True)

    async def show_topics(self, interaction: discord.Interaction) -> None:
        """/interview topics, privately."""
        await self._run(interaction, lambda: [self.coach.topics()], ephemeral=True)

    async def set_daily(self, interaction: discord.Interaction, on: bool, at: str | None, zone: str | None) -> None:
        """/interview daily on|off [time] [timezone], validated here so a mistake is answered at once."""
        hhmm = parse_time(at) if at else None
        if at and hhmm is None:
            await self._refuse(interaction, f"'{clip(at, 20)}' is not a 24-hour time; use HH:MM, such as 08:30.")
            return
        zone = zone.strip() if zone else None
        problem = zone_problem(zone) if zone else None
        if problem:
            await self._refuse(interaction, problem)
            return
        user = user_ref(interaction.user)

        def call() -> list[Reply]:
            reply = self.coach.set_daily(user, on, time=hhmm, tz=zone)
            if on and reply.kind is ReplyKind.INFO:
                reply = Reply(reply.kind, f"{reply.text}\n{DM_NOTE}", reply.actions, reply.image, reply.data)
            return [reply]

        await self._run(interaction, call, ephemeral=True)

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
        """A plain message in the user's session thread (or DM) is an answer."""
        if message.author.bot or not message.content.strip() or not self._watched(message.channel):
            return
        user = user_ref(message.author)
        session = await asyncio.to_thread(self.coach.open_session, user)
        if session is None or session.channel != str(message.channel.id):
            return
        out = ChannelOutbox(message.channel)
        if user.key in self._inflight:
            await out.send(Outgoing(content=BUSY))
            return
        self._inflight.add(user.key)
        try:
            await self._pump(out, out, message.author.id,
                             lambda on_token: self.coach.answer(user, message.content, on_token=on_token))
        except Exception:
            log.exception("Answer by message of user %s failed", message.author.id)
        finally:
            self._inflight.discard(user.key)

    # ------------------------------------------------------------------ delivering replies

    async def _pump(self, out: Outbox, private: Outbox, owner: int, work: Work) -> list[Reply]:
        """Run an engine call off the loop; deliver its replies in order, the critique streamed as it is written."""
        stream = CritiqueStream(out, self.edit_interval)
        replies: list[Reply] = []
        try:
            async with aclosing(run_in_worker(work)) as events:
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
            view = actions_view(message.actions, owner)
            sent = await (private if message.ephemeral else out).send(message, view)
            if view is not None:
                await self._move_buttons(owner, sent)
        if reply.kind is ReplyKind.REPORT:
            await self._move_buttons(owner, None)

    async def _move_buttons(self, owner: int, message: Editable | None) -> None:
        """Remove the buttons of the owner's previous question, so only the current one offers them."""
        previous = self._buttons.pop(owner, None)
        if message is not None:
            self._buttons[owner] = message
        if previous is not None and previous is not message:
            with suppress(discord.HTTPException):  # gone, or its followup token expired: harmless
                await previous.edit(view=None, allowed_mentions=NO_MENTIONS)

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
        """One pass: DM every user whose daily question is due; returns how many were sent."""
        now = now or self.coach.clock()
        sent = 0
        for user in await asyncio.to_thread(self.coach.scheduler.daily_due, now):
            try:
                sent += await self._send_daily(user.ref, local_date(user.zone, now), now)
            except (CoachError, discord.HTTPException) as exc:
                # One user's failure must not hold back the others; an unsent claim is taken over later.
                log.warning("Daily question for %s not sent: %s", user.ref.key, exc)
        return sent

    async def _send_daily(self, ref: UserRef, day: str, now: datetime) -> int:
        """DM one user's question for a local day (claimed in the store before it is sent); 1 if sent."""
        dm = await self._dm(int(ref.user_id))
        prepared = await asyncio.to_thread(self._daily_question, ref, day, now, str(dm.id))
        if prepared is None:
            return 0
        reply, taken_over = prepared
        found = await self._posted_daily(dm, day) if taken_over else None
        posting = found is None   # else the sender that died had posted it: only the mark was missing
        if found is None:
            embed = reply_embed(reply)
            embed.set_footer(text=f"{DAILY_MARK}{day} · answer here in your own words, or press Answer")
            view = actions_view(reply.actions, int(ref.user_id))
            try:
                found = await dm.send(**send_fields(Outgoing(embed=embed), view))
            except discord.Forbidden:
                # The user accepts no DMs from the bot: retrying every pass would only hammer the API.
                log.warning("User %s accepts no direct messages; daily questions turned off", ref.user_id)
                await asyncio.to_thread(self.coach.set_daily, ref, False)
                return 0
        await asyncio.to_thread(self.coach.daily_sent, ref, day, channel=str(dm.id), message_ref=str(found.id))
        return int(posting)

    async def _dm(self, user_id: int) -> discord.DMChannel:
        user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
        return user.dm_channel or await user.create_dm()

    def _daily_question(self, ref: UserRef, day: str, now: datetime, channel: str) -> tuple[Reply, bool] | None:
        """Today's question, claimed by the engine before it is sent; True when a dead sender's claim is taken over."""
        session = self.coach.open_session(ref)
        daily = session.extra.get("daily") if session is not None else None
        if session is not None and not daily:
            return None  # never interrupt a mock interview: a later pass sends it once the interview ends
        record = self.coach.store.daily_send(ref, day)
        if record is not None and record.status != "claimed":
            return None  # sent already
        if daily == day:
            # Claimed and opened by a sender that died before sending it (its claim predates this process, or is
            # stale): take the claim over (a compare-and-set: one sender wins) and send the same question.
            older_than = max(self.started, utc_now() - self.stale_after)
            if record is None or not self.coach.store.reclaim_daily(ref, day, older_than):
                return None
            current = self.coach.current(ref)
            return (current, True) if current is not None else None
        if session is not None:
            self.coach.stop(ref)  # an earlier day's question left unanswered: close it so today's can be asked
        reply = self.coach.daily_question(ref, channel=channel, now=now)
        return (reply, record is not None) if reply is not None else None

    async def _posted_daily(self, dm: discord.DMChannel, day: str) -> discord.Message | None:
        """The day's question if a sender that died had posted it before marking it sent."""
        async for message in dm.history(limit=20):
            if message.author == self.client.user and any(
                    (e.footer.text or "").startswith(f"{DAILY_MARK}{day}") for e in message.embeds):
                return message
        return None


def _failure(error: BaseException) -> Reply:
    """An engine failure as one sentence for the user; the full error goes to the log."""
    if isinstance(error, CoachError):
        return Reply(ReplyKind.ERROR, str(error))
    log.error("Engine call failed", exc_info=error)
    return Reply(ReplyKind.ERROR, FAILED)


# ---------------------------------------------------------------------------------------------- running it


def message_content_enabled(settings: Settings) -> bool:
    """Whether plain messages in a session thread count as answers (the privileged message-content intent)."""
    return settings.discord_message_content


def make_client(settings: Settings) -> discord.Client:
    """The Discord client: default intents (plus message content when asked), sharded when configured."""
    intents = discord.Intents.default()
    intents.message_content = message_content_enabled(settings)
    if settings.discord_shards is None:
        return discord.Client(intents=intents, allowed_mentions=NO_MENTIONS)
    return discord.AutoShardedClient(intents=intents, allowed_mentions=NO_MENTIONS,
                                     shard_count=settings.discord_shards or None)


def discord_token(settings: Settings) -> str:
    """The bot token; ConfigError in one sentence when it is missing."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise ConfigError("DISCORD_TOKEN is not set: put your bot's token from the Discord Developer Portal in the "
                          "environment or in .env.")
    return token


async def serve(runtime: Runtime, settings: Settings, token: str) -> None:
    """Connect while the engine warms up on a worker thread; run until stopped."""
    client = make_client(settings)
    DiscordCoach(runtime.coach, client, guild_id=settings.discord_guild_id)
    warming = asyncio.create_task(asyncio.to_thread(_warm_up, runtime))
    try:
        async with client:
            await client.start(token)
    except discord.LoginFailure:
        raise ConfigError("Discord refused DISCORD_TOKEN; copy the bot's token again from the Developer Portal.") \
            from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError("The message-content intent is not enabled for this bot in the Developer Portal; enable it "
                          "there or unset COACH_DISCORD_MESSAGE_CONTENT.") from None
    finally:
        warming.cancel()


def _warm_up(runtime: Runtime) -> None:
    """Load the embedder, the index and the model before the first answer needs them."""
    try:
        runtime.warm_up()
    except CoachError as exc:  # the coach still works (rubric only, or the error when an answer needs it)
        log.warning("Warm-up incomplete: %s", exc)


def run(settings: Settings) -> int:
    """Build the engine once, then run the bot."""
    from bot.core.runtime import Runtime

    token = discord_token(settings)
    setup_logging(settings.secrets())
    runtime = Runtime(settings)
    try:
        asyncio.run(serve(runtime, settings, token))
    finally:
        runtime.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the bot, or print its commands; errors are one sentence on standard error and exit status 2."""
    parser = argparse.ArgumentParser(prog="python -m bot.discord_bot", description="Interview Coach on Discord.")
    parser.add_argument("--print-commands", action="store_true",
                        help="print the application commands as JSON, without connecting")
    args = parser.parse_args(argv)
    if args.print_commands:
        sys.stdout.write(json.dumps(command_payload(), indent=2) + "\n")
        return 0
    try:
        return run(get_settings())
    except ValidationError as exc:
        error = exc.errors()[0]
        print(f"Error: setting {'.'.join(str(p) for p in error['loc'])} is invalid: {error['msg']}.", file=sys.stderr)
    except CoachError as exc:
        print(f"Error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
