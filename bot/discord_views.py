"""Discord components: the /interview command group, the session buttons (persistent across restarts), the modal."""

from __future__ import annotations

import re
import weakref
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast
from zoneinfo import available_timezones

import discord
from discord import app_commands

from bot.core.replies import Action, short_turn
from bot.discord_render import NO_MENTIONS

if TYPE_CHECKING:
    from bot.discord_coach import DiscordCoach

NOT_YOURS = "These buttons belong to someone else's interview; start your own with /interview start."
ANSWER_MAX = 4000
MODAL_PREFIX = "coach:modal:"
ANSWER_FIELD = "coach:answer-text"
CURRENT = "*"            # a form opened by /interview answer: for whichever question is open when it is sent
BUTTONS: dict[Action, tuple[str, discord.ButtonStyle]] = {
    Action.ANSWER: ("Answer", discord.ButtonStyle.primary),
    Action.HINT: ("Hint", discord.ButtonStyle.secondary),
    Action.SKIP: ("Skip", discord.ButtonStyle.secondary),
    Action.REVEAL: ("Reveal", discord.ButtonStyle.secondary),
    Action.STOP: ("Stop", discord.ButtonStyle.danger),
    Action.FLAG: ("Flag", discord.ButtonStyle.secondary),
    Action.FORGET: ("Delete my data", discord.ButtonStyle.danger),
}
_ACTIONS = "|".join(a.value for a in BUTTONS)
_MODAL = re.compile(rf"^{MODAL_PREFIX}(?P<owner>[0-9]{{1,20}})(?::(?P<turn>.*))?$")


class Handler(Protocol):
    """What the components call back into: the adapter."""

    async def on_button(self, interaction: discord.Interaction, action: Action, turn: str) -> None: ...


# The buttons are rebuilt from their custom_id by discord.py, so they find their adapter through their client.
_HANDLERS: weakref.WeakKeyDictionary[discord.Client, Handler] = weakref.WeakKeyDictionary()


def register(client: discord.Client, handler: Handler) -> None:
    """Route the client's button presses to the handler; the buttons of any earlier process keep working."""
    _HANDLERS[client] = handler
    client.add_dynamic_items(CoachButton)
    from bot.discord_practice import ReviewButton

    client.add_dynamic_items(ReviewButton)


def custom_id(action: Action, owner: int, turn: str | None = None) -> str:
    """The button's custom_id: the action, the user whose session it acts on, and the question it was made for."""
    return f"coach:{action.value}:{owner}" + (f":{short_turn(turn)}" if turn else "")


class CoachButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=re.compile(rf"coach:(?P<action>{_ACTIONS}):(?P<owner>[0-9]{{1,20}})(?::(?P<turn>.+))?")):
    """A session button; the custom_id carries everything, so it works after a restart."""

    def __init__(self, action: Action, owner: int, turn: str | None = None) -> None:
        label, style = BUTTONS[action]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id(action, owner, turn)))
        self.action = action
        self.owner = owner
        # A button posted before buttons carried their question has none: the coach refuses it as stale.
        self.turn = turn or ""

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> CoachButton:
        """Rebuild the button from a pressed custom_id."""
        return cls(Action(match["action"]), int(match["owner"]), match["turn"])

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Only the session's owner may press its buttons."""
        if interaction.user.id == self.owner:
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return False

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the press to the adapter."""
        handler = _HANDLERS.get(interaction.client)
        if handler is not None:
            await handler.on_button(interaction, self.action, self.turn)


def actions_view(actions: tuple[Action, ...], owner: int, turn: str | None = None) -> discord.ui.View | None:
    """A view with one button per offered action (None when there is none to show)."""
    buttons = [a for a in actions if a in BUTTONS]
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for action in buttons:
        view.add_item(CoachButton(action, owner, turn))
    return view


class AnswerModal(discord.ui.Modal):
    """The answer form: one paragraph field up to 4,000 characters. Its custom_id names its owner and question.

    It is not kept in discord.py's view store: every submission, even one from before a restart, is read by the
    adapter from the custom_id and the field (see `parse_submission`).
    """

    def __init__(self, owner: int, turn: str | None) -> None:
        # One custom_id per user and question: reopening the form replaces the earlier one instead of piling them up.
        super().__init__(title="Your answer", timeout=None,
                         custom_id=f"{MODAL_PREFIX}{owner}:{short_turn(turn) if turn else CURRENT}")
        self.add_item(discord.ui.TextInput(
            label="Answer", style=discord.TextStyle.paragraph, max_length=ANSWER_MAX, required=True,
            custom_id=ANSWER_FIELD, placeholder="Answer in your own words, as you would in an interview."))


def parse_submission(data: dict[str, Any]) -> tuple[int, str | None, str] | None:
    """An answer form's submission as (owner, turn, text); turn None means the open question. None: not ours.

    A form opened before forms carried their question has no turn: it counts as one for an old question ('').
    """
    match = _MODAL.match(str(data.get("custom_id", "")))
    if match is None:
        return None
    turn = match["turn"]
    return int(match["owner"]), None if turn == CURRENT else (turn or ""), _field(data.get("components") or [])


def _field(components: list[dict[str, Any]]) -> str:
    """The answer field's value, wherever Discord nests it (action rows, or labels)."""
    for component in components:
        if component.get("custom_id") == ANSWER_FIELD:
            return str(component.get("value") or "")
        inner = list(component.get("components") or []) + ([component["component"]] if "component" in component else [])
        if inner and (found := _field(inner)):
            return found
    return ""


# ---------------------------------------------------------------------------------------------- commands


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def zone_choices(current: str) -> list[app_commands.Choice[str]]:
    """Up to 25 IANA zones containing the typed text."""
    needle = current.strip().lower()
    return [app_commands.Choice(name=z, value=z) for z in _zones() if needle in z.lower()][:25]


class InterviewGroup(app_commands.Group):
    """/interview: each command hands its interaction to the adapter."""

    def __init__(self, bot: DiscordCoach) -> None:
        super().__init__(name="interview", description="Mock technical interviews and daily practice questions")
        self.bot = bot

    @app_commands.command(description="Start a mock interview in a thread of its own")
    @app_commands.describe(topic="Only questions on this topic", count="How many questions (1-20, default 5)",
                           mode="coach: score and feedback after each answer; interviewer: like a real interview, "
                                "a report at the end")
    async def start(self, interaction: discord.Interaction, topic: str | None = None,
                    count: app_commands.Range[int, 1, 20] = 5,
                    mode: Literal["coach", "interviewer"] = "coach") -> None:
        """Start a mock interview."""
        await self.bot.start_interview(interaction, topic, count, mode)

    @start.autocomplete("topic")
    async def _topics(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """Topic suggestions as the user types."""
        return self.bot.topic_choices(current, interaction)

    @app_commands.command(description="Answer the current question (opens a form)")
    async def answer(self, interaction: discord.Interaction) -> None:
        """Open the answer modal."""
        await self.bot.open_answer(interaction)

    @app_commands.command(description="A hint for the current question")
    async def hint(self, interaction: discord.Interaction) -> None:
        """Ask for a hint."""
        await self.bot.act(interaction, Action.HINT)

    @app_commands.command(description="Skip the current question")
    async def skip(self, interaction: discord.Interaction) -> None:
        """Skip the question."""
        await self.bot.act(interaction, Action.SKIP)

    @app_commands.command(description="Show an example answer (the question counts as skipped)")
    async def reveal(self, interaction: discord.Interaction) -> None:
        """Reveal the reference answer."""
        await self.bot.act(interaction, Action.REVEAL)

    @app_commands.command(description="End the interview and show the report card")
    async def stop(self, interaction: discord.Interaction) -> None:
        """Stop the interview."""
        await self.bot.act(interaction, Action.STOP)

    @app_commands.command(description="Your progress, with a chart")
    async def stats(self, interaction: discord.Interaction) -> None:
        """Show progress."""
        await self.bot.show_stats(interaction)

    @app_commands.command(description="The topics of the question bank")
    async def topics(self, interaction: discord.Interaction) -> None:
        """List the topics."""
        await self.bot.show_topics(interaction)

    @app_commands.command(description="The decks installed; pick the one your questions come from")
    @app_commands.describe(name="A deck; 'default' follows the server's default, 'all' takes every deck",
                           scope="me: your own interviews and daily questions; server: the server's default deck "
                                 "(needs Manage Server)")
    async def deck(self, interaction: discord.Interaction, name: str | None = None,
                   scope: Literal["me", "server"] = "me") -> None:
        """Show or pick a deck."""
        await self.bot.set_deck(interaction, name, scope == "server")

    @deck.autocomplete("name")
    async def _deck_names(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """Deck suggestions as the user types."""
        return self.bot.deck_choices(current)

    @app_commands.command(description="A daily practice question by direct message, at your local time")
    @app_commands.describe(state="Turn daily questions on or off", time="Local time, 24-hour HH:MM (default 09:00)",
                           timezone="Your IANA time zone, such as Europe/Paris (default UTC)")
    async def daily(self, interaction: discord.Interaction, state: Literal["on", "off"], time: str | None = None,
                    timezone: str | None = None) -> None:
        """Turn the daily question on or off."""
        await self.bot.set_daily(interaction, state == "on", time, timezone)

    @app_commands.command(description="Report the current question as wrong; a reviewer will fix it")
    @app_commands.describe(reason="What is wrong with the question")
    async def flag(self, interaction: discord.Interaction, reason: app_commands.Range[str, 1, 1000]) -> None:
        """Flag the open question (or the last one answered)."""
        await self.bot.practice.flag(interaction, reason)

    @app_commands.command(description="The flagged questions, to fix or dismiss (Manage Server)")
    async def review(self, interaction: discord.Interaction) -> None:
        """The review queue."""
        await self.bot.practice.review(interaction)

    @app_commands.command(description="Your answers, scores and feedback as a file, for you alone")
    @app_commands.describe(format="jsonl, csv, or anki (a deck of the key points you missed)")
    async def export(self, interaction: discord.Interaction, format: Literal["jsonl", "csv", "anki"] = "jsonl") -> None:
        """Export the user's own data."""
        await self.bot.practice.export(interaction, format)

    @app_commands.command(description="Delete everything stored about you (asks first)")
    async def forget(self, interaction: discord.Interaction) -> None:
        """Delete the user's data after a confirmation."""
        await self.bot.practice.forget(interaction)

    @daily.autocomplete("timezone")
    async def _zone_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """Time zone suggestions as the user types."""
        return zone_choices(current)


def build_tree(client: discord.Client, bot: DiscordCoach) -> app_commands.CommandTree[Any]:
    """The client's command tree with the /interview group."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    tree.add_command(InterviewGroup(bot))
    return tree


def tree_payload(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    """The application commands of a tree, as Discord receives them."""
    return [command.to_dict(tree) for command in tree.get_commands()]


def command_payload() -> list[dict[str, Any]]:
    """The application commands as discord.py would sync them (the same tree as the bot's)."""
    client = discord.Client(intents=discord.Intents.none())
    # The payload depends only on the command signatures: no engine is loaded and no adapter is needed.
    return tree_payload(build_tree(client, cast("DiscordCoach", None)))
