"""Scoring v2, session 16: right answers of blind part 16 that were flagged, and the wrong claims beside them that
the same checks must still catch."""

from __future__ import annotations

from tests.flagging import flags


def test_a_penalty_on_large_weights_keeps_them_small(grader, real_bank) -> None:
    # "so that large weights cost something" says the point's "keeps weights small": the cost turns it around
    entry = real_bank.get("overfitting-definition-remedies")
    right = ("Remedies I'd reach for: an L1 or L2 penalty added to the loss so that large weights cost something; "
             "dropout, which randomly zeroes units while training.")
    assert flags(grader, entry, right) == []
    wrong = "L1 or L2 regularization adds a penalty to the loss that keeps weights large."
    assert flags(grader, entry, wrong)


def test_a_name_inside_a_longer_name_is_given(grader, real_bank) -> None:
    # "FastAPI" gives the point's API; a framework the entry never names in place of Docker is still caught
    entry = real_bank.get("model-deployment-steps")
    right = ("Serialize it with PyTorch so it reloads quickly, wrap it in a small FastAPI or Flask service that "
             "exposes a REST endpoint taking input and returning predictions, and package it with Docker.")
    assert flags(grader, entry, right) == []
    wrong = "Containerize the model with Vagrant so it runs reliably with all its dependencies."
    assert ("entity", "Vagrant") in flags(grader, entry, wrong)


def test_a_denial_likened_to_another_term_says_it_of_that_term(grader, real_bank) -> None:
    # "gradients don't vanish the way they do with sigmoid" says sigmoid's gradients vanish, as the point does
    entry = real_bank.get("common-activation-functions")
    right = ("ReLU is the default in hidden layers: it doesn't saturate for positive values so gradients don't "
             "vanish the way they do with sigmoid. Sigmoid squashes into 0 to 1.")
    assert flags(grader, entry, right) == []
    # a plain denial, with no other term it is likened to, is still caught
    wrong = "Saturating activations like sigmoid and tanh do not produce small gradients for large inputs."
    assert ("negation", "do not produce small") in flags(grader, real_bank.get("vanishing-exploding-gradients"), wrong)
