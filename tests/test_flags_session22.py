"""Session 22: another of the point's kind in its place, the training set watched to stop, and three right answers of
blind part 22 that were flagged."""

from __future__ import annotations

from tests.flagging import flags


def test_another_problem_of_the_same_kind_in_the_points_place(grader, real_bank) -> None:
    # parts 14, 18, 21 and 22 each wrote it: the entry never names dying ReLU, and the answer never says vanishing
    entry = real_bank.get("time-series-rnn-experience")
    wrong = "However, vanilla RNNs can suffer from the dying ReLU problem, where units get stuck outputting zero."
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["entity"]
    right = "However, vanilla RNNs suffer from vanishing gradients, so they struggle with long-term dependencies."
    assert flags(grader, entry, right) == []


def test_another_model_family_approximating_the_value_function(grader, real_bank) -> None:
    # parts 19 and 20: decision trees where the point has neural networks
    entry = real_bank.get("deep-rl-use-case")
    wrong = ("The agent reads camera, lidar and other sensors by using decision trees to approximate the value or "
             "policy functions.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["entity"]
    right = ("The agent reads camera, lidar and other sensors by using a deep neural network to approximate the value "
             "or policy functions.")
    assert flags(grader, entry, right) == []


def test_a_member_the_entry_names_elsewhere_counts_in_a_clause_that_says_the_whole_point(grader, real_bank) -> None:
    # part 14: pooling is named by the entry, but not for classifying; the clause says the rest of the point whole
    entry = real_bank.get("image-recognition-cnn")
    wrong = ("At the end of the network, a final max-pooling layer is what classifies the image based on the "
             "high-level features.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["entity"]
    right = ("At the end of the network, fully connected layers classify the image based on the high-level features, "
             "after pooling has shrunk the maps.")
    assert flags(grader, entry, right) == []


def test_a_member_that_a_point_of_its_own_names_is_its_own_claim(grader, real_bank) -> None:
    # the strict reading flagged the reference's own sentence: batch normalization has a point of its own
    entry = real_bank.get("batchnorm-vs-layernorm")
    assert flags(grader, entry, "Batch Normalization normalizes the input features across the batch dimension.") == []


def test_early_stopping_by_watching_the_training_loss(grader, real_bank) -> None:
    # parts 12 and 17, and session 21's new-user trial
    entry = real_bank.get("preventing-overfitting-practical")
    wrong = ("And I'd use early stopping, where you watch the training loss after each epoch and stop as soon as it "
             "starts going up.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["phase"]
    right = ("And I'd use early stopping: stop as soon as the validation loss starts going up, even while the training "
             "loss keeps falling.")
    assert flags(grader, entry, right) == []


def test_a_loss_denied_after_its_thing_agrees_with_a_point_that_preserves(grader, real_bank) -> None:
    # blind part 22's strong answer: "no representational power is lost" restates "preserve ... capacity"
    entry = real_bank.get("batch-normalization")
    right = ("It then applies a learned scale and shift, so the network can undo the normalization if that serves it "
             "better, which means no representational power is lost.")
    assert flags(grader, entry, right) == []


def test_a_compared_side_named_beside_the_points_side(grader, real_bank) -> None:
    # blind part 22's strong answer: the zeros of "better than zeros" were read as the answer's own choice
    entry = real_bank.get("weight-initialization")
    right = ("And you want small random values: initializing everything to zero leaves all neurons identical, while "
             "large values saturate activations.")
    assert flags(grader, entry, right) == []
    wrong = "Initialize all the weights to zero, which works better than small random values."
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["opposite"]


def test_a_participle_between_a_comparative_and_its_thing(grader, real_bank) -> None:
    # blind part 22: "needs more labeled data" against "needs much less data"; "labeled" took the comparative's slot,
    # and the reason before the comma ("so large") made the clause tie between two points
    entry = real_bank.get("transfer-learning-benefits")
    wrong = ("Because the pre-trained model is so large, it usually needs more labeled data than a model trained from "
             "scratch.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["opposite"]
    right = "It usually needs far less labeled data than a model trained from scratch."
    assert flags(grader, entry, right) == []


def test_a_clause_that_says_a_point_whole_with_another_member_as_its_subject(grader, real_bank) -> None:
    # parts 16, 18, 21 and 22: pooling's job given to the convolutional layer; the answer names pooling elsewhere
    entry = real_bank.get("cnn-conv-vs-pooling")
    wrong = ("Pooling layers shrink the height and width of the maps, and it is the convolutional layer that decreases "
             "the computational complexity of the network and helps control overfitting.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["entity"]
    right = ("Convolutional layers learn the features, and it is the pooling layer that decreases the computational "
             "complexity of the network and helps control overfitting.")
    assert flags(grader, entry, right) == []


def test_words_both_sides_share_do_not_say_a_point_whole(grader, real_bank) -> None:
    # part 20's own-words right answer: "across", "feature" and "examples" are said of batch and layer norm alike
    entry = real_bank.get("batchnorm-vs-layernorm")
    assert flags(grader, entry, "Batch norm works per feature across the examples in a mini-batch.") == []


def test_a_tie_is_read_from_the_quote_on_only_after_a_reason(grader, real_bank) -> None:
    # part 15's own-words right answer: without a reason before the comma, a clause that ties between two points is
    # not read from the opposite word on ("shrinks" is pooling's job, not the opposite of "more robust")
    entry = real_bank.get("cnn-layer-types")
    right = ("Pooling, usually max pooling, shrinks the feature maps to save computation and makes the features "
             "tolerant of small shifts and distortions.")
    assert flags(grader, entry, right) == []


def test_two_initials_the_entry_spells_out_are_read_in_full(grader, real_bank) -> None:
    # blind part 22: AI and ML's nesting turned round, said with the initials the reference defines
    entry = real_bank.get("ai-ml-dl-relationship")
    assert [kind for kind, _ in flags(grader, entry, "AI is a subset of ML.")] == ["swap"]
    assert flags(grader, entry, "ML is a subset of AI.") == []
    assert flags(grader, entry, "AI is the broad field, and ML is a subset of AI that learns patterns from data.") == []


def test_a_thing_of_training_placed_at_inference(grader, real_bank) -> None:
    # parts 20 and 22 (the reference's words and a candidate's own): vanishing gradients said to occur at inference
    entry = real_bank.get("vanishing-gradient-remedies")
    wrong = "The vanishing gradient problem occurs when a trained neural network is run for inference on new data."
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["phase"]
    right = ("The vanishing gradient problem occurs while the network is trained: the gradients shrink so much that "
             "the early weights barely update.")
    assert flags(grader, entry, right) == []


def test_a_graph_built_at_runtime_said_fixed_ahead_of_time(grader, real_bank) -> None:
    # parts 20 and 22: "compiled once before training starts and then stays fixed" for a dynamic graph
    entry = real_bank.get("pytorch-overview")
    wrong = ("The first is its dynamic computational graph, which is defined and compiled once before training starts "
             "and then stays fixed while the model runs.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["phase"]
    right = ("The first is its dynamic computational graph, built as the code runs rather than compiled once ahead of "
             "time, so loops and if-conditions just work.")
    assert flags(grader, entry, right) == []


def test_a_member_put_beside_one_of_the_points_own(grader, real_bank) -> None:
    # a new user's trial and parts 1 and 18: "RMSprop and dropout" for "RMSprop and momentum"
    entry = real_bank.get("optimizer-role")
    wrong = "SGD, Adam and RMSprop differ: Adam combines the ideas of RMSprop and dropout."
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["entity"]
    assert flags(grader, entry, "SGD, Adam and RMSprop differ: Adam combines the ideas of RMSprop and momentum.") == []


def test_a_one_letter_kind_of_the_references_word_is_no_other_word(grader, real_bank) -> None:
    # a new user's trial: "the policy or the Q-value function" for "value or policy functions" was read as an exchange
    entry = real_bank.get("deep-rl-use-case")
    right = ("A deep neural network, often a CNN over camera frames, approximates the policy or the Q-value function "
             "from that high-dimensional sensor input.")
    assert flags(grader, entry, right) == []


def test_a_denial_that_says_the_verb_it_replaced(grader, real_bank) -> None:
    # a new user's trial: "so gradients don't vanish or explode" for "to prevent vanishing or exploding gradients"
    entry = real_bank.get("weight-initialization")
    assert flags(grader, entry, "Both keep the gradient scale stable so gradients don't vanish or explode.") == []


def test_what_follows_an_opening_without_says_the_things_absence(grader, real_bank) -> None:
    # a new user's trial: the denial describes the network without activations, it denies no point
    entry = real_bank.get("why-activation-functions")
    right = ("Without activation functions the stacked layers would collapse into one linear function, so the network "
             "couldn't learn non-linear patterns.")
    assert flags(grader, entry, right) == []
    assert flags(grader, entry, "Activation functions do not introduce non-linearity into the model.") != []


def test_an_opening_also_adds_a_sentence_it_relates_no_two_doers(grader, real_bank) -> None:
    # a new user's trial: "Also," kept the who-does-what check from reading the sentence ("X also does it" is left)
    entry = real_bank.get("vanishing-gradient-remedies")
    wrong = "Also, sigmoid and tanh propagate gradients better than ReLU, so you should prefer sigmoid activations."
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["swap"]
    assert flags(grader, entry, "Also, ReLU propagates gradients better than sigmoid or tanh activations.") == []
