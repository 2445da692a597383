"""Scoring v2, round 5: right answers that the claim checks flagged, one test per cause, and wrong ones still caught.

Each cause was found on a strong or partial answer of a development set (a strong answer scored 0 or 10); the
sentences here are new, written for these tests: a denied loss ("you never lose ..."), "yes/no" read as a denial, a
denial that states what a condition needs ("won't trust it if nobody can explain it"), an acronym's plural given by
its singular, "likely" read as "like", two coordinated predicates read as two kinds, and a describing word after
"and" read as said of the item before it.
"""

from __future__ import annotations

import pytest

from bot.core.grading import conflicts, names, opposites, pairwise, values
from tests.flagging import flags

POINT_KEEP = "The learned scale and shift keep the expressive power of the layer after normalization."


def test_a_denied_loss_agrees_with_a_point_that_keeps_something() -> None:
    assert conflicts.negation_conflict("The learned scale and shift mean the layer does not lose its expressive "
                                       "power.", POINT_KEEP, set()) is None
    assert conflicts.negation_conflict("The learned scale and shift do not keep the layer's expressive power.",
                                       POINT_KEEP, set()) is not None


def test_yes_no_is_a_kind_of_answer_not_a_denial() -> None:
    point = "The output layer produces the prediction, such as a class probability or a real value."
    assert conflicts.negation_conflict("The output layer produces a yes/no class probability or a real value.",
                                       point, set()) is None
    assert conflicts.negation_conflict("The output layer produces no class probability.", point, set()) is not None


def test_a_denial_that_says_what_a_condition_needs_is_no_denial() -> None:
    point = "Explanations build trust in high-stakes areas like medicine."
    assert conflicts.negation_conflict("In medicine, doctors won't trust a model if nobody can explain its output.",
                                       point, set()) is None
    assert conflicts.negation_conflict("Explanations do not build trust in medicine.", point, set()) is not None


def test_an_acronyms_singular_gives_its_plural() -> None:
    points = ["SVMs are used for text classification and image tagging."]
    known = names.entry_stems(["Where are support vector machines used?", *points])
    answer = "An SVM is used for text classification and image tagging, as in the Reuters benchmark."
    assert names.misnamed(answer, points, known, [0], answer) == []


def test_likely_is_not_like() -> None:
    assert conflicts.stem("likely") == "likely"
    assert conflicts.stem("liked") != "likely"


def test_a_describing_word_after_and_is_said_of_what_follows() -> None:
    point = "Filters detect patterns such as edges, shapes and more complex objects."
    right = "Early filters pick up edges and simple shapes, later ones more complex objects."
    assert opposites.opposite_conflict(right, point) is None
    # coordinated directions share their noun ("smaller and larger elements") and still agree
    assert opposites.opposite_conflict("It splits the items into smaller and larger ones.",
                                       "It splits the items into those smaller and larger than the pivot.") is None


@pytest.mark.parametrize(("entry_id", "text"), [
    # two coordinated predicates in the reference ("more efficient and less likely to overfit") are two claims
    ("convolutional-layer-mechanics", "Because one filter of a few weights is reused at every position of the "
                                      "image, there are far fewer parameters than in a dense layer, which makes the "
                                      "network cheaper and less likely to overfit."),
    # "simple" describes the textures, the point's "more complex" the features after its "and"
    ("convolutional-layer-mechanics", "The first filters respond to edges and simple textures, the deeper filters "
                                      "to more complex structures."),
    ("batch-normalization", "After normalizing, a learned gamma and beta rescale and shift the values, so the layer "
                            "doesn't lose representational power."),
    ("restricted-boltzmann-machine", "An RBM has a visible and a hidden layer and was used for collaborative "
                                     "filtering (think of the Netflix challenge) and for feature learning."),
])
def test_right_answers_are_not_flagged(grader, real_bank, entry_id, text) -> None:
    assert flags(grader, real_bank.get(entry_id), text) == []


def test_the_same_algorithm_under_different_names_is_still_an_opposite(grader, real_bank) -> None:
    text = ("Batch, stochastic and mini-batch gradient descent are the same algorithm, just different names for how "
            "many layers you update.")
    assert [kind for kind, _ in flags(grader, real_bank.get("gradient-descent"), text)] == ["opposite"]


# -- values bound to a noun: the same numbers said of the other noun -----------------------------------------------

def test_a_value_said_of_another_noun_contradicts_the_point() -> None:
    point = "Standardization leaves every feature with zero mean and unit variance."
    wrong = "After standardization every feature has a variance of zero and a mean of one."
    assert pairwise.conflict(wrong, point, set()) == ("number", "variance of zero")
    for right in ("Each feature ends up with a mean of 0 and a variance of 1.",
                  "Standardizing gives every feature zero mean and a standard deviation of one, so unit variance.",
                  "One of the features is standardized to zero mean and unit variance."):
        assert pairwise.conflict(right, point, set()) is None, right


def test_a_total_said_of_another_value_contradicts_the_point() -> None:
    point = "The class probabilities are positive and sum to 1."
    assert pairwise.conflict("With five classes the class probabilities add up to 5.", point, set()) is not None
    assert pairwise.conflict("The class probabilities are positive and add up to one.", point, set()) is None


# -- a clause-opening pronoun is read as the term the clause before was about ------------------------------------------

def test_a_role_swapped_behind_it_is_caught(grader, real_bank) -> None:
    entry = real_bank.get("autoencoder-basics")
    wrong = ("It is trained on unlabeled data. The decoder does the first half of the job: it squeezes the input into "
             "a lower-dimensional latent representation.")
    assert ("swap", "decoder") in flags(grader, entry, wrong)
    right = ("It is trained on unlabeled data. The encoder does the first half of the job: it squeezes the input into "
             "a lower-dimensional latent representation.")
    assert flags(grader, entry, right) == []


def test_it_after_two_coordinated_names_stays_unread(grader, real_bank) -> None:
    entry = real_bank.get("weight-initialization")
    text = ("Xavier or Glorot initialization is what you pick for tanh or sigmoid networks; it scales the variance of "
            "the weights by the number of input and output units.")
    assert flags(grader, entry, text) == []


# -- the wrong phase said while naming both phases ---------------------------------------------------------------------

TEACHER = "The teacher signal is only used in training; at inference the model feeds back its own predictions."


@pytest.mark.parametrize(("text", "wrong"), [
    ("The teacher signal is used at inference time, never during training.", True),
    ("The teacher signal is not used during training.", True),
    ("The teacher signal is used at inference time too.", True),
    ("The teacher signal stays on when the model generates text at inference, as in training.", True),
    ("The teacher signal remains active while the model is serving predictions, so outputs match.", True),
    ("At inference, no teacher signal is used.", False),
    # "off" of a phrasal verb denies nothing
    ("The teacher signal cuts off the model's own guesses during training.", False),
    # said of another subject: the model, not the teacher signal
    ("During inference the model is used on its own and no teacher signal is used.", False),
    ("The teacher signal's effect stays the same at inference because the model learned from it.", False),
    ("At inference the teacher signal is switched off, so the model keeps running on its own outputs.", False),
    ("The teacher signal is only used during training.", False),
    # the phase of a relative clause is not the predicate's
    ("At inference the teacher signal is not used, only the tokens that were generated in training.", False),
])
def test_a_phase_given_the_other_sign_contradicts_the_point(text, wrong) -> None:
    from bot.core.grading import parse, phases
    found = phases.phase_conflicts(text, [TEACHER], [0], parse.shared())
    assert bool(found) is wrong, found


def test_dropout_applied_at_inference_and_never_in_training_is_caught(grader, real_bank) -> None:
    entry = real_bank.get("dropout-training-vs-inference")
    grade = grader.rubric_grade(entry, "Dropout is applied at inference time to all neurons, never during training.")
    assert grade.score <= 30 and [c.kind for c in grade.contradictions] == ["phase"]
    right = grader.rubric_grade(entry, "Dropout is only used during training; at inference time every neuron is "
                                       "kept and the activations are scaled.")
    assert right.contradictions == [] and right.score >= 40


def test_a_subject_tagged_as_a_verb_still_names_a_sibling_term(grader, real_bank) -> None:
    # spaCy tags "set" in "The test set is kept ..." as a verb: the test set was missing from the sibling terms
    entry = real_bank.get("validation-set-purpose")
    wrong = ("The data is split in three parts: the test set is the one you tune the hyperparameters like the "
             "learning rate and layer sizes on, while the validation set stays untouched until the end.")
    assert any(kind in ("swap", "mirror") for kind, _ in flags(grader, entry, wrong))
    right = ("The data is split in three parts: the validation set is the one you tune the hyperparameters like the "
             "learning rate and layer sizes on, while the test set stays untouched until the end.")
    assert flags(grader, entry, right) == []


def test_a_coefficient_of_a_formula_is_no_claimed_value() -> None:
    point = "Lower-order terms are dropped: 4n^2 + 50n + 3 grows like n^2."
    assert values.number_conflict("Smaller terms go: 7n^2 + 300n is essentially n^2 for big n.", point) is None
    assert values.numbers("The dropout rate is usually 0.5, with 3x more epochs.") == [0.5]


COMPARISON_DECK = """\
deck: os
title: Operating systems
questions:
  - id: os-threads
    question: How do processes and threads differ?
    topics: [processes]
    difficulty: 1
    kind: concept
    answer: |
      Processes versus threads: separate memory versus shared memory. A process has its own address
      space; threads of one process share it, so switching between threads is cheaper.
"""


def test_a_reference_with_a_verbless_comparison_is_graded_and_does_not_hang(grader, tmp_path) -> None:
    # the sibling-term reader walked up from "versus" to a root that is no verb and never stopped
    import threading

    from bot.core.bank import load_bank
    (tmp_path / "os.yaml").write_text(COMPARISON_DECK)
    entry = load_bank(tmp_path).get("os-threads")
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(grader.rubric_grade(
        entry, "A process has its own address space, and the threads of a process share it, so switching threads "
               "is cheaper.").score),
        daemon=True)
    worker.start()
    worker.join(120)
    assert result and result[0] >= 40, result


def test_a_value_inside_the_points_range_is_no_number_conflict() -> None:
    point = "The logistic function squashes its input into a range between 0 and 1."
    assert values.number_conflict("Dead units of the logistic layer output exactly 0 for any input.", point) is None
    assert values.number_conflict("The logistic function squashes its input into a range of 5.", point) is not None


def test_an_acronym_inside_a_run_of_words_gives_all_its_letters(grader, real_bank) -> None:
    entry = real_bank.get("pytorch-overview")
    text = "It is an open-source deep learning framework built at Facebook's AI Research lab (FAIR)."
    assert flags(grader, entry, text) == []
    assert names.entry_stems(["Facebook's AI Research lab"]) >= {"fair", "far"}


def test_a_possessive_before_its_terms_says_whose_they_are(grader, real_bank) -> None:
    entry = real_bank.get("rnn-lstm-gru-comparison")
    text = "GRUs are lighter: an update gate does the job of the LSTM's forget and input gates combined."
    assert flags(grader, entry, text) == []
    # a swapped role is still one: the GRU said to add the LSTM's gates
    wrong = "LSTMs merge the forget and input gates into a single update gate."
    assert any(kind in ("swap", "mirror") for kind, _ in flags(grader, entry, wrong))
