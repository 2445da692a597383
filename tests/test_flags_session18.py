"""Session 18's edits: a piece of a sentence copied with one term put in (the rest of the sentence its own), and a
copied sentence that points back ("This leads to ...") put after another term's sentence than the reference's."""

from __future__ import annotations

from bot.core.grading import edits
from bot.core.grading.vocabulary import Vocabulary
from tests.flagging import flags

VANISHING = ("The vanishing gradient problem happens when the gradients of the loss function become too small as they "
             "are propagated backwards from the output to the input layers.")
EXPLODING = "On the other hand, the exploding gradient problem is when the gradients become too large."
SLOW = ("This leads to the weights in the earlier layers of the network updating very slowly, which makes the learning "
        "process extremely slow or it might even completely halt.")
DIVERGE = ("This leads to large changes in the weights during the training process, causing the network to oscillate "
           "and possibly diverge.")


def test_a_piece_copied_with_the_opposite_term_and_words_of_its_own(grader, real_bank) -> None:
    # the sentence's first piece is the reference's but for "high-level"; its examples come from another sentence
    entry = real_bank.get("image-recognition-cnn")
    wrong = "The initial layers generally learn to identify high-level features, such as shapes or specific objects."
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["swap"]
    right = "The initial layers generally learn to identify low-level features, such as simple strokes or corners."
    assert flags(grader, entry, right) == []


def test_a_piece_copied_from_a_whole_sentence_inside_a_longer_one(grader, real_bank) -> None:
    entry = real_bank.get("gradient-descent")
    wrong = ("The gradient is like a compass that already points in the direction of the fastest decrease of the "
             "function, so we add it to each weight until we reach a minimum.")
    assert flags(grader, entry, wrong)
    right = ("The gradient is like a compass that points in the direction of the fastest increase of the function, so "
             "we subtract it from each weight until we reach a minimum.")
    assert flags(grader, entry, right) == []


def test_a_piece_with_two_edits_says_something_of_its_own() -> None:
    reference = edits.sentences_of(["Our trained model images are packaged and versioned nightly with Docker on the "
                                    "shared build server, which then pushes every image to the registry that the "
                                    "production cluster pulls from."])
    rest = ", and a cron job then uploads them to an S3 bucket we rotate weekly."
    one = f"Our trained model images are packaged and versioned nightly with Podman on the shared build server{rest}"
    assert [e.kind for e in edits.edited(one, reference, Vocabulary(terms=()))] == ["entity"]
    two = f"Our trained model images are packaged and versioned nightly with Podman on the shared test server{rest}"
    assert edits.edited(two, reference, Vocabulary(terms=())) == []


def test_a_sentence_pointing_back_moved_after_the_other_term(grader, real_bank) -> None:
    entry = real_bank.get("vanishing-exploding-gradients")
    right = f"{VANISHING} {SLOW} {EXPLODING} {DIVERGE}"
    assert flags(grader, entry, right) == []
    moved = f"{VANISHING} {DIVERGE} {EXPLODING} {SLOW}"
    found = flags(grader, entry, moved)
    assert [kind for kind, _ in found] == ["swap", "swap"]
    assert any(quote.startswith("This leads to large changes") for _, quote in found)
    # joined on with ", and this": the clause is read after the clause before it
    joined = f"{VANISHING} {EXPLODING[:-1]}, and this leads to the weights in the earlier layers updating very slowly."
    assert any("earlier layers" in quote for _, quote in flags(grader, entry, joined))


def test_a_sentence_pointing_back_after_a_sentence_in_other_words(grader, real_bank) -> None:
    # the sentence before is the answer's own (no copy): what "this" points to is not read, nothing is flagged
    entry = real_bank.get("vanishing-exploding-gradients")
    own = "When gradients blow up instead, every step becomes huge."
    assert flags(grader, entry, f"{VANISHING} {SLOW} {own} {DIVERGE}") == []


def test_only_taken_out_and_the_other_phase_put_in(grader, real_bank) -> None:
    entry = real_bank.get("dropout-training-vs-inference")
    right = "It's important to note that dropout is only used during training, so the predictions are deterministic."
    assert flags(grader, entry, right) == []
    wrong = ("It's important to note that dropout is used during both training and inference, so the predictions "
             "are noisy.")
    assert any("both training and inference" in quote for _, quote in flags(grader, entry, wrong))


def test_a_name_put_where_the_reference_points_back(grader, real_bank) -> None:
    # the reference says "These are commonly used in anomaly detection ..." after its sentence on autoencoders
    entry = real_bank.get("types-of-deep-learning-models")
    wrong = "GANs are commonly used in anomaly detection or dimensionality reduction."
    assert any(quote.startswith("GANs are commonly used") for _, quote in flags(grader, entry, wrong))
    for right in ("Autoencoders are commonly used in anomaly detection or dimensionality reduction.",
                  "In practice autoencoders are commonly used in anomaly detection or dimensionality reduction."):
        assert flags(grader, entry, right) == []


def test_two_pairings_said_with_for_are_two_claims(grader, real_bank) -> None:
    # blind part 18's partial answer: "He ... for ReLU" is not read against the point on sigmoid and tanh
    entry = real_bank.get("weight-initialization")
    assert flags(grader, entry, "Use He initialization for ReLU networks and Xavier for tanh or sigmoid ones.") == []
    wrong = "He initialization is used with sigmoid or tanh activations, and Xavier for ReLU ones."
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["swap"]


def test_a_word_in_a_list_trades_nothing(grader, real_bank) -> None:
    # blind part 18's strong answer: "learning" is one of three ways, not what machine learning's point says it does
    entry = real_bank.get("ai-ml-dl-relationship")
    right = ("AI is the outer one, the whole effort to get machines to do things we'd call intelligent, whether "
             "through hand-written rules, search or learning.")
    assert flags(grader, entry, right) == []


def test_one_name_written_as_two_words_is_no_other_name(grader, real_bank) -> None:
    # blind part 18's strong answer: "ROC AUC" for the point's "AUC-ROC"
    entry = real_bank.get("imbalanced-dataset-handling")
    assert flags(grader, entry, "Stop looking at accuracy and use precision, recall, F1 or ROC AUC instead.") == []
    assert [kind for kind, _ in flags(grader, entry, "Accuracy is misleading, so use precision, recall, F1 or "
                                                     "MSE.")] == ["entity"]


def test_a_filter_or_kernel_is_one_thing(grader, real_bank) -> None:
    # blind part 18's own-words right answer: the reference says "a filter or kernel", so "kernels" is no sibling
    entry = real_bank.get("cnn-conv-vs-pooling")
    right = ("A conv layer slides small learned kernels across the input, multiplying element by element and summing "
             "at each position.")
    assert flags(grader, entry, right) == []


def test_a_passive_by_the_means_the_point_names_gives_the_action_to_no_one(grader, real_bank) -> None:
    # found by a new-user trial: the reference's own words in the passive scored 5 ("scaled by the number" read as
    # the number doing the scaling instead of Xavier initialization)
    entry = real_bank.get("weight-initialization")
    right = ("Xavier initialization is typically used for networks with sigmoid or tanh activations, and it sets the "
             "weights from a zero-mean distribution with variance scaled by the number of input and output units.")
    assert flags(grader, entry, right) == []
