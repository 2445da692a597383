"""Slack: team practice in a channel, flags and their review, export and forget; translation only.

Who may review or run a team is the engine's rule; this module only asks Slack the facts it needs (is the user a
workspace admin or owner, is the app in the channel) and hands them over in the request.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.core.team import team_turn
from bot.slack_blocks import answer_modal, escape, section, text_sections

if TYPE_CHECKING:
    from bot.core.coach import Coach
    from bot.slack_handlers import SlackCoach

log = logging.getLogger(__name__)
FLAG_MODAL, REVIEW_MODAL = "coach_flag_modal", "coach_review_modal"
TEAM_ANSWER, TEAM_DM = "coach_team_answer", "coach_team_dm"
REVIEW_FIX, REVIEW_DISMISS, FORGET_CONFIRM = "coach_review_fix", "coach_review_dismiss", "coach_forget"
SHARE = "coach_share"
CHANNEL = re.compile(r"^<#(?P<id>[CG][A-Z0-9]+)(?:\|[^>]*)?>$")
TEAM_OPS = ("stop", "pause", "resume", "status")
PLAIN_CHANNEL = ("Pick the channel from the list Slack shows as you type # (so that it becomes a link), or run the "
                 "command in that channel.")


def _ephemeral(mrkdwn: str, blocks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"text": mrkdwn[:3000], "blocks": blocks or [section(mrkdwn[:3000])], "response_type": "ephemeral",
            "replace_original": False}


def _input(block_id: str, label: str, initial: str = "", *, multiline: bool = True, optional: bool = False,
           limit: int = 3000) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "text", "multiline": multiline,
                               "max_length": limit}
    if initial:
        element["initial_value"] = initial[:limit]
    return {"type": "input", "block_id": block_id, "optional": optional, "element": element,
            "label": {"type": "plain_text", "text": label}}


def _modal(callback_id: str, title: str, blocks: list[dict[str, Any]], metadata: dict[str, Any]) -> dict[str, Any]:
    return {"type": "modal", "callback_id": callback_id, "title": {"type": "plain_text", "text": title},
            "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
            "private_metadata": json.dumps(metadata)[:3000], "blocks": blocks}


def _value(view: dict[str, Any], block_id: str) -> str:
    return str(((view["state"]["values"].get(block_id) or {}).get("text") or {}).get("value") or "")


class SlackPractice:
    """Handlers of the team, flag, review, export and forget requests."""

    def __init__(self, coach: Coach, handlers: SlackCoach) -> None:
        self.coach = coach
        self.handlers = handlers
        self.poster = handlers.poster

    # ------------------------------------------------------------------ facts Slack knows

    def is_admin(self, user_id: str) -> bool:
        """Whether Slack says the user is a workspace admin or owner."""
        return self.handlers.is_admin(user_id)

    def is_member(self, channel: str) -> bool:
        """Whether the app is in the channel (a channel it cannot even see counts as no)."""
        try:
            return bool(self.poster.client.conversations_info(channel=channel)["channel"].get("is_member"))
        except SlackApiError as exc:
            log.info("conversations.info failed for %s: %s", channel, exc.response.get("error"))
            return False

    def name(self, user_id: str) -> str:
        """The name a user shows the team (never a mention, which would ping)."""
        try:
            user = self.poster.client.users_info(user=user_id)["user"]
        except SlackApiError:
            return "A teammate"
        profile = user.get("profile") or {}
        return str(profile.get("display_name") or user.get("real_name") or user.get("name") or "A teammate")

    def _text(self, request: Request) -> str:
        return escape("\n".join(r.text for r in self.coach.act(request)))

    # ------------------------------------------------------------------ /interview team|flag|review|export|forget

    def on_command(self, sub: str, args: list[str], command: dict[str, Any], respond: Callable[..., Any]) -> None:
        """One of this module's sub-commands."""
        user_id, channel_id = command["user_id"], command.get("channel_id")
        ref = UserRef("slack", user_id)
        if sub == "team":
            respond(**_ephemeral(self.team(user_id, channel_id, args)))
        elif sub == "flag":
            self.handlers._in_dm(Request(ref, Action.FLAG, text=" ".join(args)), respond, channel_id)
        elif sub == "review":
            respond(**self.review_message(user_id))
        elif sub == "export":
            respond(**_ephemeral(self.export(user_id, args[0] if args else "jsonl")))
        elif sub == "forget":
            [reply] = self.coach.act(Request(ref, Action.FORGET))
            buttons = [{"type": "actions", "elements": [{
                "type": "button", "action_id": FORGET_CONFIRM, "value": "confirm", "style": "danger",
                "text": {"type": "plain_text", "text": "Delete my data"}}]}] if reply.actions else []
            respond(**_ephemeral(escape(reply.text), [section(escape(reply.text)), *buttons]))

    def team(self, user_id: str, channel_id: str | None, args: list[str]) -> str:
        """`team [#channel] HH:MM [Zone]`, `team stop|pause|resume|status [#channel]`."""
        words = list(args)
        place = channel_id if channel_id and not channel_id.startswith("D") else None
        op = "setup"
        if words and words[0].lower() in TEAM_OPS:
            op = words.pop(0).lower()
        if words and words[0].startswith("<#"):
            match = CHANNEL.match(words.pop(0))
            place = match["id"] if match else None
        elif words and words[0].startswith("#"):
            return PLAIN_CHANNEL
        if op == "setup" and not words:
            op = "status"
        time = words[0] if words else None
        zone = words[1] if len(words) > 1 else None
        if op == "setup" and zone is None:
            zone = self.handlers.time_zone(user_id)   # one zone per team: the manager's, unless named
        admin = op != "status" and self.is_admin(user_id)
        present = op != "setup" or place is None or self.is_member(place)
        request = Request(UserRef("slack", user_id), Action.TEAM, op=op, place=place, time=time, zone=zone,
                          admin=admin, present=present)
        return self._text(request)

    def export(self, user_id: str, fmt: str) -> str:
        """The user's own data, uploaded to their DM; the reply for where the command was typed."""
        replies = list(self.coach.act(Request(UserRef("slack", user_id), Action.EXPORT, op=fmt.lower())))
        file = next((r for r in replies if r.kind is ReplyKind.FILE), None)
        if file is None:
            return escape(replies[-1].text)
        channel = self.poster.dm_channel(user_id)
        self.poster.client.files_upload_v2(channel=channel, content=file.data["content"],
                                           filename=file.data["filename"], title=file.data["filename"],
                                           initial_comment=escape(file.text))
        return "Your export is in our direct messages (the *Messages* tab of Interview Coach); only you can see it."

    # ------------------------------------------------------------------ the review queue

    def review_message(self, user_id: str) -> dict[str, Any]:
        """The queue, with Fix and Dismiss buttons per flag, for the reviewer alone."""
        [reply] = self.coach.act(Request(UserRef("slack", user_id), Action.REVIEW, admin=self.is_admin(user_id)))
        flags = reply.data.get("flags") or []
        blocks = [section(escape(reply.text.splitlines()[0]))]
        for item in flags[:20]:
            blocks += text_sections(f"#{item['id']} · {item['question_id']}: {item['question'] or '(gone)'}\n"
                                    f"Reason: {item['reason']}", 2)
            blocks.append({"type": "actions", "elements": [
                {"type": "button", "action_id": REVIEW_FIX, "value": str(item["id"]),
                 "text": {"type": "plain_text", "text": "Fix"}},
                {"type": "button", "action_id": REVIEW_DISMISS, "value": str(item["id"]),
                 "text": {"type": "plain_text", "text": "Dismiss"}}]})
        return _ephemeral(escape(reply.text.splitlines()[0]), blocks[:50])

    def open_fix_modal(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Fix: the question, reference answer and key points in a form, filled in (reviewers only)."""
        ack()
        user_id, flag_id = body["user"]["id"], body["actions"][0].get("value", "")
        [reply] = self.coach.act(Request(UserRef("slack", user_id), Action.REVIEW, admin=self.is_admin(user_id)))
        item = next((f for f in reply.data.get("flags") or [] if str(f["id"]) == flag_id), None)
        if reply.kind is ReplyKind.ERROR or item is None or not item["question"]:
            self.poster.say(self.poster.dm_channel(user_id), escape(reply.text if reply.kind is ReplyKind.ERROR
                                                                    else "That flag is no longer open."))
            return
        blocks = [_input("question", "Question", item["question"], multiline=False, limit=500),
                  _input("answer", "Reference answer", item["answer"]),
                  _input("key_points", "Key points, one per line (3 to 6)", "\n".join(item["key_points"]),
                         optional=True)]
        try:
            client.views_open(trigger_id=body["trigger_id"],
                              view=_modal(REVIEW_MODAL, f"Fix flag #{flag_id}", blocks, {"flag": flag_id}))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))

    def on_fix_submitted(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The fix form: only what changed is sent; the result goes to the reviewer's DM."""
        user_id = body["user"]["id"]
        flag_id = str(json.loads(view.get("private_metadata") or "{}").get("flag", ""))
        [reply] = self.coach.act(Request(UserRef("slack", user_id), Action.REVIEW, admin=self.is_admin(user_id)))
        item: dict[str, Any] = next((f for f in reply.data.get("flags") or [] if str(f["id"]) == flag_id), {})
        new = {"question": _value(view, "question").strip(), "answer": _value(view, "answer").strip(),
               "key_points": [p.strip() for p in _value(view, "key_points").splitlines() if p.strip()]}
        changes = {k: v for k, v in new.items() if v and v != item.get(k)}
        request = Request(UserRef("slack", user_id), Action.REVIEW, op="fix", target=flag_id, fields=changes,
                          admin=self.is_admin(user_id))
        self.poster.say(self.poster.dm_channel(user_id), self._text(request))

    def on_dismiss(self, body: dict[str, Any], respond: Callable[..., Any]) -> None:
        """Dismiss one flag (reviewers only)."""
        user_id = body["user"]["id"]
        request = Request(UserRef("slack", user_id), Action.REVIEW, op="dismiss",
                          target=body["actions"][0].get("value", ""), admin=self.is_admin(user_id))
        respond(**_ephemeral(self._text(request)))

    # ------------------------------------------------------------------ buttons: flag, team, share, forget

    def open_flag_modal(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Flag under a question: a form for the reason, carrying the question it was pressed on."""
        ack()
        metadata = {"turn": body["actions"][0].get("value", ""), "channel": (body.get("channel") or {}).get("id")}
        view = _modal(FLAG_MODAL, "Flag this question",
                      [section("What is wrong with this question? A reviewer will fix it or dismiss the flag; "
                               "until then it leaves your practice."), _input("reason", "Reason", limit=1000)],
                      metadata)
        try:
            client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))

    def on_flag_submitted(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The flag's reason: the replies go to the user's DM."""
        user_id = body["user"]["id"]
        meta = json.loads(view.get("private_metadata") or "{}")
        request = Request(UserRef("slack", user_id), Action.FLAG, text=_value(view, "reason"),
                          turn=str(meta.get("turn") or "") or None)
        self.handlers.run(request, self.poster.dm_channel(user_id), None)

    def open_team_answer(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Answer on a team question in the channel: the private answer form (feedback comes by DM)."""
        ack()
        message = body.get("message") or {}
        metadata = {"team": True, "value": body["actions"][0].get("value", "")}
        question = (message.get("text") or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        try:
            client.views_open(trigger_id=body["trigger_id"], view=answer_modal(question, metadata))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))

    def on_team_dm(self, body: dict[str, Any]) -> None:
        """Answer by DM: the team question in the member's DM, answered in its thread."""
        user_id = body["user"]["id"]
        turn = body["actions"][0].get("value", "")
        channel = self.poster.dm_channel(user_id)
        try:
            reply = self.coach.teams.question_for(turn)
        except Exception as exc:  # noqa: BLE001 - the engine's sentence (closed question) for the user
            reply = Reply(ReplyKind.ERROR, str(exc))
        self.poster.post(channel, reply)

    def on_share(self, body: dict[str, Any]) -> None:
        """Share: the member's own answer and score in the team question's thread."""
        user_id = body["user"]["id"]
        request = Request(UserRef("slack", user_id), Action.SHARE, target=body["actions"][0].get("value", ""),
                          name=self.name(user_id))
        dm = self.poster.dm_channel(user_id)
        for reply in self.coach.act(request):
            if reply.kind is ReplyKind.SHARED:
                self.poster.post(str(reply.data["place"]), reply, thread_ts=str(reply.data["message_ref"]))
            else:
                self.poster.post(dm, reply)

    def on_forget(self, body: dict[str, Any], respond: Callable[..., Any]) -> None:
        """Delete my data, pressed: the presser's own data, whoever's message the button was on."""
        request = Request(UserRef("slack", body["user"]["id"]), Action.FORGET, confirm=True)
        respond(**_ephemeral(self._text(request)))


def team_message(reply: Reply, day: str) -> dict[str, Any]:
    """The team's question in the channel: its text and the two private ways to answer."""
    turn = team_turn(int(reply.data["session_id"]), str(reply.data["question_id"]))
    text = f"Team question of {day}\n\n{reply.data.get('question') or reply.text}"
    blocks = text_sections(text, 10, bold_first=True) + [
        section("_Answer privately: only you see your answer and your feedback. Tomorrow this thread gets the "
                "anonymous results and an example answer._"),
        {"type": "actions", "block_id": "coach_team", "elements": [
            {"type": "button", "action_id": TEAM_ANSWER, "value": turn, "style": "primary",
             "text": {"type": "plain_text", "text": "Answer privately"}},
            {"type": "button", "action_id": TEAM_DM, "value": turn,
             "text": {"type": "plain_text", "text": "Answer by DM"}}]}]
    return {"text": escape(text)[:3000], "blocks": blocks}
