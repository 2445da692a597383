"""Scoring v2, session 15: a wrong claim said in a candidate's own words that the checks now catch, and the right
answers beside it that must stay unflagged."""

from __future__ import annotations

from tests.flagging import Question, flags, one_question

SOFTMAX = "softmax-function"
ACTIVATIONS = "activation-functions-compared"


def test_another_range_that_overlaps_the_points_is_wrong(grader, real_bank) -> None:
    # Part 14's own-words answer: "from minus one to one" overlaps softmax's "between 0 and 1", so it was never
    # "apart" from it, and the sentence is too far from the point by its words for the pair check.
    entry = real_bank.get(SOFTMAX)
    wrong = ("It takes the raw scores coming out of a network and turns them into probabilities. Each output ends up "
             "somewhere from minus one to one, and if you add them all up you get the number of classes. You put it "
             "on the very last layer when there are several classes to choose from.")
    assert ("number", "from minus one to one") in flags(grader, entry, wrong)


def test_the_points_own_range_and_a_neighbours_range_are_not_flagged(grader, real_bank) -> None:
    right = ("It takes the raw scores coming out of a network and turns them into probabilities. Each output ends up "
             "between zero and one, and together they add up to one.")
    assert flags(grader, real_bank.get(SOFTMAX), right) == []
    # tanh's range beside sigmoid's is tanh's, not a wrong one for sigmoid
    both = ("Sigmoid squashes values to between 0 and 1, which suits probabilities. Tanh is its zero-centred "
            "cousin, with outputs from -1 to 1.")
    assert flags(grader, real_bank.get(ACTIVATIONS), both) == []


def test_two_statements_spliced_with_a_comma_are_read_apart(grader, real_bank) -> None:
    # A new user's right one-liner scored 5: "Precision is ..., recall is ..." parses the first clause as the
    # second's complement, so recall's statement held precision's "predicted" and read as the two traded.
    entry = real_bank.get("precision-vs-recall")
    right = ("Precision is how many of your predicted positives are right, recall is how many real positives you "
             "catch, and F1 combines them.")
    assert flags(grader, entry, right) == []
    swapped = ("Precision is how many real positives you catch, recall is how many of your predicted positives are "
               "right, and F1 combines them.")
    assert [kind for kind, _ in flags(grader, entry, swapped)] == ["swap"]


def test_a_list_of_terms_is_capped_and_told_why(grader, real_bank) -> None:
    # a new user's keyword list scored 54 on backpropagation, above a right one-line answer
    from bot.core.grading.guards import MESSAGES

    entry = real_bank.get("backpropagation-step-by-step")
    terms = ("Chain rule, gradients, weights, learning rate, loss, output layer, backward, layer by layer, "
             "iterations, minimize error.")
    graded = grader.rubric_grade(entry, terms)
    assert graded.score <= 15 and MESSAGES["listed"] in graded.notes
    # terse answers that say things, and a bullet list with formulas, are graded as before
    terse = ("Dropout zeroes random units in training, is off at inference, scales activations, reduces overfitting, "
             "acts like an ensemble.")
    said = grader.rubric_grade(real_bank.get("dropout-training-vs-inference"), terse)
    assert said.guard != "listed" and said.score > 15
    bullets = ("- forget gate: f_t = sigmoid(W_f [h_{t-1}, x_t] + b_f) decides what to drop from the cell state\n"
               "- input gate: i_t = sigmoid(W_i [h_{t-1}, x_t] + b_i) decides what new information to write\n"
               "- output gate: o_t = sigmoid(W_o [h_{t-1}, x_t] + b_o), and h_t = o_t * tanh(c_t)")
    assert grader.rubric_grade(real_bank.get("lstm-gates"), bullets).guard != "listed"


def test_a_phase_said_inside_a_frame_or_of_it_is_read(grader, real_bank) -> None:
    # a new user's wrong answer got ✓ on the very point it reverses: the claim sits inside "the thing people forget
    # is that ..." and says "it", meaning the dropout the sentence opened with
    entry = real_bank.get("dropout-training-vs-inference")
    wrong = ("Dropout is a regularizer, and the thing people forget is that it's applied at inference time, not during "
             "training. When the model makes predictions you drop about half the units at random.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["phase"]
    assert [kind for kind, _ in flags(grader, entry, "I think dropout is applied at inference time, not during "
                                                     "training.")] == ["phase"]
    right = ("Dropout is a regularizer, and the thing people forget is that it's only applied during training, not at "
             "inference. When the model makes predictions every unit is used.")
    assert flags(grader, entry, right) == []


def test_adding_the_gradient_is_the_opposite_of_subtracting_it(grader, real_bank) -> None:
    # a new user's wrong answer got ✓ "Each weight is updated by subtracting its gradient ..." for "adding"
    entry = real_bank.get("backpropagation-step-by-step")
    wrong = ("First you do a forward pass and compute the loss. Then you update each weight by adding the gradient "
             "times the learning rate, so the weights move in the direction the gradient points.")
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["opposite"]
    right = ("First you do a forward pass and compute the loss. Then you update each weight by subtracting the "
             "gradient times the learning rate, so the weights move against the gradient.")
    assert flags(grader, entry, right) == []


CIDR = Question("net-subnetting-cidr",
                "Explain subnetting and CIDR notation. How many usable hosts does a /26 network have?",
                "CIDR writes a network as an address plus a prefix length, such as 192.168.1.0/24, where the number "
                "says how many leading bits identify the network; the remaining bits number the hosts. A /24 therefore "
                "leaves 8 host bits, or 256 addresses. Subnetting borrows host bits to split a block into smaller "
                "networks: a /24 splits into four /26 subnets of 64 addresses each. In every subnet the all-zeros "
                "address is the network address and the all-ones address is the broadcast, so a /26 has 62 usable "
                "hosts.", deck="networking", topic="networking")


def test_a_prefix_length_is_not_a_division(grader, tmp_path) -> None:
    # blind part 15's user deck: the question pasted back scored 26, "a /26 network" read as "a divided by 26 network"
    # gave it a word of its own
    from bot.core.grading import spoken

    assert spoken.normalise("does a /26 network have?", spoken.Wording({}, ())) == "does a /26 network have?"
    assert spoken.normalise("TP/(TP+FP)", spoken.Wording({}, ())) == "TP divided by (TP plus FP)"
    entry = one_question(tmp_path, CIDR)
    echoed = grader.rubric_grade(entry, CIDR.question)
    assert echoed.guard == "echo" and echoed.score == 0


def test_right_answers_of_blind_part_15_that_were_flagged(grader, real_bank) -> None:
    # "Grid and random search" names grid search too: one head said once for both terms
    grid = ("Grid and random search helped tune hyperparameters but ate a lot of time, and for the architecture I "
            "started from published work and similar past problems.")
    assert flags(grader, real_bank.get("implementation-challenges-experience"), grid) == []
    # Adam opens the clause as it opens the point, though "RMSprop" stands where the point has "combines the ideas"
    optimizers = ("RMSprop adapts each weight's step size to its recent gradients, and Adam mixes the RMSprop idea "
                  "with momentum.")
    assert flags(grader, real_bank.get("optimizer-role"), optimizers) == []
    assert [k for k, _ in flags(grader, real_bank.get("optimizer-role"),
                                "RMSprop combines the ideas of Adam and momentum.")] == ["swap"]
    # a verb of its own ("stacks ... artificial neurons") trades nothing with "both branches of artificial
    # intelligence"
    deep = ("Deep learning stacks lots of layers of artificial neurons into a network, which is where the word deep "
            "comes from, and it is far hungrier for both data and computing power.")
    assert flags(grader, real_bank.get("deep-learning-vs-machine-learning"), deep) == []
    # ... while a definition said with "measures" is still read as one: part 15's swapped precision
    swapped = ("Precision measures the proportion of true positive predictions out of all the actual positive cases, "
               "so it tells you how well the model is capturing all the actual positive instances. Recall, on the "
               "other hand, measures the proportion of true positive predictions out of all the positive predictions "
               "made by the model.")
    # (since session 18 the first sentence is also read as recall's definition with "precision" put in: two points)
    assert {k for k, _ in flags(grader, real_bank.get("precision-vs-recall"), swapped)} == {"swap"}
    # ... but a joined pair the point does not name both of is still a swap (tests/test_claims_round4.py)
    merged = "GRUs merge the input and output gates into a single update gate and keep no separate cell state."
    assert ("swap", "output gates") in flags(grader, real_bank.get("rnn-lstm-gru-comparison"), merged)
