"""The contradiction check in code: denials, opposites and numbers against a key point, quoted verbatim."""

from __future__ import annotations

import pytest

from bot.core.grading.conflicts import tokenize, topic_stems
from bot.core.grading.pairwise import conflict
from bot.core.grading.values import numbers

DROPOUT_Q = "How does dropout work during training, and what changes at inference time?"
DROPOUT_POINTS = ["Dropout randomly turns off a fraction of layer outputs during each training step.",
                  "Dropout is only applied in training; at inference all neurons are used.",
                  "Activations are scaled at inference to compensate for the dropped units."]


def check(sentence: str, point: str, question: str = DROPOUT_Q, points: list[str] | None = None,
          plain: set[str] | None = None) -> tuple[str, str] | None:
    """conflict() with the topic of the question and its points."""
    return conflict(sentence, point, topic_stems(question, points or [point]), plain or set())


@pytest.mark.parametrize(("sentence", "point", "quote"), [
    ("No scaling is ever needed because the weights adjust.", DROPOUT_POINTS[2], "No scaling is ever needed"),
    ("Keras doesn't support CNNs or RNNs, just dense layers.", "Keras makes building CNNs and RNNs quick.",
     "doesn't support CNNs"),
    ("Privacy isn't an issue either.", "Models handling personal data must protect privacy.",
     "Privacy isn't an issue either"),
    ("Word embeddings have no notion of similarity.", "Similar words get vectors close together.",
     "no notion of similarity"),
])
def test_a_denial_of_the_point_is_quoted_verbatim(sentence: str, point: str, quote: str) -> None:
    assert check(sentence, point, question="Explain it.") == ("negation", quote)


@pytest.mark.parametrize(("sentence", "point"), [
    ("No dropout is used at inference, every unit takes part.", DROPOUT_POINTS[1]),  # the topic, and right
    ("LSTMs don't suffer from vanishing gradients.", "LSTMs combat vanishing gradients."),  # the point is negative
    ("A binary tree node has no more than two children.", "Each node of a binary tree has two children."),
    ("It runs at least once no matter what the condition says.", "The body runs once, whatever the condition."),
])
def test_negations_that_deny_nothing_are_left_alone(sentence: str, point: str) -> None:
    assert check(sentence, point, question="Explain it.", points=DROPOUT_POINTS + [point]) is None


def test_a_contrast_in_the_answer_is_not_a_denial() -> None:
    # "execute" is said plainly elsewhere in the answer: the negation describes the other loop.
    point = "A do-while loop executes its body at least once."
    assert check("A while loop may not execute at all.", point, question="What is a loop?") is not None
    assert check("A while loop may not execute at all.", point, question="What is a loop?",
                 plain={"execut"}) is None


def test_contrast_questions_only_check_opposites_and_numbers() -> None:
    question = "What is the difference between a circular and a basic linked list?"
    point = "The last element of a circular list points to the head."
    assert check("A basic list does not point back to the head from its last element.", point, question) is None
    assert check("In a circular list the last element points to 0.", "It has 2 heads.", question) == ("number", "0")


@pytest.mark.parametrize(("sentence", "point", "quote"), [
    ("It also increases the oscillations.", "Momentum adds inertia that dampens oscillations.",
     "increases the oscillations"),
    ("It also increases the oscillations.", "It dampens oscillations and makes training more stable.",
     "increases the oscillations"),
    ("The randomness actually increases overfitting.", "Dropout injects noise, which reduces overfitting.",
     "increases overfitting"),
    ("Word embeddings are one-hot vectors.", "Embeddings map each word to a dense vector.",
     "Word embeddings are one-hot vectors"),
    ("F1 is simply their arithmetic average.", "The F1 score is the harmonic mean of precision and recall.",
     "F1 is simply their arithmetic average"),
])
def test_the_opposite_of_the_point_about_the_same_thing(sentence: str, point: str, quote: str) -> None:
    assert check(sentence, point, question="Explain it.") == ("opposite", quote)


@pytest.mark.parametrize(("sentence", "point"), [
    ("Give the minority class a higher weight in the loss.", "Class weights reduce the model's bias."),
    ("Collecting more diverse data helps.", "Diverse and representative training data helps mitigate bias."),
    ("A dense layer and a sparse input.", "Embeddings map each word to a dense vector."),  # says both
    ("It lowers the loss, and higher loss means worse fit.", "Training lowers the loss and raises accuracy."),
    ("The right child is larger than it.", "The left child is smaller than the parent, smaller than the right child."),
])
def test_opposite_words_about_different_things_are_left_alone(sentence: str, point: str) -> None:
    assert check(sentence, point, question="Explain it.") is None


def test_numbers_far_outside_the_points_range() -> None:
    point = "The momentum coefficient is usually set around 0.9."
    assert check("Set the coefficient to something tiny like 0.01.", point) == ("number", "0.01")
    rate = "The dropout rate is commonly set between 0.2 and 0.5."
    assert check("We drop about 80 to 90 percent of the units.", rate) == ("number", "80 to 90 percent")
    assert check("Scale the pixels to 0-255000.", "Pixel values are scaled, e.g. to 0-1.") == ("number", "0-255000")
    assert check("I usually drop 20 to 50 percent of the units.", rate) is None
    assert numbers("between 20% and 0.5") == [0.2, 0.5]


def test_tokens_keep_their_place_in_the_text() -> None:
    text = "It doesn't scale; can't train."
    words, spans = tokenize(text)
    assert words == ["it", "does", "not", "scale", ";", "can", "not", "train", "."]
    assert [text[a:b] for a, b in spans][1:3] == ["does", "n't"] and text[spans[5][0]:spans[6][1]] == "can't"


def test_a_negation_in_a_relative_clause_describes_and_does_not_deny() -> None:
    point = "The generator is trained to fool the discriminator into accepting its outputs as real."
    assert check("It creates faces of people who aren't real.", point, question="Explain it.") is None
    assert check("Its outputs are never accepted as real.", point, question="Explain it.") is not None
    split = "Split the data into training, validation and test sets."
    assert check("It holds up on data it hasn't trained on.", split, question="Explain it.") is None
    assert check("It has not trained on the data split.", split, question="Explain it.") is not None
