"""Block Kit for the Slack adapter: engine replies as messages, the answer modal and the App Home view.

Everything here is a pure function of engine values, so Slack's limits are checked without a network.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.core.replies import Action, Reply, ReplyKind

SECTION_LIMIT = 3000       # characters of one section's text
MESSAGE_BLOCKS = 50        # blocks in one message
HOME_BLOCKS = 100          # blocks in a Home tab or modal view
FALLBACK_LIMIT = 3000      # the notification text; Slack truncates long top-level text anyway
ANSWER_LIMIT = 3000        # characters of the Answer modal's field
CUT_NOTE = "… _(cut: too long for one Slack message)_"

ACTION_ID = "coach_{}"     # button action ids: coach_answer, coach_hint, ...
ANSWER_MODAL = "coach_answer_modal"
ANSWER_BLOCK, ANSWER_INPUT = "answer", "text"
DAILY_TOGGLE, SEND_CHART = "coach_daily_toggle", "coach_send_chart"

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_LABELS = {Action.ANSWER: "Answer", Action.HINT: "Hint", Action.SKIP: "Skip", Action.REVEAL: "Reveal",
           Action.STOP: "Stop", Action.START: "New interview", Action.FLAG: "Flag",
           Action.SHARE: "Share with the team", Action.FORGET: "Delete my data"}
_BOLD_FIRST_LINE = {ReplyKind.QUESTION, ReplyKind.FOLLOW_UP, ReplyKind.SCORE, ReplyKind.REPORT}

HELP = ("*Interview Coach*\n"
        "`/interview start [topic] [count]` — a mock interview in our DM (default 5 questions)\n"
        "`/interview start interviewer [topic] [count]` — like a real interview: follow-ups, a time budget per "
        "question, no score until the report at the end\n"
        "`/interview stop` — end the interview and get the report card\n"
        "`/interview stats` — your progress, with a chart\n"
        "`/interview daily on [HH:MM]` — one question a day at that time in your Slack time zone\n"
        "`/interview daily off` — no more daily questions\n"
        "`/interview topics` — the topics you can choose\n"
        "`/interview flag REASON` — report the current question as wrong (or use its Flag button)\n"
        "`/interview export [jsonl|csv|anki]` — your answers, scores and feedback as a file, by DM\n"
        "`/interview forget` — delete everything stored about you (asks first)\n"
        "`/interview review` — the flagged questions (reviewers)\n"
        "`/interview team #channel HH:MM [Zone]` — a team question every work day (admins); "
        "`team stop|pause|resume|status`\n"
        "`/interview deck [name]` — the decks, or pick yours (`default`: the workspace's; `all`: every deck); "
        "`/interview deck name workspace` sets the workspace's default (admins)\n"
        "Answer by replying in our DM (or in the question's thread), or with the question's Answer button.")


def escape(text: str) -> str:
    """Escape &, < and > so user and model text never becomes a mention, a link or a broadcast."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def _split_line(line: str, limit: int) -> list[str]:
    """An escaped line in pieces of at most `limit` characters, never cutting inside an entity."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for ch in line:
        piece = _ESCAPES.get(ch, ch)
        if size + len(piece) > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(piece)
        size += len(piece)
    pieces.append("".join(current))
    return pieces


def chunks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Escaped text in pieces of at most `limit` characters, cut at line ends where possible."""
    out: list[str] = []
    current: str | None = None
    for line in text.split("\n"):
        for piece in _split_line(line, limit):
            if current is None:
                current = piece
            elif len(current) + 1 + len(piece) <= limit:
                current = f"{current}\n{piece}"
            else:
                out.append(current)
                current = piece
    if current is not None and current.strip():
        out.append(current)
    return [c for c in out if c.strip()]


def _cut(escaped: str, limit: int) -> str:
    """Escaped text cut to `limit` characters without leaving half an entity such as "&am"."""
    cut = escaped[:limit]
    amp = cut.rfind("&")
    return cut[:amp] if amp != -1 and ";" not in cut[amp:] else cut


def section(mrkdwn: str) -> dict[str, Any]:
    """One mrkdwn section; the caller has escaped the text and kept it within the limit."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn or " "}}


def text_sections(text: str, max_blocks: int, *, bold_first: bool = False) -> list[dict[str, Any]]:
    """Sections for a text, at most `max_blocks` of them; a note says when the text was cut."""
    parts = chunks(text)
    if bold_first and parts:
        # The first line is a heading ("Question 2 of 5 …", "Score: 70/100"): bold it when that is safe.
        first, newline, rest = parts[0].partition("\n")
        if first.strip() and "*" not in first and len(parts[0]) + 2 <= SECTION_LIMIT:
            parts[0] = f"*{first}*{newline}{rest}"
    if len(parts) > max_blocks:
        parts = parts[:max_blocks]
        parts[-1] = _cut(parts[-1], SECTION_LIMIT - len(CUT_NOTE)) + CUT_NOTE
    return [section(p) for p in parts]


def button_value(reply: Reply, action: Action | None = None) -> str:
    """What a button carries: the turn it was made for, so the coach can refuse a click on an old question (Share:
    the answer it shares)."""
    if action is Action.SHARE:
        return str(reply.data.get("attempt_id") or "")
    return reply.turn or ""


def actions_block(reply: Reply) -> dict[str, Any] | None:
    """The reply's actions as buttons, or None when it offers none."""
    if not reply.actions:
        return None
    elements = []
    for action in reply.actions[:25]:
        value = button_value(reply, action)
        button: dict[str, Any] = {"type": "button", "action_id": ACTION_ID.format(action.value), "value": value,
                                  "text": {"type": "plain_text", "text": _LABELS.get(action, action.value.title())}}
        if action in (Action.ANSWER, Action.START):
            button["style"] = "primary"
        elements.append(button)
    return {"type": "actions", "block_id": f"coach_{reply.kind.value}", "elements": elements}


def reply_text(reply: Reply) -> str:
    """The text shown for a reply (the engine's critique text already keeps the streamed strengths)."""
    return reply.text


def deadline_block(reply: Reply) -> dict[str, Any] | None:
    """An interviewer-mode question's time budget, shown by Slack in the reader's own time zone."""
    deadline = reply.data.get("deadline")
    if not deadline:
        return None
    when = int(deadline)
    fallback = datetime.fromtimestamp(when, UTC).strftime("%H:%M UTC")
    return {"type": "context", "elements": [{"type": "mrkdwn", "text":
            f"Time is up at <!date^{when}^{{time}}|{fallback}>; a late answer still counts."}]}


def reply_blocks(reply: Reply) -> list[dict[str, Any]]:
    """A reply as Block Kit: its text in sections, then its buttons; never over 50 blocks."""
    actions = actions_block(reply)
    deadline = deadline_block(reply)
    extra = [b for b in (deadline, actions) if b is not None]
    room = MESSAGE_BLOCKS - len(extra)
    blocks = text_sections(reply_text(reply), room, bold_first=reply.kind in _BOLD_FIRST_LINE)
    return blocks + extra


def fallback_text(text: str) -> str:
    """The plain `text` of a message (notifications, screen readers): escaped and clipped."""
    first = chunks(text, FALLBACK_LIMIT)
    return first[0] if first else " "


def message(reply: Reply) -> dict[str, Any]:
    """chat.postMessage / chat.update arguments for a reply (without channel and thread)."""
    return {"text": fallback_text(reply_text(reply)), "blocks": reply_blocks(reply)}


def plain_message(text: str) -> dict[str, Any]:
    """Message arguments for adapter text that is already mrkdwn (help, pointers): not escaped."""
    return {"text": text[:FALLBACK_LIMIT], "blocks": [section(text[:SECTION_LIMIT])]}


def streaming_message(partial: str) -> dict[str, Any]:
    """The critique message while the model is still writing it."""
    body = partial.strip()
    head = "_Writing feedback…_"
    sections = text_sections(body, MESSAGE_BLOCKS - 1) if body else []
    return {"text": "Writing feedback…", "blocks": [section(head)] + sections}


def answer_modal(question: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """The Answer modal: the question, and one paragraph field of at most 3,000 characters."""
    shown = chunks(question, SECTION_LIMIT)
    return {
        "type": "modal",
        "callback_id": ANSWER_MODAL,
        "title": {"type": "plain_text", "text": "Your answer"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata)[:3000],
        "blocks": [section(shown[0] if shown else "Your answer")] + [{
            "type": "input",
            "block_id": ANSWER_BLOCK,
            "label": {"type": "plain_text", "text": "Answer"},
            "element": {"type": "plain_text_input", "action_id": ANSWER_INPUT, "multiline": True,
                        "min_length": 1, "max_length": ANSWER_LIMIT,
                        "placeholder": {"type": "plain_text", "text": "Answer in your own words."}},
        }],
    }


def home_view(stats_text: str, daily_line: str, daily_on: bool) -> dict[str, Any]:
    """The App Home tab: progress as text, the daily question's state, and buttons."""
    toggle = {"type": "button", "action_id": DAILY_TOGGLE, "value": "off" if daily_on else "on",
              "text": {"type": "plain_text", "text": "Turn daily questions off" if daily_on
                       else "Turn daily questions on"}}
    if not daily_on:
        toggle["style"] = "primary"
    buttons = [toggle,
               {"type": "button", "action_id": SEND_CHART, "value": "chart",
                "text": {"type": "plain_text", "text": "Send my chart"}},
               {"type": "button", "action_id": ACTION_ID.format(Action.START.value), "value": "home",
                "text": {"type": "plain_text", "text": "Start an interview"}}]
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": "Interview Coach"}}]
    blocks += text_sections(stats_text, HOME_BLOCKS - 6)
    blocks += [{"type": "divider"}, section(escape(daily_line)), {"type": "actions", "elements": buttons},
               {"type": "context", "elements": [{"type": "mrkdwn", "text":
                "The chart comes as a DM: the Home tab can only show images from public web addresses."}]}]
    return {"type": "home", "blocks": blocks}
