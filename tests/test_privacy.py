"""Privacy: another person tries every action on Alice's interview, answers and data, and learns nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.access import Access
from bot.core.bank import load_bank
from bot.core.coach import Coach
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.core.store.sql import SqlStore
from bot.core.testing import FakeLLM, fake_coach

ALICE, BOB = UserRef("slack", "UALICE"), UserRef("slack", "UBOB")
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
SECRET = "zebrafish"     # a word that only Alice's answers hold


@pytest.fixture()
def coach(knowledge: Path, tmp_path: Path) -> Coach:
    return fake_coach(load_bank(knowledge), SqlStore(f"sqlite:///{tmp_path / 'coach.db'}"),
                      llm=FakeLLM(respond=lambda p: "{}"), clock=lambda: NOW,
                      access=Access(knowledge_dir=knowledge))


def acted(coach: Coach, request: Request) -> list[Reply]:
    return list(coach.act(request))


def shown(replies: list[Reply]) -> str:
    """Everything a reply puts in front of its reader: text, files and data, as one string."""
    parts: list[str] = []
    for reply in replies:
        parts.append(reply.text)
        for value in reply.data.values():
            readable = value.decode("utf-8", "replace") if isinstance(value, bytes) else json.dumps(value, default=str)
            parts.append(readable)
    return "\n".join(parts)


def alices_interview(coach: Coach) -> tuple[str, str]:
    """Alice answers one question with the secret word and is on the next one; returns (the open turn, attempt id)."""
    [question] = [r for r in acted(coach, Request(ALICE, Action.START, topic=None, count=2, place="D1"))
                  if r.kind is ReplyKind.QUESTION]
    replies = acted(coach, Request(ALICE, Action.ANSWER, text=f"My {SECRET} answer: it reduces overfitting.",
                                   turn=question.turn))
    assert replies[0].kind is ReplyKind.SCORE
    [attempt] = coach.store.attempts(ALICE)
    [following] = [r for r in replies if r.turn] or [question]
    assert following.turn is not None
    return following.turn, str(attempt.id)


def bobs_attempts(turn: str, attempt_id: str) -> Iterator[Request]:
    """Every action Bob can send, pointed at Alice's open turn, her attempt or her data wherever a field allows."""
    for action in Action:
        yield Request(BOB, action)
        yield Request(BOB, action, turn=turn, text=f"{SECRET}?", target=attempt_id, op="jsonl", confirm=True)
    for fmt in ("jsonl", "csv", "anki"):
        yield Request(BOB, Action.EXPORT, op=fmt)
    for op in ("fix", "dismiss"):
        yield Request(BOB, Action.REVIEW, op=op, target="1", fields={"answer": "vandalised"})
    yield Request(BOB, Action.SHARE, target=attempt_id, name="Alice")


def test_nobody_reads_or_changes_another_persons_answers_scores_or_data(coach: Coach) -> None:
    turn, attempt_id = alices_interview(coach)
    before = [(a.id, a.score, a.answer) for a in coach.store.attempts(ALICE)]
    session = coach.open_session(ALICE)
    assert session is not None
    position = session.position
    acted(coach, Request(ALICE, Action.FLAG, text="the reference is wrong", target="pooling"))

    for request in bobs_attempts(turn, attempt_id):
        replies = acted(coach, request)
        text = shown(replies)
        assert SECRET not in text, (request, text)
        assert "UALICE" not in text and "alice" not in text.lower(), (request, text)
        assert not [r for r in replies if r.kind is ReplyKind.SHARED], request

    after = [(a.id, a.score, a.answer) for a in coach.store.attempts(ALICE)]
    assert after == before, "Bob's actions changed Alice's attempts"
    still = coach.open_session(ALICE)
    assert still is not None and still.position == position, "Bob's actions moved Alice's interview"
    assert coach.store.flags(None), "Bob dismissed or fixed Alice's flag without being a reviewer"
    assert all(a.user == BOB for a in coach.store.attempts(BOB))
    # The same look from Alice's side shows her answer: the check above can see a leak when there is one.
    assert SECRET in shown(acted(coach, Request(ALICE, Action.EXPORT, op="jsonl")))


def test_an_answer_sent_with_another_persons_turn_is_not_graded_for_either(coach: Coach) -> None:
    turn, _ = alices_interview(coach)
    acted(coach, Request(BOB, Action.START, count=1, place="D2"))
    [reply] = acted(coach, Request(BOB, Action.ANSWER, text="Bob answers in Alice's thread.", turn=turn))
    assert reply.kind is ReplyKind.ERROR
    assert coach.store.attempts(BOB) == [] and len(coach.store.attempts(ALICE)) == 1


def test_share_needs_the_attempts_owner(coach: Coach) -> None:
    _, attempt_id = alices_interview(coach)
    [refused] = acted(coach, Request(BOB, Action.SHARE, target=attempt_id, name="Bob"))
    assert refused.kind is ReplyKind.ERROR and SECRET not in refused.text
