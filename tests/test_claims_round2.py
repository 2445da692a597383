"""Scoring v2, round 2: the checks added to the claim check, and what a flagged answer scores (the product's path).

Each wrong statement below was written for these tests (not taken from the evaluation sets): it says something false
in the reference's own words. Each right statement says the same thing correctly, often with an extra name or the
other side of a contrast, and must never be flagged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.bank import load_bank
from bot.core.grading import names, values
from bot.core.grading.grader import CONTRADICTED_CAP, Grader
from bot.core.grading.rubric import TERSE_CAP

USER_DECK = Path(__file__).resolve().parent / "data" / "user_deck"


def flags(grader: Grader, real_bank, entry_id: str, text: str) -> list[tuple[str, str]]:
    """(kind, quote) of every contradiction found in an answer."""
    grade = grader.rubric_grade(real_bank.get(entry_id), text)
    return [(c.kind, c.quote) for c in grade.contradictions]


@pytest.mark.parametrize(("entry_id", "wrong", "quote"), [
    # the point's subject given to its sibling (a swapped definition)
    ("feature-selection-vs-extraction", "Feature extraction picks a subset of the existing features and leaves them "
                                        "unchanged.", "Feature extraction"),
    # a name the entry never uses, in place of the point's name (the wrong entity)
    ("pytorch-overview", "PyTorch is an open-source deep learning framework that came out of Microsoft Research.",
     "Microsoft"),
    ("word-embeddings", "Word2Vec and BERTopic learn embeddings from the contexts in which words appear.", "BERTopic"),
    # a range other than the point's
    ("common-activation-functions", "Tanh squashes its input into the range 0 to 1, with zero-centered outputs.",
     "0 to 1"),
    # the reference's words with the direction exchanged (the mirror check)
    ("backpropagation-step-by-step", "Using the chain rule, the gradients of the loss with respect to each weight are "
                                     "computed layer by layer, from the input layer forward to the output.", "forward"),
])
def test_a_false_claim_in_the_references_words_is_flagged(grader, real_bank, entry_id, wrong, quote) -> None:
    found = flags(grader, real_bank, entry_id, wrong)
    assert any(q == quote for _, q in found), found


@pytest.mark.parametrize(("entry_id", "right"), [
    ("feature-selection-vs-extraction", "Feature selection picks a subset of the existing features and leaves them "
                                        "unchanged, while feature extraction builds new ones, for example with PCA."),
    ("pytorch-overview", "PyTorch is an open-source deep learning framework from Facebook's AI Research lab, now "
                         "Meta, and it competes with Google's TensorFlow."),
    ("rnn-lstm-gru-comparison", "GRUs merge the forget and input gates into a single update gate, so a GRU has "
                                "fewer parameters than an LSTM."),
    ("common-activation-functions", "Tanh squashes values between -1 and 1 and its outputs are zero-centered."),
    ("dropout-training-vs-inference", "With inverted dropout the kept activations are scaled by 1/(1-p) during "
                                      "training, so nothing changes at inference."),
    ("backpropagation-step-by-step", "After the forward pass the loss is computed, then the chain rule gives the "
                                     "gradients from the output layer backward."),
])
def test_right_statements_with_extra_names_or_both_sides_are_not_flagged(grader, real_bank, entry_id, right) -> None:
    assert flags(grader, real_bank, entry_id, right) == []


def test_a_contradicted_answer_lands_below_a_one_line_partial_one(grader, real_bank) -> None:
    entry = real_bank.get("gan-adversarial-training")
    right = ("A GAN has two networks, a generator and a discriminator, that compete in a game. The generator creates "
             "fake data that mimics real data. Training goes on until generated data is nearly indistinguishable from "
             "real data.")
    wrong = right + " The discriminator improves using feedback from the generator about its samples."
    partial = "The generator makes fake samples and the discriminator tries to tell them from real ones."
    scores = {k: grader.rubric_grade(entry, v).score for k, v in (("right", right), ("wrong", wrong),
                                                                   ("partial", partial))}
    assert scores["right"] >= 40 and scores["wrong"] <= CONTRADICTED_CAP < scores["partial"], scores


def test_one_or_two_words_naming_the_topic_earn_15_at_most(grader) -> None:
    deck = load_bank(USER_DECK)   # drafted points: "Hashable keys." came near 31 by similarity alone
    for entry_id, words in (("py-dict-lookup", "Hashable keys."), ("py-dict-lookup", "Hash tables."),
                            ("py-list-vs-tuple", "Tuples.")):
        assert grader.rubric_grade(deck.get(entry_id), words).score <= TERSE_CAP


def test_a_formula_is_no_claimed_number_and_ranges_compare_whole() -> None:
    assert values.numbers("scaled by 1/(1-p) during training") == []
    assert values.range_conflict("outputs lie between -1 and 1", "Softmax outputs lie between 0 and 1.")
    assert values.range_conflict("20 to 50 percent of the units", "commonly set between 0.2 and 0.5") is None


def test_acronyms_the_entry_spells_out_are_known_names() -> None:
    known = names.entry_stems(["How do gated recurrent units compare with long short-term memory cells?"])
    assert names._known("GRUs", known) and names._known("GRU", known)
    assert not names._known("Google", known)
