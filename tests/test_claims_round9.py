"""Scoring v2, session 9: terms told apart by their third word from the end, and consequences read as claims.

The sentences are new, written for these tests; each wrong one scored as a strong answer before the change.
"""

from __future__ import annotations

import pytest

from bot.core.grading.grader import Grader
from bot.core.grading.vocabulary import clauses


@pytest.fixture(scope="module")
def grader(real_embedder) -> Grader:
    return Grader(real_embedder)


def flags(grader: Grader, entry, text: str) -> list[tuple[str, str]]:
    return [(c.kind, c.quote) for c in grader.rubric_grade(entry, text).contradictions]


def test_stochastic_and_standard_gradient_descent_are_two_terms_though_they_end_alike(grader, real_bank) -> None:
    # "Gradient descent and stochastic gradient descent": the last two words are the same, so the term keeps three
    entry = real_bank.get("gd-vs-sgd")
    assert ("swap", "Stochastic gradient descent") in flags(
        grader, entry, "Stochastic gradient descent computes the gradient over the entire dataset for every update.")
    assert flags(grader, entry, "Stochastic gradient descent updates the parameters from one sample at a time.") == []
    assert flags(grader, entry, "Standard gradient descent computes the gradient over the entire dataset.") == []


def test_a_consequence_after_which_is_why_is_a_claim_of_its_own(grader, real_bank) -> None:
    sentence = "SGD looks at one sample per update, which is why each step is cheap but noisy."
    assert [sentence[a:b] for a, b in clauses(sentence)] == ["SGD looks at one sample per update",
                                                             "each step is cheap but noisy."]
    # the consequence no longer hides the swapped claim before it
    entry = real_bank.get("gd-vs-sgd")
    wrong = ("Stochastic gradient descent computes the gradient over the entire dataset for every update, "
             "which means each step is precise but slow on large datasets.")
    assert ("swap", "Stochastic gradient descent") in flags(grader, entry, wrong)
    right = ("Standard gradient descent computes the gradient over the entire dataset for every update, "
             "which means each step is precise but slow on large datasets.")
    assert flags(grader, entry, right) == []


def test_a_hyphenated_term_is_one_word_to_the_parser(grader, real_bank) -> None:
    # The small pipeline splits "cross-entropy" into three adjectives; joined, it is the noun that names the term,
    # and "mean squared error" and "cross-entropy" become siblings.
    entry = real_bank.get("loss-function-definition")
    wrong = "Mean squared error is the usual loss for classification models that output a probability."
    assert [k for k, _ in flags(grader, entry, wrong)] == ["swap"]
    right = "Cross-entropy is the usual loss for classification models that output a probability."
    assert flags(grader, entry, right) == []
