"""Discord: flags (button, form, command), the review queue (Manage Server), export and forget; translation only."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef, short_turn
from bot.discord_out import InteractionOutbox
from bot.discord_render import NO_MENTIONS, Outgoing, clip, defuse

if TYPE_CHECKING:
    from bot.discord_coach import DiscordCoach

FLAG_FORM = "coach:flagform:"
FIX_FORM = "coach:fixform:"
_FLAG = re.compile(rf"^{FLAG_FORM}(?P<owner>[0-9]{{1,20}}):(?P<turn>.*)$")
_FIX = re.compile(rf"^{FIX_FORM}(?P<flag>[0-9]{{1,12}})$")
INPUT_LIMIT = 4000


def _ref(user: discord.abc.User) -> UserRef:
    return UserRef("discord", str(user.id))


def manages_server(interaction: discord.Interaction) -> bool:
    """Discord's Manage Server permission of the user where they pressed or typed (none in DMs)."""
    return interaction.guild_id is not None and interaction.permissions.manage_guild


def _fields(data: dict[str, Any]) -> dict[str, str]:
    """Every text input of a submitted form, by custom id, wherever Discord nests it."""
    found: dict[str, str] = {}
    for component in data.get("components") or []:
        inner = list(component.get("components") or []) + ([component["component"]] if "component" in component else [])
        if "custom_id" in component and "value" in component:
            found[component["custom_id"]] = str(component.get("value") or "")
        found.update(_fields({"components": inner}))
    return found


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=re.compile(r"coach-review:(?P<op>fix|dismiss):(?P<flag>[0-9]{1,12})")):
    """Fix or Dismiss under a flag of the queue; the engine checks, at each press, that the presser may review."""

    def __init__(self, op: str, flag: int) -> None:
        style = discord.ButtonStyle.primary if op == "fix" else discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=f"{op.title()} #{flag}", style=style,
                                           custom_id=f"coach-review:{op}:{flag}"))
        self.op, self.flag = op, flag

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> ReviewButton:
        """Rebuild the button from a pressed custom_id."""
        return cls(match["op"], int(match["flag"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the press to the adapter."""
        from bot.discord_views import _HANDLERS

        handler = _HANDLERS.get(interaction.client)
        if handler is not None:
            await cast("DiscordCoach", handler).practice.on_review_button(interaction, self.op, self.flag)


class DiscordPractice:
    """The /interview flag, review, export and forget commands, and their buttons and forms."""

    def __init__(self, bot: DiscordCoach) -> None:
        self.bot = bot
        self.coach = bot.coach

    async def _quick(self, request: Request) -> list[Reply]:
        """Run a quick request on the adapter's quick executor."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.bot.quick, lambda: list(self.coach.act(request)))

    # ------------------------------------------------------------------ flags

    async def flag(self, interaction: discord.Interaction, reason: str) -> None:
        """/interview flag: in the interview's thread or DM the replies stay there; elsewhere they are private."""
        place = interaction.channel
        private = not isinstance(place, (discord.Thread, discord.DMChannel))
        await self.bot._run(interaction, Request(_ref(interaction.user), Action.FLAG, text=reason), ephemeral=private)

    async def on_button(self, interaction: discord.Interaction, action: Action, turn: str) -> None:
        """Flag (a form for the reason, naming the question) or Delete my data (the owner's own data)."""
        if action is Action.FORGET:
            await self.bot._run(interaction, Request(_ref(interaction.user), Action.FORGET, confirm=True),
                                ephemeral=True)
            return
        modal = discord.ui.Modal(title="Flag this question", timeout=None,
                                 custom_id=f"{FLAG_FORM}{interaction.user.id}:{short_turn(turn) if turn else ''}")
        modal.add_item(discord.ui.TextInput(label="What is wrong with it?", style=discord.TextStyle.paragraph,
                                            max_length=1000, custom_id="reason"))
        modal.stop()   # read from the submission's custom_id, like the answer form
        await interaction.response.send_modal(modal)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """A flag's reason or a reviewer's fix form."""
        data = cast(dict[str, Any], interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        fields = _fields(data)
        if match := _FLAG.match(custom_id):
            if int(match["owner"]) != interaction.user.id:
                from bot.discord_views import NOT_YOURS

                await interaction.response.send_message(NOT_YOURS, ephemeral=True, allowed_mentions=NO_MENTIONS)
                return
            request = Request(_ref(interaction.user), Action.FLAG, text=fields.get("reason", ""),
                              turn=match["turn"] or None)
            await self.bot._run(interaction, request)
        elif match := _FIX.match(custom_id):
            new = {"question": fields.get("question", "").strip(), "answer": fields.get("answer", "").strip(),
                   "key_points": [p.strip() for p in fields.get("key_points", "").splitlines() if p.strip()]}
            await self._fix(interaction, match["flag"], new)

    # ------------------------------------------------------------------ the review queue

    async def review(self, interaction: discord.Interaction) -> None:
        """/interview review: the queue with Fix and Dismiss buttons, for the reviewer alone."""
        request = Request(_ref(interaction.user), Action.REVIEW, admin=manages_server(interaction))

        async def body(out: InteractionOutbox) -> None:
            [reply] = await self._quick(request)
            flags = reply.data.get("flags") or []
            view = discord.ui.View(timeout=None) if flags else None
            for item in flags[:12]:   # two buttons each, within Discord's 25 components
                assert view is not None
                view.add_item(ReviewButton("fix", int(item["id"])))
                view.add_item(ReviewButton("dismiss", int(item["id"])))
            await out.send(Outgoing(content=clip(defuse(reply.text), 2000), ephemeral=True), view)

        await self.bot._interact(interaction, body, ephemeral=True)

    async def on_review_button(self, interaction: discord.Interaction, op: str, flag: int) -> None:
        """Fix opens the form filled in with the question as it is; Dismiss settles the flag."""
        user = _ref(interaction.user)
        admin = manages_server(interaction)
        if op == "dismiss":
            await self.bot._run(interaction, Request(user, Action.REVIEW, op="dismiss", target=str(flag), admin=admin),
                                ephemeral=True)
            return
        [queue] = await self._quick(Request(user, Action.REVIEW, admin=admin))
        item = next((f for f in queue.data.get("flags") or [] if f["id"] == flag), None)
        if queue.kind is ReplyKind.ERROR or item is None or not item["question"]:
            text = queue.text if queue.kind is ReplyKind.ERROR else "That flag is no longer open."
            await interaction.response.send_message(defuse(text), ephemeral=True, allowed_mentions=NO_MENTIONS)
            return
        modal = discord.ui.Modal(title=f"Fix flag #{flag}", timeout=None, custom_id=f"{FIX_FORM}{flag}")
        for custom_id, label, value, style in (
                ("question", "Question", item["question"], discord.TextStyle.short),
                ("answer", "Reference answer", item["answer"], discord.TextStyle.paragraph),
                ("key_points", "Key points, one per line (3 to 6)", "\n".join(item["key_points"]),
                 discord.TextStyle.paragraph)):
            modal.add_item(discord.ui.TextInput(label=label, custom_id=custom_id, style=style, required=False,
                                                default=value[:INPUT_LIMIT], max_length=INPUT_LIMIT))
        modal.stop()
        await interaction.response.send_modal(modal)

    async def _fix(self, interaction: discord.Interaction, flag: str, new: dict[str, Any]) -> None:
        user, admin = _ref(interaction.user), manages_server(interaction)
        [queue] = await self._quick(Request(user, Action.REVIEW, admin=admin))
        item: dict[str, Any] = next((f for f in queue.data.get("flags") or [] if str(f["id"]) == flag), {})
        changes = {k: v for k, v in new.items() if v and v != item.get(k)}
        request = Request(user, Action.REVIEW, op="fix", target=flag, fields=changes, admin=admin)
        await self.bot._run(interaction, request, ephemeral=True)

    # ------------------------------------------------------------------ export and forget

    async def export(self, interaction: discord.Interaction, fmt: str) -> None:
        """/interview export: the user's own file, as a message only they see."""
        await self.bot._run(interaction, Request(_ref(interaction.user), Action.EXPORT, op=fmt), ephemeral=True)

    async def forget(self, interaction: discord.Interaction) -> None:
        """/interview forget: what would be deleted, and the button that deletes it (only the user sees both)."""
        await self.bot._run(interaction, Request(_ref(interaction.user), Action.FORGET), ephemeral=True)
