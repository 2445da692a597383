"""Scoring v2, session 9: terms told apart by their third word from the end, and consequences read as claims.

The sentences are new, written for these tests; each wrong one scored as a strong answer before the change.
"""

from __future__ import annotations

import pytest

from bot.core.grading.vocabulary import clauses
from tests.flagging import flags


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


def test_notation_is_no_value_a_slash_or_a_dotted_address_is_not_a_count() -> None:
    from bot.core.grading.bindings import binding_conflict
    from bot.core.grading.values import number_conflict

    point = "A /22 block can be cut into four networks, each a /24 of 256 addresses."
    # "/24 networks" names the networks' prefix length; "four networks" agrees with the point's four
    assert binding_conflict("Splitting the /22 gives four networks.", point) is None
    assert binding_conflict("Splitting the /22 gives eight networks.", point) is not None
    # dotted addresses and versions are no numbers of the claim
    ranges = "Private hosts use ranges such as 172.16.0.0/12 or 10.0.0.0/8 behind one public address."
    assert number_conflict("Private hosts get 172.16.x.x or 10.x.x.x addresses behind one public one.", ranges) is None
    # a number the point gives in words agrees with the same number in digits
    assert number_conflict("The prefix leaves 8 bits for hosts.", "Eight host bits give 256 addresses.") is None
    assert number_conflict("The prefix leaves 3 bits for hosts.", "Eight host bits give 256 addresses.") is not None


def test_names_a_point_gives_as_examples_and_names_joined_to_a_plain_word_are_no_entity(grader, real_bank) -> None:
    from bot.core.grading import names

    known = names.entry_stems(["Train on GPU instances in the cloud."])
    assert names._known("GPU-backed", known)
    assert not names._known("TPU-backed", known)
    # "Architectures like AlexNet, VGG and ResNet": leaving the examples out loses no entity of the point
    entry = real_bank.get("image-recognition-cnn")
    text = ("Pretrained CNN architectures, reused through transfer learning after training on ImageNet, reach "
            "state-of-the-art results.")
    assert [k for k, _ in flags(grader, entry, text) if k == "entity"] == []


def test_the_word_after_than_is_compared_not_claimed() -> None:
    from bot.core.grading.opposites import opposite_conflict

    point = "Activation functions make the mapping non-linear."
    assert opposite_conflict("With activations the network can represent more than a linear mapping.", point) is None
    assert opposite_conflict("Activation functions make the mapping linear.", point) is not None


@pytest.mark.parametrize(("entry_id", "text"), [
    # "more timely and accurate diagnoses": qualities of one thing, not two kinds ("timely" is no form of "time")
    ("dl-impact-medical-imaging", "CNNs find tumors and fractures faster, which gives doctors more timely diagnoses "
                                  "and better patient outcomes."),
    # "enough RAM" and "ample RAM" say how much, not which kind
    ("hardware-impact-training", "Ample RAM and VRAM avoid memory bottlenecks with large datasets and complex models."),
    # "unseen data" and "test data" are the same data
    ("overfitting-definition-remedies", "The model learns the training data too well, noise and all, so it performs "
                                        "poorly on unseen test data."),
])
def test_qualities_and_amounts_are_no_sibling_kinds(grader, real_bank, entry_id, text) -> None:
    assert flags(grader, real_bank.get(entry_id), text) == []
