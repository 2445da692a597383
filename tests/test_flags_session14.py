"""Scoring v2, session 14: right answers from blind part 14 that were flagged, and what still must be caught.

Each right answer here was flagged before (a score of 5 for a right answer is the worst thing the coach can do); the
wrong ones beside them were caught before and must stay caught.
"""

from __future__ import annotations

from bot.core.grading.values import range_conflict, ranges
from tests.flagging import flags

ANN = "ann-layer-structure"
PREP = "data-preparation-steps"


def test_a_count_that_keeps_the_points_rate_agrees_with_it(grader, real_bank) -> None:
    # "one node per input feature": twelve nodes for twelve features, one per feature, says the same
    entry = real_bank.get(ANN)
    right = ("Take a network that predicts house prices from 12 features. The input layer has 12 nodes, one per "
             "feature, and it doesn't compute anything, it just hands the raw values forward.")
    assert flags(grader, entry, right) == []


def test_a_count_at_another_rate_or_of_another_thing_is_still_wrong(grader, real_bank) -> None:
    entry = real_bank.get(ANN)
    by_row = ("For 28x28 grayscale images like MNIST, the input layer has 28 nodes, one per row of pixels, since each "
              "node takes in a whole row at once.")
    assert ("number", "28 nodes") in flags(grader, entry, by_row)
    doubled = ("The first layer is the input layer, which receives the raw data, and it needs two nodes for every "
               "feature, so a dataset with 10 features gets 20 input nodes.")
    assert [k for k, _ in flags(grader, entry, doubled)] == ["number"]


def test_a_range_in_words_is_a_range(grader, real_bank) -> None:
    assert [r[:2] for r in ranges("so they land between zero and one")] == [(0.0, 1.0)]
    assert [r[:2] for r in ranges("it runs from minus one to one")] == [(-1.0, 1.0)]
    assert ranges("one of the two layers") == []
    # said in words, a range is compared as the digits are: the point's own is no conflict, another one is
    assert range_conflict("Sigmoid squashes its input to between zero and one.",
                          "Sigmoid outputs values between 0 and 1.") is None
    assert range_conflict("Sigmoid squashes its input to between minus one and one.",
                          "Sigmoid outputs values between 0 and 1.")   # overlapping, since session 15
    assert range_conflict("Sigmoid squashes its input to between two and ten.",
                          "Sigmoid outputs values between 0 and 1.")
    entry = real_bank.get(PREP)
    right = ("Numeric inputs get shifted and rescaled so each column averages zero with a spread of one, and photo "
             "pixels get divided by 255 so they land between zero and one.")
    assert flags(grader, entry, right) == []


def test_a_siblings_role_is_given_away_though_the_point_never_names_it(grader, real_bank) -> None:
    # "The generator creates fake data that mimics real data" never names the discriminator: a sibling term of the
    # point's doer, read from the entry's vocabulary, is a participant all the same
    entry = real_bank.get("gan-adversarial-training")
    wrong = ("The discriminator takes random noise and produces fake data, and the generator looks at real and fake "
             "images and tries to say which ones are real.")
    found = flags(grader, entry, wrong)
    assert ("swap", "discriminator takes random noise and produces fake data") in found
    assert grader.rubric_grade(entry, wrong).score <= 5
    right = ("The generator takes random noise and produces fake data, and the discriminator looks at real and fake "
             "images and tries to say which ones are real.")
    assert flags(grader, entry, right) == []
