"""The report card: skipped questions are listed, never counted as 0; a "strongest topic" only when one stands out."""

from __future__ import annotations

from bot.core.bank import Bank, Entry
from bot.core.phases import Phase
from bot.core.render import report_text
from bot.core.replies import UserRef
from bot.core.report import build_report
from bot.core.store.records import AttemptRecord, SessionRecord

USER = UserRef("cli", "bob")
TOPICS = {"q1": ("cnn",), "q2": ("rnn",), "q3": ("optim",)}
BANK = Bank(entries={qid: Entry(id=qid, question=f"Explain {qid} briefly, please.", topics=topics, difficulty=1,
                                answer="A reference answer.") for qid, topics in TOPICS.items()}, decks={})


def report(*rows: tuple[str, int, bool]) -> dict:
    session = SessionRecord(id=1, user=USER, phase=Phase.FINISHED, question_ids=list(TOPICS))
    attempts = [AttemptRecord(USER, qid, score, session_id=1, skipped=skipped) for qid, score, skipped in rows]
    return build_report(session, attempts, BANK)


def test_skipped_questions_do_not_lower_the_average_or_a_topic() -> None:
    card = report(("q1", 70, False), ("q2", 0, True), ("q3", 50, False))
    assert card["average"] == 60 and card["by_topic"] == {"cnn": 70, "optim": 50}
    assert [q["skipped"] for q in card["questions"]] == [False, True, False]
    assert card["strongest"] == "cnn" and card["weakest"] == "optim"
    assert "2. Explain q2 briefly, please. — skipped" in report_text(card)


def test_no_strongest_topic_when_every_score_is_zero() -> None:
    card = report(("q1", 0, False), ("q2", 0, False), ("q3", 0, True))
    text = report_text(card)
    assert card["strongest"] is None and "Strongest topic" not in text
    assert card["average"] == 0 and "Weakest topic" not in text and "cnn, rnn" in (card["next"] or "")


def test_all_skipped_has_no_average_and_no_topics() -> None:
    card = report(("q1", 0, True), ("q2", 0, True))
    assert card["average"] is None and card["by_topic"] == {} and card["strongest"] is None
    assert "Average" not in report_text(card)
