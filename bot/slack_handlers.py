"""Slack events as coach requests, and the coach's replies as messages in the user's DM.

Each handler runs in a Bolt lazy listener, after Slack's request was acknowledged. It translates only: the
rules (busy users, stale buttons and threads, empty or file-only answers, daily settings) are the coach's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.errors import FAILED
from bot.slack_blocks import (
    ACTION_ID,
    ANSWER_BLOCK,
    ANSWER_INPUT,
    HELP,
    SEND_CHART,
    answer_modal,
    escape,
    home_view,
    section,
    text_sections,
)
from bot.slack_messages import SlackPoster

if TYPE_CHECKING:
    from bot.core.coach import Coach

log = logging.getLogger(__name__)
PLATFORM = "slack"
# Replies that belong under the message they answer; questions and report cards start a new line of talk.
THREADED = {ReplyKind.SCORE, ReplyKind.CRITIQUE, ReplyKind.FOLLOW_UP, ReplyKind.HINT, ReplyKind.REVEAL,
            ReplyKind.SKIPPED, ReplyKind.ERROR}
# A plain message, a thread reply also sent to the conversation, or a message with a file attached.
ANSWER_SUBTYPES = {None, "thread_broadcast", "file_share"}
ANSWER_BUTTON = ACTION_ID.format(Action.ANSWER.value)
ELSEWHERE = "Sent to our direct messages (the *Messages* tab of Interview Coach)."
MODES = {"coach", "interviewer"}
WORKSPACE = {"workspace", "team"}   # `/interview deck NAME workspace`: the workspace's default deck


def user_ref(user_id: str) -> UserRef:
    """The engine's reference for a Slack user."""
    return UserRef(PLATFORM, user_id)


def thread_turn(messages: list[dict[str, Any]]) -> str:
    """The turn a thread is at: the value of the Answer button of its latest question or follow-up ('' if none)."""
    for message in reversed(messages):
        for block in message.get("blocks") or []:
            for element in block.get("elements") or [] if block.get("type") == "actions" else []:
                if element.get("action_id") == ANSWER_BUTTON and element.get("value"):
                    return str(element["value"])
    return ""


class SlackCoach:
    """Handlers: each turns one Slack request into a coach request and posts the replies in the user's DM."""

    def __init__(self, coach: Coach, poster: SlackPoster) -> None:
        from bot.slack_practice import SlackPractice

        self.coach = coach
        self.poster = poster
        self.practice = SlackPractice(coach, self)

    # ------------------------------------------------------------------ running a request

    def run(self, request: Request, channel: str, thread_ts: str | None, *, echo: str | None = None) -> list[Reply]:
        """Run one request; its replies in the DM (threaded kinds under `thread_ts`), the critique streamed."""
        answering = request.action is Action.ANSWER
        stream = self.poster.stream(channel, thread_ts) if answering else None
        replies: list[Reply] = []
        try:
            for reply in self.coach.act(request, on_token=stream.feed if stream else None):
                if echo is not None and reply.kind is not ReplyKind.ERROR:
                    self._echo(channel, thread_ts, echo)   # a form leaves no trace in the conversation
                echo = None
                replies.append(reply)
                if stream is not None and reply.kind is ReplyKind.CRITIQUE:
                    stream.finish(reply)
                else:
                    threaded = reply.kind in THREADED or "timing" in reply.data   # "Noted (1:42)." under the answer
                    self.poster.post(channel, reply, thread_ts=thread_ts if threaded else None)
        except Exception:  # Slack refused a post: the engine's work is committed, so say so if we still can
            log.exception("Posting the replies of %s failed", request.action.value)
            with suppress(Exception):
                self.poster.post(channel, Reply(ReplyKind.ERROR, FAILED), thread_ts=thread_ts)
        finally:
            if stream is not None:
                stream.close()
        return replies

    def _echo(self, channel: str, thread_ts: str | None, text: str) -> None:
        self.poster.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text="Your answer",
                                            blocks=[section("*Your answer:*")] + text_sections(text, 10))

    # ------------------------------------------------------------------ answers

    def on_message(self, event: dict[str, Any]) -> None:
        """A DM from a person is an answer: at the top level to the open question, in a thread to that thread's."""
        if event.get("bot_id") or event.get("subtype") not in ANSWER_SUBTYPES or event.get("channel_type") != "im" \
                or not event.get("user"):
            return  # the bot's own messages, other bots, edits and deletions are not answers
        channel, ts = event["channel"], event.get("ts")
        thread = event.get("thread_ts")
        turn = self._thread_turn(channel, thread) if thread and thread != ts else None
        request = Request(user_ref(event["user"]), Action.ANSWER, text=event.get("text") or "", turn=turn,
                          place=channel, files=len(event.get("files") or []))
        self.run(request, channel, thread or ts)

    def _thread_turn(self, channel: str, thread_ts: str) -> str | None:
        """The turn of the question a thread reply answers (None, the open one, when Slack cannot tell us)."""
        try:
            page = self.poster.client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
        except SlackApiError as exc:
            log.warning("conversations.replies failed for %s: %s", channel, exc.response.get("error"))
            return None
        return thread_turn(page.get("messages") or [])

    def open_answer_modal(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Answer button: ack and open the modal at once (the trigger_id expires after 3 seconds)."""
        ack()
        message = body.get("message") or {}
        action = body["actions"][0]
        question = (message.get("text") or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        metadata = {"channel": body["channel"]["id"], "thread_ts": message.get("thread_ts") or message.get("ts"),
                    "value": action.get("value", "")}
        try:
            client.views_open(trigger_id=body["trigger_id"], view=answer_modal(question, metadata))
        except SlackApiError as exc:
            # Already acknowledged: Slack shows no error, and a reply in the thread still counts as the answer.
            log.warning("views.open failed: %s", exc.response.get("error"))

    def on_answer_submitted(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The modal's answer, for the question its button was made for: echoed in the thread, then graded."""
        user_id = body["user"]["id"]
        meta = json.loads(view.get("private_metadata") or "{}")
        text = view["state"]["values"][ANSWER_BLOCK][ANSWER_INPUT].get("value") or ""
        channel = meta.get("channel") or self.poster.dm_channel(user_id)
        if meta.get("team"):   # a team question's form, opened in the channel: everything stays private
            channel, meta["thread_ts"] = self.poster.dm_channel(user_id), None
        request = Request(user_ref(user_id), Action.ANSWER, text=text, turn=str(meta.get("value") or ""))
        self.run(request, channel, meta.get("thread_ts"), echo=text)

    # ------------------------------------------------------------------ buttons

    def on_button(self, body: dict[str, Any]) -> None:
        """Hint, Skip, Reveal, Stop on a question; "New interview" on a report card or the Home tab."""
        user_id = body["user"]["id"]
        action = body["actions"][0]
        name = Action(action["action_id"].removeprefix("coach_"))
        if name is Action.START:
            self.start(user_id, "", None)
            return
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or self.poster.dm_channel(user_id)
        request = Request(user_ref(user_id), name, turn=str(action.get("value") or ""))
        self.run(request, channel, message.get("thread_ts") or message.get("ts"))

    # ------------------------------------------------------------------ the slash command

    def on_command(self, command: dict[str, Any], respond: Callable[..., Any]) -> None:
        """`/interview start|stop|stats|daily|topics|deck|help`."""
        user_id, team = command["user_id"], command.get("team_id")
        words = (command.get("text") or "").split()
        sub, args = (words[0].lower(), words[1:]) if words else ("help", [])
        if sub == "start":
            self.start(user_id, " ".join(args), respond, command.get("channel_id"), team)
        elif sub in ("stop", "stats"):
            self._in_dm(Request(user_ref(user_id), Action(sub)), respond, command.get("channel_id"))
        elif sub == "daily":
            respond(**_ephemeral(self.daily(user_id, args, team)))
        elif sub in ("team", "flag", "review", "export", "forget"):
            self.practice.on_command(sub, args, command, respond)
        elif sub == "topics":
            respond(**_ephemeral(self._text(Request(user_ref(user_id), Action.TOPICS, space=team))))
        elif sub == "deck":
            respond(**_ephemeral(self.deck(user_id, args, team)))
        else:
            respond(**_ephemeral(HELP))

    def start(self, user_id: str, args: str, respond: Callable[..., Any] | None,
              channel_id: str | None = None, team: str | None = None) -> None:
        """Open a mock interview in the user's DM: `[interviewer|coach] [topic] [count]` in any order."""
        words = args.split()
        modes = [w.lower().removeprefix("mode:") for w in words if w.lower().removeprefix("mode:") in MODES]
        counts = [int(w) for w in words if w.isdigit()]
        topic = " ".join(w for w in words if not w.isdigit() and w.lower().removeprefix("mode:") not in MODES) or None
        request = Request(user_ref(user_id), Action.START, topic=topic, count=counts[0] if counts else None,
                          place=self.poster.dm_channel(user_id), mode=modes[0] if modes else None, space=team)
        self._in_dm(request, respond, channel_id)

    def _in_dm(self, request: Request, respond: Callable[..., Any] | None, channel_id: str | None) -> None:
        """Run a request whose replies go to the user's DM; say so where the command was typed elsewhere."""
        channel = self.poster.dm_channel(request.user.user_id)
        self.run(request, channel, None)
        if respond is not None and channel_id and channel_id != channel:
            respond(**_ephemeral(ELSEWHERE))

    def _text(self, request: Request) -> str:
        """The replies of a quick request as one escaped mrkdwn text."""
        return escape("\n".join(reply.text for reply in self.coach.act(request)))

    def daily(self, user_id: str, args: list[str], team: str | None = None) -> str:
        """`daily on [HH:MM]` / `daily off`: the daily question in the user's Slack time zone; returns mrkdwn."""
        if not args or args[0].lower() not in ("on", "off"):
            return "Use `/interview daily on [HH:MM]` or `/interview daily off`."
        on = args[0].lower() == "on"
        request = Request(user_ref(user_id), Action.DAILY, daily=on, time=args[1] if on and len(args) > 1 else None,
                          zone=self.time_zone(user_id) if on else None, space=team)
        return self._text(request)

    def deck(self, user_id: str, args: list[str], team: str | None) -> str:
        """`deck` shows the decks, `deck NAME` picks one's own, `deck NAME workspace` sets the workspace's default."""
        for_space = any(w.lower() in WORKSPACE for w in args)
        names = [w for w in args if w.lower() not in WORKSPACE]
        if len(names) > 1:
            return "Use `/interview deck [name]`, or `/interview deck name workspace` for the workspace's default."
        request = Request(user_ref(user_id), Action.DECK, deck=names[0] if names else None, space=team,
                          for_space=for_space, admin=for_space and self.is_admin(user_id))
        return self._text(request)

    def is_admin(self, user_id: str) -> bool:
        """Whether Slack says the user is a workspace admin or owner (users.info); the core adds the listed ones."""
        try:
            user = self.poster.client.users_info(user=user_id)["user"]
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return False
        return bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))

    def time_zone(self, user_id: str) -> str | None:
        """The user's IANA time zone from their Slack profile (users.info), None if Slack does not say."""
        try:
            return self.poster.client.users_info(user=user_id)["user"].get("tz") or None
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return None

    # ------------------------------------------------------------------ App Home

    def on_home_opened(self, event: dict[str, Any]) -> None:
        """Publish the Home tab when the user opens it (the Messages tab sends the same event)."""
        if event.get("tab", "home") == "home":
            self.publish_home(event["user"])

    def publish_home(self, user_id: str, *, zone: str | None = None) -> None:
        """The user's progress as text, the daily question's state and next time, and buttons (views.publish)."""
        ref = user_ref(user_id)
        # The time zone follows the Slack profile (the user may have travelled).
        [daily] = self.coach.act(Request(ref, Action.DAILY, zone=zone or self.time_zone(user_id)))
        [stats] = self.coach.act(Request(ref, Action.STATS, chart=False))
        view = home_view(stats.text, daily.text, bool(daily.data.get("daily_on")))
        self.poster.client.views_publish(user_id=user_id, view=view)

    def on_home_button(self, body: dict[str, Any]) -> None:
        """"Send my chart" DMs the PNG; the daily toggle turns daily questions on or off, then refreshes Home."""
        user_id = body["user"]["id"]
        action = body["actions"][0]
        ref = user_ref(user_id)
        if action["action_id"] == SEND_CHART:
            self._in_dm(Request(ref, Action.STATS), None, None)
            return
        on = action.get("value") == "on"
        zone = self.time_zone(user_id) if on else None
        list(self.coach.act(Request(ref, Action.DAILY, daily=on, zone=zone)))
        self.publish_home(user_id, zone=zone)


def _ephemeral(mrkdwn: str) -> dict[str, Any]:
    """respond() arguments: a message only the user sees."""
    return {"text": mrkdwn, "blocks": [section(mrkdwn)], "response_type": "ephemeral", "replace_original": False}
