"""Scoring v2, session 13: two parallel statements whose predicates trade places (bot/core/grading/traded.py).

"High bias leads to underfitting" and "High variance leads to overfitting" say the same thing of two subjects, told
apart by a word each; an answer that says "high bias is what you get when the model overfits" has traded them, in
the reference's own words, with no antonym pair the word lists know. The same within one point: "A feedforward
network treats inputs as independent, while an RNN treats them as related". The wrong answers here were missed
before; the right ones, said in other words or the other way round, must stay unflagged.
"""

from __future__ import annotations

import pytest

from bot.core.grading.conflicts import stem
from bot.core.grading.parse import shared
from bot.core.grading.traded import statements, traded
from tests.flagging import Question, flags, one_question

MEMORY = Question(
    qid="sys-stack-heap",
    question="How is stack memory different from heap memory?",
    answer=("Stack memory is freed automatically when the function returns. Heap memory is freed explicitly "
            "by the programmer or by a garbage collector. Stack allocation is fast because it only moves a "
            "pointer."),
    points=("Stack memory is freed automatically when the function returns.",
            "Heap memory is freed explicitly by the programmer or by a garbage collector.",
            "Stack allocation is fast because it only moves a pointer.",),
    deck="systems", topic="memory", difficulty=1,
)


@pytest.fixture(scope="module")
def memory_entry(tmp_path_factory):
    return one_question(tmp_path_factory.mktemp("decks"), MEMORY)


def test_a_statement_is_read_as_its_subject_and_what_its_main_clause_says() -> None:
    point = "A feedforward network treats inputs as independent, while an RNN treats them as related."
    doc = shared().parse([point])[0]
    said = {tuple(sorted(s.subject)): s.marks for s in statements(doc, main_only=True)}
    # "network" alone names nothing: the modifier does; the contrast is a statement of its own
    assert set(said) == {("feedforward",), ("rnn",)}
    assert stem("independent") in said[("feedforward",)] and stem("related") in said[("rnn",)]


def test_two_points_predicates_traded_between_their_subjects_are_flagged(grader, real_bank) -> None:
    entry = real_bank.get("bias-variance-experience")
    wrong = ("High bias is what you get when the model overfits. High variance is the reverse situation, where the "
             "model is too simple to capture the pattern and underfits.")
    found = flags(grader, entry, wrong)
    assert [k for k, _ in found] == ["swap", "swap"]
    assert any("High bias is what you get when the model overfits" in q for _, q in found)
    assert grader.rubric_grade(entry, wrong).score <= 30
    right = "High bias means the model underfits because it is too simple; high variance means it overfits the noise."
    assert flags(grader, entry, right) == []


def test_a_contrast_within_one_point_said_the_wrong_way_round_is_flagged(grader, real_bank) -> None:
    entry = real_bank.get("rnn-recurrent-loop")
    wrong = ("A feedforward network treats all its inputs as related, since they arrive together as one vector, "
             "whereas in an RNN each input is independent of the others.")
    assert any(k == "swap" and q.startswith("A feedforward network treats all its inputs as related")
               for k, q in flags(grader, entry, wrong))
    right = "A feedforward network treats its inputs as independent of each other, while an RNN treats them as related."
    assert flags(grader, entry, right) == []


def test_a_trade_on_a_deck_of_ones_own(grader, memory_entry) -> None:
    entry = memory_entry
    # the word-level check quotes only "Heap memory" in the second sentence; the first is as wrong
    wrong = ("Stack memory is freed explicitly when you call free. Heap memory is freed automatically as soon as the "
             "function returns.")
    found = flags(grader, entry, wrong)
    assert {k for k, _ in found} == {"swap"}
    assert "Stack memory is freed explicitly when you call free" in [q for _, q in found]
    right = ("Stack memory is freed automatically when the function returns, and heap memory is freed explicitly by "
             "the programmer.")
    assert flags(grader, entry, right) == []
    # a denial says the same thing the right way: "not freed automatically" is no trade
    denied = "Heap memory is not freed automatically when the function returns; the programmer frees it explicitly."
    assert traded(denied, entry.points, shared(), denied) == []


def test_a_hedge_on_a_copula_is_not_the_other_statements_word(grader, real_bank) -> None:
    entry = real_bank.get("precision-vs-recall")
    # "were actually right" is emphasis; the recall point's "actual positive cases" is what tells recall apart
    right = ("Precision tells you how many of the things the model called positive were actually right, while recall "
             "tells you what share of the real positive cases it managed to catch. F1 is the harmonic mean of the "
             "two, and improving one usually hurts the other.")
    assert flags(grader, entry, right) == []
    assert grader.rubric_grade(entry, right).score >= 60
    # said of the people who actually have the disease, it is the recall point's word, and still a trade
    wrong = ("Precision is the number of true positive diagnoses divided by the number of people who actually have "
             "the disease.")
    answer = f"{wrong} Recall divides the true positives by everyone the test flagged as positive."
    assert traded(wrong, entry.points, shared(), answer)
