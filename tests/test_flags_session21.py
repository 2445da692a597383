"""Session 21: claims said in other words than session 20's checks read."""

from __future__ import annotations

from tests.flagging import flags

OVERFITTING = "By reducing the internal covariate shift, batch normalization speeds up convergence, but it tends to {}."


def test_a_degree_word_between_a_comparative_and_its_thing(grader, real_bank) -> None:
    # blind part 20: "make overfitting somewhat worse" for "reduces overfitting"; "somewhat" hid the direction
    entry = real_bank.get("batch-normalization")
    assert [kind for kind, _ in flags(grader, entry, OVERFITTING.format("make overfitting somewhat worse"))] \
        == ["opposite"]
    assert flags(grader, entry, OVERFITTING.format("make overfitting somewhat less likely")) == []


def test_a_denial_agrees_with_a_point_that_says_it_goes_badly(grader, real_bank) -> None:
    # blind part 21's strong answer: "can't really learn" restates "struggle with long-term dependencies"
    entry = real_bank.get("time-series-rnn-experience")
    right = ("The problem with a vanilla RNN is that its gradients vanish over long spans, so it can't really learn "
             "dependencies that reach far back.")
    assert flags(grader, entry, right) == []


def test_a_later_name_of_a_list_of_examples_is_an_example(grader, real_bank) -> None:
    # "such as He or Xavier": Xavier was read as another name for the point's entity
    entry = real_bank.get("deep-network-training-challenges")
    right = ("What helps here is batch normalization, sensible weight initialization schemes such as He or Xavier, and "
             "ReLU-type activations that don't saturate.")
    assert flags(grader, entry, right) == []


def test_a_singular_latin_plural_names_the_same_thing(grader, real_bank) -> None:
    # "the confusion matrix" for the point's "confusion matrices": "precision-recall curves" beside it was read as
    # standing where the point has the matrices
    entry = real_bank.get("dl-model-assumptions")
    right = ("After training I look at learning curves, the confusion matrix, ROC and precision-recall curves to see "
             "where the model falls down.")
    assert flags(grader, entry, right) == []


def test_no_subject_can_do_something_denies_the_doing(grader, real_bank) -> None:
    # "no neuron can count on particular partners" denies the counting on partners, not the neurons that the
    # inference point says are all used
    entry = real_bank.get("dropout-training-vs-inference")
    right = ("While training, each step zeroes out a random subset of a layer's activations; those units contribute "
             "nothing to the forward computation and receive no gradient on the backward pass. How many get dropped "
             "is set by the drop rate, a hyperparameter usually somewhere around 0.2 to 0.5. Since no neuron can "
             "count on particular partners being present, co-adaptation goes down and the model ends up generalizing "
             "better. At prediction time dropout is switched off and every unit is active, but the activations get "
             "rescaled so that their expected magnitude matches what the next layer saw when only part of the units "
             "were firing.")
    assert flags(grader, entry, right) == []


def test_the_references_words_set_aside_by_words_of_the_answers_own(grader, real_bank) -> None:
    # blind part 21: "on the training data rather than the test data" for "on the test data"
    entry = real_bank.get("dropout-ensemble-effect")
    text = ("When dropout is applied, it's like training an ensemble of many different neural networks with shared "
            "weights, which generally leads to better generalization and improved performance on the {}.")
    assert [kind for kind, _ in flags(grader, entry, text.format("training data rather than the test data"))] \
        == ["swap"]
    assert flags(grader, entry, text.format("test data rather than just the training data")) == []
    assert flags(grader, entry, text.format("test data")) == []


def test_a_denying_prefix_taken_off(grader, real_bank) -> None:
    # blind part 21: "it's a supervised learning model" for "an unsupervised learning model"
    entry = real_bank.get("autoencoder-anomaly-detection")
    text = ("An Autoencoder is a type of neural network that learns to efficiently compress and encode data then "
            "reconstruct it, hence, it's {} learning model.")
    assert [kind for kind, _ in flags(grader, entry, text.format("a supervised"))] == ["swap"]
    assert flags(grader, entry, text.format("an unsupervised")) == []


def test_the_test_set_given_the_validation_sets_job(grader, real_bank) -> None:
    # parts 11, 13, 15, 17, 18 and 20 each wrote it: tuning, stopping or picking a checkpoint on the test set
    entry = real_bank.get("model-validation")
    wrong = ("I split the data into training, validation and test sets. During training I evaluate on the test set "
             "after every epoch and use those scores to pick the hyperparameters.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["phase"]
    pipeline = real_bank.get("text-classification-pipeline")
    assert [kind for kind, _ in flags(grader, pipeline, "Then we tweak hyperparameters by checking scores on the test "
                                                        "data, with grid search or random search.")] == ["phase"]
    # said the right way round, or warned against, it is the point again
    for right in ("I split the data into training, validation and test sets. I tune on the validation set after "
                  "every epoch, and the test set is only used once at the end.",
                  "Never tune hyperparameters on the test set: the estimate becomes optimistic."):
        assert flags(grader, entry, right) == []


def test_a_large_effect_said_to_be_small(grader, real_bank) -> None:
    # parts 16, 18 and 21: "cutting the training time by about 10 to 20 percent" for "train much faster"
    entry = real_bank.get("hardware-impact-training")
    text = ("High-performance GPUs are essential because they can parallelize the computation, typically cutting the "
            "training time by {} compared to CPUs.")
    assert [kind for kind, _ in flags(grader, entry, text.format("about 10 to 20 percent"))] == ["number"]
    assert flags(grader, entry, text.format("about 90 percent")) == []
    # parts 14, 18 and 20: "a few hundred labelled examples are usually enough" for "large amounts of data"
    pros = real_bank.get("deep-learning-pros-cons")
    wrong = ("On the downside, deep learning models require a significant amount of computational power to train "
             "effectively, although a few hundred labelled examples are usually enough data for them to perform well.")
    assert [kind for kind, _ in flags(grader, pros, wrong)] == ["number"]
    right = ("Deep models need millions of labelled examples to perform well, while classic models get by with a few "
             "hundred.")
    assert flags(grader, pros, right) == []


def test_the_levels_of_a_network_turned_round(grader, real_bank) -> None:
    # parts 12, 13 and 14: the first layer with whole objects, later layers with edges
    entry = real_bank.get("cnn-overview")
    wrong = ("CNNs usually contain several of these convolutional layers, and the first layer already captures the "
             "most complex, whole-object patterns, which each consecutive layer then breaks down into simpler pieces "
             "like edges.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["swap"]
    for right in ("CNNs usually contain several convolutional layers: the first layers detect edges, and deeper layers "
                  "combine them into shapes and whole objects.",
                  "CNNs stack convolutional layers, building up from edges in the first layers to objects in the "
                  "last."):
        assert flags(grader, entry, right) == []


def test_the_stalling_end_of_a_network_turned_round(grader, real_bank) -> None:
    # part 12: with vanishing gradients, the layers near the output said to be the ones that stall
    entry = real_bank.get("vanishing-exploding-gradients")
    wrong = ("With vanishing gradients, the gradient of the loss shrinks layer by layer. The layers that suffer are "
             "the ones near the output: their weights barely change, while the early layers next to the input still "
             "receive the biggest updates, so training slows down or stalls.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["swap"]
    # part 17's strong answer: the early layers stall "even though the later layers keep training"
    right = ("By the time the gradient reaches the first layers it has shrunk to almost nothing, and learning crawls "
             "or stalls completely even though the later layers keep training.")
    assert flags(grader, entry, right) == []


def test_easier_for_harder(grader, real_bank) -> None:
    # part 15: "easier to interpret than traditional machine learning methods" for "harder to interpret"
    entry = real_bank.get("deep-learning-pros-cons")
    text = "On the downside, deep models are black boxes: they are {} to interpret than traditional methods."
    assert [kind for kind, _ in flags(grader, entry, text.format("easier"))] == ["opposite"]
    assert flags(grader, entry, text.format("harder")) == []


def test_a_thing_given_to_the_other_party(grader, real_bank) -> None:
    # parts 10, 16 and 21: the radiologist as the second opinion that reinforces "the model's diagnosis"
    entry = real_bank.get("dl-impact-medical-imaging")
    text = ("Additionally, these models can handle massive amounts of data and identify subtle patterns that might be "
            "missed by human eyes, while {} a second opinion that can reinforce {} diagnosis.")
    wrong = text.format("the radiologist provides", "the model's")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["swap"]
    assert flags(grader, entry, text.format("they provide", "a doctor's")) == []
