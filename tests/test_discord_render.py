"""Discord rendering: messages split under 2,000 characters on clean boundaries, embeds within Discord's limits,
mentions defused, the streamed JSON critique shown as prose."""

from __future__ import annotations

import re

import discord

from bot.core.localtime import parse_daily_time as parse_time
from bot.core.localtime import zone_problem
from bot.core.replies import Action, Reply, ReplyKind
from bot.discord_render import (
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_COUNT_LIMIT,
    FIELD_VALUE_LIMIT,
    MESSAGE_LIMIT,
    TITLE_LIMIT,
    defuse,
    fit_embed,
    preview,
    readable,
    render,
    split_message,
)
from bot.discord_views import CoachButton, actions_view, zone_choices


def _words(text: str) -> list[str]:
    return text.split()


def test_split_keeps_every_word_whole_and_each_chunk_under_the_limit() -> None:
    paragraphs = [" ".join(f"word{p}x{i}" for i in range(60)) for p in range(12)]
    text = "\n\n".join(paragraphs)   # about 5,000 characters
    chunks = split_message(text)
    assert len(text) > 5000 and len(chunks) >= 3
    assert all(0 < len(c) <= MESSAGE_LIMIT for c in chunks)
    assert _words(" ".join(chunks)) == _words(text)   # nothing lost, no word cut in two
    ends = tuple(p.split()[-1] for p in paragraphs)
    assert all(c.endswith(ends) for c in chunks)   # every cut falls between two paragraphs


def test_split_falls_back_to_lines_then_words() -> None:
    lines = "\n".join("line " * 30 for _ in range(40))
    assert all(len(c) <= MESSAGE_LIMIT and c.endswith("line") for c in split_message(lines))
    one_paragraph = " ".join(["supercalifragilistic"] * 300)
    chunks = split_message(one_paragraph)
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)
    assert all(w == "supercalifragilistic" for c in chunks for w in c.split())


def test_split_hard_cuts_only_a_word_longer_than_a_message() -> None:
    chunks = split_message("x" * 4500)
    assert [len(c) for c in chunks] == [2000, 2000, 500]
    assert split_message("") == [] and split_message("short") == ["short"]


def test_embed_fits_every_discord_limit() -> None:
    embed = discord.Embed(title="T" * 400, description="word " * 2000)
    for i in range(40):
        embed.add_field(name=f"field {i}", value="v " * 800)
    embed.set_footer(text="f" * 3000)
    fit_embed(embed)
    assert len(embed.title or "") <= TITLE_LIMIT
    assert len(embed.description or "") <= DESCRIPTION_LIMIT
    assert len(embed.fields) <= FIELD_COUNT_LIMIT
    assert all(len(f.value or "") <= FIELD_VALUE_LIMIT for f in embed.fields)
    assert len(embed) <= EMBED_TOTAL_LIMIT


def test_mentions_are_defused_everywhere() -> None:
    text = "@everyone @here <@123456789012345678> <@&123456789012345678> plain@example.com"
    safe = defuse(text)
    assert "@everyone" not in safe and "@here" not in safe
    assert not re.search(r"<@&?\d{17,20}>", safe)
    assert "plain@example.com" in safe
    reply = Reply(ReplyKind.QUESTION, "Question 1 of 2 (x · basic)\n\n@everyone what is dropout?")
    embed = render(reply)[0].embed
    assert embed is not None and "@everyone" not in (embed.description or "")


def test_streamed_json_critique_reads_as_prose() -> None:
    raw = '{"strengths": ["Clear definition"], "improvements": ["Mention infer'
    shown = readable(raw)
    assert "Clear definition" in shown and "Mention infer" in shown and "{" not in shown
    assert len(preview("word " * 1000)) <= MESSAGE_LIMIT
    assert readable("plain words") == "plain words"
    assert preview('{"strengths": ') == ""   # nothing to show before the first words


def test_render_puts_buttons_on_questions_and_errors_are_private() -> None:
    question = Reply(ReplyKind.QUESTION, "Question 1 of 5 (cnn · basic)\n\nWhat does pooling do?",
                     (Action.ANSWER, Action.HINT, Action.SKIP, Action.REVEAL, Action.STOP))
    [message] = render(question)
    assert message.embed is not None and message.embed.title == "Question 1 of 5 (cnn · basic)"
    view = actions_view(message.actions, 42)
    assert view is not None
    assert [c.custom_id for c in view.children if isinstance(c, CoachButton)] == [
        "coach:answer:42", "coach:hint:42", "coach:skip:42", "coach:reveal:42", "coach:stop:42"]
    [error] = render(Reply(ReplyKind.ERROR, "No."))
    assert error.ephemeral
    long_reveal = render(Reply(ReplyKind.REVEAL, "answer " * 500))
    assert len(long_reveal) == 2 and all(len(m.content or "") <= MESSAGE_LIMIT for m in long_reveal)


def test_daily_time_and_zone_are_validated() -> None:
    assert parse_time("9:05") == "09:05" and parse_time("23:59") == "23:59"
    assert parse_time("24:00") is None and parse_time("9am") is None and parse_time("12:60") is None
    assert zone_problem("Europe/Paris") is None
    assert zone_problem("Mars/Olympus") and zone_problem("../etc/passwd")
    assert [c.value for c in zone_choices("paris")] == ["Europe/Paris"]
    assert len(zone_choices("")) == 25
