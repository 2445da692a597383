"""Scoring v2, session 17: the right answer blind part 17 flagged, and the wrong claim beside it that must still be
caught."""

from __future__ import annotations

from tests.flagging import flags


def test_a_range_said_of_the_term_a_sentence_is_about(grader, real_bank) -> None:
    # the sentence is about tanh and gives tanh's range; sigmoid is only what it is compared with
    entry = real_bank.get("common-activation-functions")
    right = ("Tanh outputs values from -1 to 1 and is centred on zero, so hidden layers usually learn a little "
             "faster with it than with sigmoid.")
    assert flags(grader, entry, right) == []
    wrong = "Sigmoid outputs values from -1 to 1, so hidden layers learn a little faster with it than with tanh."
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["number"]
    # each clause gives the other's range: read clause by clause, it is still caught
    exchanged = "Sigmoid is the one whose outputs run from -1 to 1, while tanh keeps its outputs between 0 and 1."
    assert flags(grader, entry, exchanged)
    assert grader.rubric_grade(entry, exchanged).score <= 30
