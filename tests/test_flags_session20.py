"""Session 20: a list said in another order is no wrong claim: items rotated, an item moved with the same words,
items of three words, the last item cut off by the clause that follows it."""

from __future__ import annotations

from bot.core.grading import edits
from bot.core.grading.vocabulary import Vocabulary
from tests.flagging import flags

OPTIMIZERS = "Different optimizers like {} have their own strategies for navigating the loss landscape."
FEATURES = ("This operation allows the layer to learn local patterns in the input data, with different filters "
            "typically learning different features like {}.")
VARIANTS = "There are variations of Gradient Descent; these include {}."


def test_a_rotated_list_is_not_an_exchange(grader, real_bank) -> None:
    entry = real_bank.get("optimizer-role")
    assert flags(grader, entry, OPTIMIZERS.format("Adam, RMSprop, and SGD")) == []
    assert flags(grader, entry, OPTIMIZERS.format("RMSprop, Adam, and SGD")) == []


def test_an_item_moved_in_a_list_and_etc_dropped(grader, real_bank) -> None:
    entry = real_bank.get("cnn-conv-vs-pooling")
    assert flags(grader, entry, FEATURES.format("corners, colors, edges, etc.")) == []
    assert flags(grader, entry, FEATURES.format("colors, corners and edges")) == []
    assert grader.rubric_grade(entry, FEATURES.format("corners, colors, edges, etc.")).score > 15


def test_items_of_three_words(grader, real_bank) -> None:
    entry = real_bank.get("gradient-descent")
    text = VARIANTS.format("Mini-Batch Gradient Descent, Stochastic Gradient Descent, and Batch Gradient Descent")
    assert flags(grader, entry, text) == []
    mechanics = real_bank.get("convolutional-layer-mechanics")
    assert flags(grader, mechanics, "These filters are essentially small, trainable matrices that detect various "
                                    "patterns such as textures, more complex features, or edges in the image.") == []


def test_a_list_item_moved_across_a_verb_is_still_an_exchange() -> None:
    reference = edits.sentences_of(["The encoder compresses the input into a code, and the decoder rebuilds the input "
                                    "from the code."])
    moved = "The decoder compresses the input into a code, and the encoder rebuilds the input from the code."
    assert edits.edited(moved, reference, Vocabulary(terms=()))
    # the same words moved inside the list only: no edit
    listed = edits.sentences_of(["The model reads text, images, audio and video through separate encoders."])
    assert edits.edited("The model reads images, audio, video and text through separate encoders.", listed,
                        Vocabulary(terms=())) == []


def test_a_wrong_claim_in_a_reordered_list_is_still_caught(grader, real_bank) -> None:
    # the items moved round, and the sentence's claim changed too: "small volumes" for "large volumes"
    entry = real_bank.get("deep-learning-pros-cons")
    text = "Deep learning excels in handling {} volumes of unstructured data, such as text, audio, and images."
    assert flags(grader, entry, text.format("large")) == []
    assert [kind for kind, _ in flags(grader, entry, text.format("small"))] == ["swap"]
