"""Block Kit rendering: Slack's limits, escaping of user and model text, buttons, modal and Home tab."""

from __future__ import annotations

import json

from bot.core.replies import Action, Reply, ReplyKind
from bot.slack_blocks import (
    ANSWER_LIMIT,
    MESSAGE_BLOCKS,
    SECTION_LIMIT,
    answer_modal,
    chunks,
    escape,
    home_view,
    message,
    reply_blocks,
)
from bot.slack_messages import readable

PINGS = "<!channel> <@U123> <!everyone> <!here> <https://evil.example|click> & co"


def _texts(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_escape_turns_markup_into_entities() -> None:
    assert escape("a & b <!channel> <@U123> >") == "a &amp; b &lt;!channel&gt; &lt;@U123&gt; &gt;"


def test_reply_text_never_pings_or_links() -> None:
    payload = message(Reply(ReplyKind.CRITIQUE, f"• {PINGS}"))
    rendered = json.dumps(payload)
    for markup in ("<!channel>", "<@U123>", "<!everyone>", "<!here>", "<https://"):
        assert markup not in rendered
    assert "&lt;!channel&gt;" in payload["text"]
    assert "&lt;!everyone&gt;" in _texts(payload["blocks"])[0]
    assert "&amp; co" in _texts(payload["blocks"])[0]


def test_sections_stay_within_3000_characters_even_after_escaping() -> None:
    text = ("<" * 2500 + "\n") * 3 + "x" * 7000
    parts = chunks(text)
    assert all(len(p) <= SECTION_LIMIT for p in parts)
    assert "".join(parts).replace("\n", "").replace("&lt;", "<") == text.replace("\n", "")
    assert not any(p.endswith("&") or p.endswith("&l") or p.endswith("&lt") for p in parts)


def test_a_huge_reply_is_cut_to_50_blocks_with_a_note() -> None:
    reply = Reply(ReplyKind.REVEAL, ("word " * 700 + "\n") * 80, (Action.ANSWER, Action.SKIP))
    blocks = reply_blocks(reply)
    assert len(blocks) == MESSAGE_BLOCKS
    assert blocks[-1]["type"] == "actions"
    assert "cut" in _texts(blocks)[-1]
    assert all(len(t) <= SECTION_LIMIT for t in _texts(blocks))


def test_question_buttons_carry_session_and_question() -> None:
    reply = Reply(ReplyKind.QUESTION, "Question 1 of 3 (cnn · basic)\n\nWhat does pooling do?",
                  (Action.ANSWER, Action.HINT, Action.SKIP, Action.REVEAL, Action.STOP),
                  data={"session_id": 7, "question_id": "pooling"})
    blocks = reply_blocks(reply)
    assert _texts(blocks)[0].startswith("*Question 1 of 3 (cnn · basic)*\n")
    buttons = blocks[-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["coach_answer", "coach_hint", "coach_skip", "coach_reveal",
                                                 "coach_stop"]
    assert {b["value"] for b in buttons} == {"7:pooling"}
    assert all(len(b["text"]["text"]) <= 75 for b in buttons)


def test_answer_modal_has_a_3000_character_field() -> None:
    view = answer_modal("What is <dropout>?", {"channel": "D1", "thread_ts": "1.2", "value": "1:dropout"})
    field = view["blocks"][-1]["element"]
    assert field["type"] == "plain_text_input" and field["multiline"] is True
    assert field["max_length"] == ANSWER_LIMIT == 3000
    assert "&lt;dropout&gt;" in view["blocks"][0]["text"]["text"]
    assert json.loads(view["private_metadata"])["value"] == "1:dropout"
    assert len(view["title"]["text"]) <= 24


def test_home_view_shows_figures_and_buttons() -> None:
    view = home_view("Answers: 3 · average 61/100 · streak 2 days\ncnn: 40/100", "Daily question: off.", False)
    assert view["type"] == "home"
    text = json.dumps(view)
    assert "streak 2 days" in text and "cnn: 40/100" in text
    ids = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == ["coach_daily_toggle", "coach_send_chart", "coach_start"]


def test_readable_shows_the_prose_of_a_streaming_json_critique() -> None:
    partial = '{"strengths": ["Clear definition of <!channel> dropout"], "improvements": ["Mention infer'
    text = readable(partial)
    assert "Clear definition" in text and "Mention infer" in text
    assert '"' not in text and "strengths" not in text
    assert readable("plain words so far") == "plain words so far"
