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


def test_a_count_in_a_compound_and_a_quantity_word_are_numbers(grader, real_bank) -> None:
    entry = real_bank.get("why-activation-functions")
    text = ("Without activation functions, no matter how many layers the neural network has, it would behave just like "
            "a {} perceptron as all it is doing is just linear transformation.")
    assert [kind for kind, _ in flags(grader, entry, text.format("two-layer"))] == ["number"]
    assert flags(grader, entry, text.format("one-layer")) == []
    sgd = real_bank.get("gd-vs-sgd")
    said = "Stochastic gradient descent (SGD), on the other hand, updates the model parameters using {} at a time."
    assert [kind for kind, _ in flags(grader, sgd, said.format("roughly half of the dataset"))] == ["number"]
    assert flags(grader, sgd, said.format("only a single sample")) == []


def test_upsampling_for_downsampling_in_a_copy(grader, real_bank) -> None:
    entry = real_bank.get("cnn-layer-types")
    text = ("Pooling layers, typically max pooling, reduce the spatial dimensions of the feature maps, effectively {} "
            "them to reduce computational complexity and to highlight the most important features.")
    assert flags(grader, entry, text.format("downsampling")) == []
    assert [kind for kind, _ in flags(grader, entry, text.format("upsampling"))] == ["swap"]


def test_a_number_written_another_way_in_a_copy(grader, real_bank) -> None:
    gates = real_bank.get("lstm-gates")
    text = "There are {} gates in particular: the input gate, forget gate, and output gate."
    assert flags(grader, gates, text.format("3")) == []
    assert [kind for kind, _ in flags(grader, gates, text.format("4"))][:1] == ["number"]
    dropout = real_bank.get("dropout-training-vs-inference")
    rate = "This rate of dropout is a hyperparameter, and it's commonly set between {}."
    assert flags(grader, dropout, rate.format("20% and 50%")) == []
    assert [kind for kind, _ in flags(grader, dropout, rate.format("60% and 90%"))] == ["number"]
    # the range of another term's sentence, copied with this term: still sigmoid's range
    functions = real_bank.get("common-activation-functions")
    assert [kind for kind, _ in flags(grader, functions, "Tanh squashes its input into the range 0 to 1, with "
                                                         "zero-centered outputs.")] == ["number"]


def test_a_name_cut_short_or_spelled_out(grader, real_bank) -> None:
    norms = real_bank.get("batchnorm-vs-layernorm")
    assert flags(grader, norms, "Batch Norm normalizes the input features over the batch dimension.") == []
    cloud = real_bank.get("implementation-challenges-experience")
    text = "To mitigate this, I've used cloud platforms like {} for their powerful GPUs and scalability."
    assert flags(grader, cloud, text.format("Amazon Web Services")) == []
    assert [kind for kind, _ in flags(grader, cloud, text.format("Oracle Cloud"))] == ["entity"]
    torch = real_bank.get("pytorch-overview")
    assert flags(grader, torch, "PyTorch is an open-source deep learning framework built by Facebook's Artificial "
                                "Intelligence Research lab.") == []


def test_a_word_two_kinds_share_and_a_term_likened(grader, real_bank) -> None:
    # "feature" of "feature selection" and "feature extraction" names neither kind
    entry = real_bank.get("feature-selection-vs-extraction")
    assert flags(grader, entry, "On the other hand, feature extraction maps the data into a new feature space.") == []
    assert flags(grader, entry, "On the other hand, feature selection transforms the data into a new feature space.")
    biases = real_bank.get("weights-and-biases")
    assert flags(grader, biases, "As with weights, biases also get updated during the learning process.") == []


def test_speed_against_the_time_a_point_says_past_its_verb() -> None:
    # blind part 20's right answer, flagged: "reduces data loading time" puts the time three words past its verb
    from bot.core.grading.opposites import opposite_conflict

    point = "Fast storage like SSDs reduces data loading time."
    assert opposite_conflict("Even storage matters: SSDs feed data faster, so the accelerator isn't left waiting.",
                             point) is None
    assert opposite_conflict("Even storage matters: SSDs feed data slower.", point) is not None


def test_a_copy_that_says_another_number(grader, real_bank) -> None:
    softmax = real_bank.get("softmax-function")
    text = ("In other words, it takes an input vector and normalizes it into a range between 0 and 1, with the sum of "
            "all the values equal to {}.")
    assert flags(grader, softmax, text.format("1")) == []
    assert [kind for kind, _ in flags(grader, softmax, text.format("the number of classes"))] == ["number"]
    he = real_bank.get("weight-initialization")
    scaled = ("He initialization, on the other hand, is more suited for ReLU activations and involves scaling the "
              "weights by {} the number of input units.")
    assert flags(grader, he, scaled.format("the square root of two divided by")) == []
    assert [kind for kind, _ in flags(grader, he, scaled.format("one over the square root of"))] == ["number"]


def test_one_standing_for_a_thing_is_no_number(grader, real_bank) -> None:
    entry = real_bank.get("loss-function-definition")
    assert flags(grader, entry, "For regression the usual one is mean squared error, the average of the squared "
                                "differences between prediction and target.") == []


def test_the_same_count_said_two_ways_is_no_other_number(grader, real_bank) -> None:
    # blind part 19's own-words right answer, flagged by a first version of the number check
    entry = real_bank.get("restricted-boltzmann-machine")
    assert flags(grader, entry, "An RBM is a two-layer generative neural net, with one visible layer and one hidden "
                                "layer, that models the probability distribution of whatever data you train it "
                                "on.") == []


def test_two_sides_attributes_exchanged_across_what_joins_them(grader, real_bank) -> None:
    entry = real_bank.get("embedding-layer-nlp")
    text = ("Instead of one-hot encoded vectors that are {}, embeddings are {}, making them computationally efficient "
            "and effective at capturing word similarities.")
    assert flags(grader, entry, text.format("sparse and high-dimensional", "dense and low-dimensional")) == []
    assert [kind for kind, _ in flags(grader, entry, text.format("dense and low-dimensional",
                                                                 "sparse and high-dimensional"))] == ["swap"]


def test_names_run_together_at_a_sentences_start(grader, real_bank) -> None:
    # a new user's trial: "Batch" opening the reference sentence is no name, so "BatchNorm" was read as another one
    entry = real_bank.get("batchnorm-vs-layernorm")
    assert flags(grader, entry, "BatchNorm and LayerNorm both speed up training of deep NNs by reducing internal "
                                "covariate shift, i.e. stabilizing the distribution of layer inputs.") == []
