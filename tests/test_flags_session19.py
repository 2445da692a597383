"""Session 19's edits: a reordered copy that denies or compares another term, a sign word taken out of a copy, and a
sentence pointing back to one of two names that share their other words ("Neural Networks")."""

from __future__ import annotations

import difflib

from bot.core.grading import edits, scope
from bot.core.grading.vocabulary import Vocabulary, text_stems
from tests.flagging import flags

POOLING = ("On the other hand, the Pooling layer progressively reduces the spatial size of the input (i.e., {}), which "
           "helps in decreasing the computational complexity of the network.")
STEP = ("By taking a step in the direction of the {}gradient, we can decrease the loss function until we reach a "
        "minimum.")
CNN = "Convolutional Neural Networks (CNNs) are often used for image processing tasks."
RNN = "Recurrent Neural Networks (RNNs) are another type."
CNN_PARTS = "They are composed of convolutional and pooling layers, followed by fully connected layers."
RNN_USE = ("They are used for sequential data like time-series analysis or natural language processing because they "
           "have 'memory' and can use information from previous inputs in their predictions.")


def test_a_copy_that_denies_the_other_term(grader, real_bank) -> None:
    entry = real_bank.get("cnn-conv-vs-pooling")
    assert [kind for kind, _ in flags(grader, entry, POOLING.format("depth, not height and width"))] == ["swap"]
    assert flags(grader, entry, POOLING.format("height and width, not depth")) == []
    # the same words in another order, the same word denied: still the reference's claim
    assert flags(grader, entry, POOLING.format("width and height, but not depth")) == []


def test_a_comparison_turned_round_and_a_list_reordered() -> None:
    reference = edits.sentences_of(["Stochastic gradient descent usually converges faster than batch gradient descent "
                                    "on large datasets because each update is cheap."])
    turned = ("Batch gradient descent usually converges faster than stochastic gradient descent on large datasets "
              "because each update is cheap.")
    assert {e.kind for e in edits.edited(turned, reference, Vocabulary(terms=()))} == {"swap"}
    # read as a reordering too: the word after "than" is the other one
    theirs, mine = text_stems(reference[0].text)[0], text_stems(turned)[0]
    assert scope.rescoped(theirs, mine, difflib.SequenceMatcher(None, theirs, mine, autojunk=False).get_opcodes())
    listed = edits.sentences_of(["The model reads text, images and audio through separate encoders before fusion."])
    reordered = "The model reads audio, images and text through separate encoders before fusion."
    assert edits.edited(reordered, listed, Vocabulary(terms=())) == []


def test_the_sign_word_taken_out_of_a_copy(grader, real_bank) -> None:
    entry = real_bank.get("gradient-descent")
    assert [kind for kind, _ in flags(grader, entry, STEP.format(""))] == ["swap"]
    assert flags(grader, entry, STEP.format("negative ")) == []
    # cut shorter, the sign kept: a copy cut is no claim changed
    assert flags(grader, entry, "By taking a step in the direction of the negative gradient, we decrease the loss.") \
        == []


def test_they_after_the_other_of_two_names_sharing_words(grader, real_bank) -> None:
    entry = real_bank.get("types-of-deep-learning-models")
    assert flags(grader, entry, f"{CNN} {CNN_PARTS} {RNN} {RNN_USE}") == []
    found = flags(grader, entry, f"{CNN} {RNN_USE} {RNN} {CNN_PARTS}")
    assert [kind for kind, _ in found] == ["swap", "swap"]
    assert any(quote.startswith("They are used for sequential data") for _, quote in found)


def test_another_time_word_put_in_a_copy(grader, real_bank) -> None:
    entry = real_bank.get("embedding-layer-nlp")
    said = ("{} the training process, the embedding layer learns to project words into this vector space by adjusting "
            "weights to minimize the loss function.")
    assert [kind for kind, _ in flags(grader, entry, said.format("Before"))] == ["phase"]
    assert flags(grader, entry, said.format("During")) == []


def test_the_start_of_a_movement_put_at_its_end(grader, real_bank) -> None:
    entry = real_bank.get("backpropagation-why-crucial")
    said = ("As the name suggests, it propagates the error backwards through the network, starting from the {} layer "
            "{}, updating the parameters systematically.")
    assert [kind for kind, _ in flags(grader, entry, said.format("input", "and moving towards the output layer"))] \
        == ["swap"]
    assert flags(grader, entry, said.format("output", "to the inner layers")) == []
    # another movement told beside the reference's, which is kept: a right contrast
    contrast = ("Unlike the forward pass, which goes from input to output, backpropagation runs the other way: the "
                "error at the output layer is propagated backwards toward the inner layers.")
    assert flags(grader, entry, contrast) == []
    # "suffers from" and "leads to" name no start and end of one movement (part 17's own-words right answer)
    said = ("Sigmoid maps to between 0 and 1 and tanh to between -1 and 1 (centered on zero), but both saturate and "
            "have tiny gradients for big inputs, which leads to vanishing gradients in deep nets.")
    assert flags(grader, real_bank.get("common-activation-functions"), said) == []


def test_the_two_sides_of_a_relation_exchanged(grader, real_bank) -> None:
    entry = real_bank.get("deep-rl-use-case")
    start = ("Reinforcement learning, specifically deep RL, can handle the high dimensionality of sensory input from "
             "cameras, LIDAR, and other sensors by using ")
    turned = f"{start}the value or policy functions to approximate the neural networks."
    assert [kind for kind, _ in flags(grader, entry, turned)] == ["swap"]
    assert flags(grader, entry, f"{start}neural networks to approximate the value or policy functions.") == []
    # the passive names the sides the other way round and says the same
    assert flags(grader, entry, f"{start}the value or policy functions, which are approximated by neural networks.") \
        == []


def test_a_list_said_in_another_order_is_no_exchange(grader, real_bank) -> None:
    gates = real_bank.get("lstm-gates")
    assert flags(grader, gates, "There are three gates in particular: the output gate, forget gate and input gate.") \
        == []
    optimizers = real_bank.get("optimizer-role")
    assert flags(grader, optimizers, "Different optimizers like RMSprop, Adam and SGD have their own strategies for "
                                     "navigating the loss landscape.") == []
    # two items of two lists exchanged are still flagged
    assert flags(grader, gates, "The output gate decides how much of the incoming information should be stored in the "
                                "cell state. The input gate decides what the next hidden state should be.")


def test_the_other_size_put_in_where_the_entry_pairs_the_word_with_its_own(grader, real_bank) -> None:
    # the entry's vocabulary pairs "large" with "diverse" (its own phrase); "small" is still the other size
    entry = real_bank.get("transfer-learning-benefits")
    said = ("Transfer Learning is a technique where a pre-trained model, which has usually been trained on a {} "
            "dataset, is used as the starting point for a similar task.")
    assert [kind for kind, _ in flags(grader, entry, said.format("small, focused"))] == ["swap"]
    assert flags(grader, entry, said.format("large and diverse")) == []
    assert flags(grader, entry, said.format("big, varied")) == []


def test_the_other_kind_of_task_put_in_a_copy(grader, real_bank) -> None:
    entry = real_bank.get("loss-function-role")
    wrong = ("For multi-class classification problems, we use Binary Cross Entropy, while Categorical Cross Entropy is "
             "the one meant for binary classification with a single sigmoid output.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["swap"]
    right = ("For binary classification problems, we might use Binary Cross Entropy, and for multi-class "
             "classification, we might use Categorical Cross Entropy.")
    assert flags(grader, entry, right) == []
    # said as a contrast in other words, the two kinds are no edit of a copy
    assert flags(grader, entry, "Categorical cross-entropy is for multi-class classification, unlike binary "
                                "cross-entropy.") == []


def test_part_19s_flagged_right_answers(grader, real_bank) -> None:
    # each flagged by session 19's blind run, and fixed after it
    gates = real_bank.get("lstm-gates")
    # the point's "Each gate uses a sigmoid that outputs values": the gate does the sigmoid's job through it
    assert flags(grader, gates, "It has three gates, input, forget and output, each a sigmoid producing values "
                                "between 0 and 1.") == []
    # "without a technical background" says the point's "non-technical audience"
    plain = real_bank.get("interpretability-explainability")
    assert flags(grader, plain, "Explainability is more about communication: presenting how and why the model "
                                "decides in terms that people without a technical background can follow.") == []
    # "classic machine learning" is the point's "traditional machine learning", no other kind
    kinds = real_bank.get("deep-learning-vs-machine-learning")
    assert flags(grader, kinds, "Deep learning needs a lot more data and compute than classic machine learning.") == []
    assert flags(grader, kinds, "Traditional machine learning needs a lot more data and computing power than deep "
                                "learning.")


def test_a_definition_said_of_the_initials_is_said_of_the_term(grader, real_bank) -> None:
    # part 18's own-words partial answer: "ML" defined as the point defines "machine learning"
    entry = real_bank.get("ai-ml-dl-relationship")
    assert flags(grader, entry, "ML is one part of AI, where systems learn patterns from data; DL in turn is a part of "
                                "ML that relies on neural networks.") == []
