"""Scoring v2, session 11: right answers the claim check flagged on a development set of 243 right answers.

A negation denies the first word it reaches (not the point's noun two words on); "without" after a barrier ("too few
to ... without overfitting") says the thing happens; what a point guards against ("protect the service from overload")
is agreed with when denied; a number another point gives is that point's; a point's example value is one of many; a
direction word under a negation ("nor big values") is not claimed; a clause that names the point's term beside its
synonym ("Xavier or Glorot") swaps nothing; two gerunds sharing an object are one step, not two kinds; a consonant
doubled before -ing is stemmed away ("offsetting", "offsets"). The sentences and the small deck were written for these
tests, not taken from the evaluation sets; each right one was flagged before the change.
"""

from __future__ import annotations

import pytest

from bot.core.grading.conflicts import negation_conflict, stem
from bot.core.grading.opposites import opposite_conflict
from bot.core.grading.values import number_conflict
from tests.flagging import Question, flags, one_question

API = Question(
    qid="wa-throttling",
    question="Why do public APIs throttle clients, and what should a client do when it is throttled?",
    answer=("Throttling limits how many calls a client may make in a period, for example 50 calls per second "
            "per token, to protect the backend from overload and abuse. Gateways usually count calls with a "
            "token bucket. When a client goes over, the gateway answers 429 Too Many Requests and may add a "
            "Retry-After header. A good client waits that long, then retries with exponential backoff and "
            "jitter."),
    deck="web-api", topic="api", difficulty=2,
)


@pytest.fixture(scope="module")
def throttling(tmp_path_factory):
    return one_question(tmp_path_factory.mktemp("decks"), API)


def test_a_negation_denies_the_first_word_it_reaches() -> None:
    point = "Text is turned into numbers with word embeddings."
    # hand-labelling is denied, not the embeddings the point names two words on
    assert negation_conflict("We didn't hand-label word lists; a pretrained model gave us vectors.", point,
                             set()) is None
    # a light verb hands the denial on to what follows it, and so does a noun before "of"
    assert negation_conflict("Text doesn't need word embeddings at all.", point, set()) is not None
    assert negation_conflict("Embeddings give no sense of similarity between words.", "Similar words end up near "
                             "each other.", set()) is not None
    assert negation_conflict("Rewards are only logged, never used to update the driving policy.",
                             "Over many trials the driving policy steadily improves.", set()) is not None


def test_without_after_a_barrier_says_the_thing_happens() -> None:
    point = "A deep network trained from scratch on little data tends to overfit."
    for right in ("Four hundred images are far too few to train a deep network from scratch without overfitting.",
                  "You can't train a big network on so little data without overfitting."):
        assert negation_conflict(right, point, set()) is None, right
    assert negation_conflict("A deep network trained from scratch on little data works without overfitting.",
                             point, set()) is not None


def test_what_a_point_guards_against_may_be_denied(grader, throttling) -> None:
    entry = throttling
    right = "The gateway limits each token's calls so one busy client can't overload the backend."
    assert flags(grader, entry, right) == []
    # the cap itself denied is still a claim against the point
    assert flags(grader, entry, "Throttling doesn't limit how many calls a client makes; it only logs them.") != []


def test_a_number_another_point_gives_and_an_example_value_are_no_wrong_number(grader, throttling) -> None:
    entry = throttling
    # 429 belongs to the point about going over; 100 a minute is another example of a cap
    assert flags(grader, entry, "The gateway limits your calls, and you get a 429 when you go over.") == []
    assert number_conflict("A cap like 100 calls a minute per token.",
                           "Throttling caps calls, for example 50 calls per second per token.") is None
    # a value the point states as the value is still checked
    assert number_conflict("Dropout rates of 0.8 to 0.9 are typical.",
                           "Typical dropout rates are between 0.2 and 0.5.") is not None


def test_a_denied_direction_word_is_not_claimed() -> None:
    point = "Small random initial weights work better than zeros or large values."
    assert opposite_conflict("Never start from zeros, nor from big random values: use small random ones.",
                             point) is None
    assert opposite_conflict("Start from big random values, they work best.", point) is not None


def test_a_term_named_beside_its_synonym_is_no_swap(grader, real_bank) -> None:
    entry = real_bank.get("weight-initialization")
    right = "Xavier or Glorot initialization sets the weight variance from the number of input and output units."
    assert flags(grader, entry, right) == []
    # the other method put in its place is still a swap
    assert [k for k, _ in flags(grader, entry, "He initialization sets the weight variance from the number of input "
                                               "and output units, for sigmoid and tanh.")][:1] == ["swap"]


def test_two_gerunds_sharing_an_object_are_one_step(grader, real_bank) -> None:
    entry = real_bank.get("data-preprocessing-importance")
    right = "Standardizing or normalizing the features usually makes training quicker and steadier."
    assert flags(grader, entry, right) == []


def test_a_doubled_consonant_before_ing_is_stemmed_away(grader, real_bank) -> None:
    assert stem("offsetting") == stem("offsets") == "offset"
    assert stem("dropped") == stem("drop") and stem("passing") == "pass"
    entry = real_bank.get("batch-size-tradeoffs")
    right = "Larger batches tend to need more epochs to converge, which offsets their speed."
    assert flags(grader, entry, right) == []


def test_the_two_subjects_a_point_contrasts_with_while_are_siblings(grader, real_bank) -> None:
    # "A feedforward network treats inputs as independent, while an RNN treats them as related."
    entry = real_bank.get("rnn-recurrent-loop")
    wrong = ("An RNN treats every input on its own, as independent, while a feedforward network treats inputs as "
             "related.")
    assert [k for k, _ in flags(grader, entry, wrong)] == ["mirror"]
    for right in ("A feedforward network treats each input as independent, while an RNN treats its inputs as related.",
                  "Unlike a feedforward network, which treats inputs as independent, an RNN treats them as related "
                  "through its memory."):
        assert flags(grader, entry, right) == [], right


def test_a_phase_said_in_a_relative_clause_names_data_not_a_time(grader, real_bank) -> None:
    entry = real_bank.get("text-classification-pipeline")
    right = ("I'd evaluate on held-out test data and, after it ships, keep monitoring it, since real data can drift "
             "away from what it was trained on.")
    assert flags(grader, entry, right) == []


def test_the_conjunct_after_and_other_is_the_category_not_a_sibling(grader, real_bank) -> None:
    # the reference: "sensory input from cameras, LIDAR, and other sensors"
    entry = real_bank.get("deep-rl-use-case")
    right = "Camera frames and LIDAR scans are high-dimensional, so neural networks approximate the value or policy."
    assert flags(grader, entry, right) == []


def test_a_name_after_as_gives_a_form_not_another_entity(grader, real_bank) -> None:
    entry = real_bank.get("model-deployment-steps")
    # the point: "Expose the model through a REST API that takes input data and returns predictions."
    right = "The service takes the input, runs the model and returns the prediction as XML."
    assert flags(grader, entry, right) == []


def test_a_size_word_describing_a_noun_the_reference_never_sizes_is_no_mirror(grader, real_bank) -> None:
    # the reference: "the gradient ... points in the direction of the fastest increase of the function"
    entry = real_bank.get("gradient-descent")
    right = "Then every parameter moves a small step in the opposite direction of its gradient."
    assert flags(grader, entry, right) == []
