"""Scoring v2, round 3: a tester's cases on the seed deck and a user deck, and variants of them, right and wrong.

A right answer must not be flagged by a denial aimed at a modifier of a point ("units dropped during training") nor by
one that another covered point agrees with; a percentage must count as the fraction a point gives; spoken formulas
("TP over TP plus FP") and acronyms the entry spells out must count as the point's words. A wrong answer that swaps the
phases inside one sentence of two clauses, gives another range, or swaps definitions on a deck without key points
must land at the bottom of the scale. The variants were written for these tests, not taken from the evaluation sets.
"""

from __future__ import annotations

import pytest

from bot.core.bank import load_bank
from bot.core.grading import values
from bot.core.grading.grader import Grader

DROPOUT = "dropout-training-vs-inference"
ACID_DECK = """\
deck: databases
title: Database interview questions
questions:
  - id: db-acid
    question: What does ACID mean for database transactions?
    topics: [transactions]
    difficulty: 2
    kind: concept
    answer: >
      Atomicity means a transaction happens entirely or not at all.
      Consistency means a transaction moves the database from one valid state to another, respecting constraints.
      Isolation means concurrent transactions do not see each other's partial work.
      Durability means that once a transaction commits, it survives a crash.
"""


@pytest.fixture(scope="module")
def acid(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decks")
    (folder / "databases.yaml").write_text(ACID_DECK)
    return load_bank(folder).get("db-acid")


def grade(grader: Grader, real_bank, entry_id: str, text: str):
    return grader.rubric_grade(real_bank.get(entry_id), text)


# -- A: a strong answer flagged by a denial of a point's modifier -------------------------------------------------

STRONG_DROPOUT = ("While training, each step zeroes out a random subset of activations, typically 20 to 50 percent, so "
                  "those units contribute nothing to the forward or backward pass; neurons can't co-adapt, which makes "
                  "the model generalize better. At prediction time nothing is dropped, every unit is active, and the "
                  "outputs are rescaled so their expected magnitude matches what the next layer saw during training.")


def test_a_strong_dropout_answer_is_not_flagged_and_scores_80(grader, real_bank) -> None:
    result = grade(grader, real_bank, DROPOUT, STRONG_DROPOUT)
    assert result.contradictions == [], [(c.kind, c.quote) for c in result.contradictions]
    assert result.score >= 80, [(p.text, p.similarity) for p in result.result.points]


@pytest.mark.parametrize("right", [
    # the denial agrees with "at inference all neurons are used"
    "During training a random fraction of units is switched off at every step. At test time no unit is dropped and "
    "the activations are scaled to make up for the units dropped in training.",
    "Dropout zeroes random activations while training, about 0.3 of them. Nothing is dropped when predicting; "
    "instead the outputs are scaled down to match what the network saw in training.",
])
def test_a_denial_that_another_covered_point_agrees_with_is_not_flagged(grader, real_bank, right) -> None:
    result = grade(grader, real_bank, DROPOUT, right)
    assert result.contradictions == [], [(c.kind, c.quote) for c in result.contradictions]


def test_a_denial_of_what_a_point_states_is_still_flagged(grader, real_bank) -> None:
    wrong = ("Dropout randomly turns off a fraction of layer outputs during each training step. Activations are not "
             "scaled at inference, the outputs are used as they are.")
    result = grade(grader, real_bank, DROPOUT, wrong)
    assert any(c.point == 5 for c in result.contradictions), [(c.kind, c.quote) for c in result.contradictions]


def test_a_percentage_counts_as_the_fraction_a_point_gives(grader, real_bank) -> None:
    answer = "Dropout zeroes a random subset of activations at each training step, typically 20 to 50 percent."
    result = grade(grader, real_bank, DROPOUT, answer)
    assert result.key_points[2].covered, result.key_points[2]
    assert values.range_agrees("typically 20 to 50 percent", "commonly set between 0.2 and 0.5")
    assert not values.range_agrees("typically 70 to 90 percent", "commonly set between 0.2 and 0.5")


# -- B: a wrong answer that swaps the phases inside one sentence, and gives another range ---------------------------

WRONG_DROPOUT = ("Dropout randomly turns off a fraction of neurons during each training step, and those units take no "
                 "part in the forward pass or backpropagation. Dropout is applied only at inference, and during "
                 "training all neurons are used. The rate is usually between 0.7 and 0.9.")


def test_phases_swapped_in_two_conjoined_clauses_and_a_wrong_range_score_30_at_most(grader, real_bank) -> None:
    result = grade(grader, real_bank, DROPOUT, WRONG_DROPOUT)
    flagged = {c.point: c.quote for c in result.contradictions}
    assert 4 in flagged and 2 in flagged, flagged
    assert result.score <= 30


@pytest.mark.parametrize(("wrong", "point"), [
    ("Dropout is applied only at test time, and during training every neuron is active.", 4),
    ("Dropout is only applied at inference; during training all neurons are used.", 4),
    ("The dropout rate is a hyperparameter, usually set between 0.6 and 0.9.", 2),
    ("Dropout usually switches off 70 to 90 percent of the units at each training step.", 2),
])
def test_a_wrong_phase_or_range_is_flagged(grader, real_bank, wrong, point) -> None:
    result = grade(grader, real_bank, DROPOUT, wrong)
    assert point in {c.point for c in result.contradictions}, [(c.kind, c.quote) for c in result.contradictions]


# -- C: strong paraphrases: spoken formulas, acronyms the entry spells out, "it" for the topic -----------------------

def test_spoken_formulas_and_acronyms_count_as_the_points_words(grader, real_bank) -> None:
    answer = ("Precision answers: of everything I flagged positive, how much was really positive, TP over TP plus FP. "
              "Recall answers: of everything that really was positive, how much did I flag, TP over TP plus FN. "
              "Pushing one up usually pulls the other down, and F1 is their harmonic mean.")
    result = grade(grader, real_bank, "precision-vs-recall", answer)
    assert result.contradictions == []
    assert result.key_points[0].covered and result.key_points[2].covered, result.key_points
    assert result.score >= 60


@pytest.mark.xfail(strict=True, reason="not caught yet: the formula's operands are exchanged inside one clause, "
                                       "and the points give precision's formula only as 'all predicted positives'")
def test_a_wrong_formula_in_spoken_words_is_not_credited_as_the_right_one(grader, real_bank) -> None:
    right = "Precision is TP over TP plus FP. Recall is TP over TP plus FN."
    swapped = "Precision is TP over TP plus FN. Recall is TP over TP plus FP."
    scores = [grade(grader, real_bank, "precision-vs-recall", a).score for a in (right, swapped)]
    assert scores[1] < scores[0], scores


def test_a_strong_learning_rate_paraphrase_scores_as_strong(grader, real_bank) -> None:
    answer = ("The learning rate sets how big each weight update step is along the gradient. Set it too large and the "
              "loss bounces around or blows up; set it too small and training crawls and can get trapped in a poor "
              "local minimum.")
    result = grade(grader, real_bank, "learning-rate", answer)
    assert result.contradictions == []
    assert result.score >= 65, [(p.text, p.similarity) for p in result.result.points]


# -- D: swapped definitions on a user deck without key points --------------------------------------------------------

def test_swapped_definitions_on_a_deck_without_key_points_score_30_at_most(grader, acid) -> None:
    wrong = ("Durability means a transaction happens entirely or not at all. Consistency means a transaction moves the "
             "database from one valid state to another, respecting constraints. Atomicity means that once a "
             "transaction commits, it survives a crash. Isolation means concurrent transactions see each other's "
             "partial work.")
    result = grader.rubric_grade(acid, wrong)
    assert result.score <= 30, [(c.kind, c.quote) for c in result.contradictions]


@pytest.mark.parametrize("wrong", [
    "Isolation means a transaction happens entirely or not at all.",
    "Atomicity means that once a transaction commits, its changes survive a crash.",
])
def test_one_swapped_acid_definition_is_flagged(grader, acid, wrong) -> None:
    assert grader.rubric_grade(acid, wrong).contradictions


def test_the_acid_definitions_in_other_words_are_not_flagged(grader, acid) -> None:
    right = ("Atomicity: all of a transaction's changes apply or none do. Consistency: every transaction leaves the "
             "data valid under its constraints. Isolation: concurrent transactions do not see each other's "
             "uncommitted changes. Durability: once committed, the changes survive a crash or power loss.")
    result = grader.rubric_grade(acid, right)
    assert result.contradictions == [], [(c.kind, c.quote) for c in result.contradictions]
    assert result.score >= 60


def test_spoken_operators_and_acronyms_are_read_in_the_entrys_words_and_prose_is_left_alone() -> None:
    from bot.core.grading import spoken

    words = spoken.wording("What is precision?", ["Precision is true positives plus false positives, over all."],
                           ["precision"])
    assert spoken.normalise("TP over TP plus FP", words) == \
        "true positives divided by true positives plus false positives"
    assert spoken.normalise("TP / (TP + FP)", words) == \
        "true positives divided by (true positives plus false positives)"
    assert spoken.normalise("The loss is averaged over the batch.", words) == "The loss is averaged over the batch."
    # "it" stands for the question's term named last; "it is important to" stands for nothing
    assert spoken.normalise("Set it too high.", words, "Precision matters.") == "Set the precision too high."
    assert spoken.normalise("It is important to check.", words, "Precision matters.") == "It is important to check."


def test_the_other_side_of_a_comparison_is_not_what_a_point_states() -> None:
    from bot.core.grading.parse import modifier_words

    said = modifier_words("Small random initial weights work better than zeros or large values.")
    assert {"zeros", "large"} <= said and not {"small", "random", "weights"} & said
