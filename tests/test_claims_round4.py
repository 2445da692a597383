"""Scoring v2, round 4: right answers that the claim checks flagged, one test per cause, and wrong ones still caught.

Each cause was found on a right answer of a development set; the sentences here are new, written for these tests:
a "without" that reached past its own object, a negated comparison ("no better than chance"), an alternative set
aside ("instead of ..."), one name of an "or" list given instead of another, "This" read as a pronoun in front of a
name, a phase word that only describes a noun ("the trained model"), a mirrored statement that shares words but not
what they are said of, and two list items of one point ("the left subtree, then the root, then the right subtree").
"""

from __future__ import annotations

import pytest

from bot.core.bank import load_bank
from bot.core.grading import anchors, checks, conflicts, names
from tests.flagging import flags

TRAVERSAL_DECK = """\
deck: trees
title: Tree questions
questions:
  - id: tree-inorder
    question: What does an inorder traversal of a binary tree do?
    topics: [trees]
    difficulty: 1
    kind: concept
    answer: Traverse the left subtree, then the root, then the right subtree.
"""


# -- the dependency helpers ----------------------------------------------------------------------------------------

def _span(text: str, words: str) -> tuple[int, int]:
    at = text.index(words)
    return at, at + len(words)


def test_a_copulas_complement_hangs_from_its_subject() -> None:
    text = "Whenever the loss was very high, the run was stopped."
    assert anchors.governors(text, _span(text, "high"))[0] == "loss"


def test_list_items_are_coordinated_and_two_subjects_are_not() -> None:
    listed = "Visit the left child, then the node, then the right child."
    assert anchors.coordinated(listed, _span(listed, "left child"), _span(listed, "right child"))
    roles = "The encoder compresses the input and the decoder rebuilds it."
    assert not anchors.coordinated(roles, _span(roles, "encoder"), _span(roles, "decoder"))


def test_this_before_a_name_is_no_pronoun_and_a_participle_before_a_noun_only_describes_it() -> None:
    assert anchors.pronoun_first("It halves the learning rate.")
    assert not anchors.pronoun_first("This Week In Tech covers the news.")
    text = "Ship the trained network to the server."
    assert anchors.modifies_noun(text, _span(text, "trained"))
    clause = "The network is trained on the server."
    assert not anchors.modifies_noun(clause, _span(clause, "trained"))


# -- a: "without" denies its own object ------------------------------------------------------------------------------

POINT_MINIMIZE = "Training minimizes the reconstruction error between input and output."


def test_without_reaches_its_object_not_the_next_phrase() -> None:
    right = "The network learns without any labels by minimizing how far the reconstruction is from the input."
    assert conflicts.negation_conflict(right, POINT_MINIMIZE, set()) is None
    wrong = "The network is trained without minimizing the reconstruction error."
    assert conflicts.negation_conflict(wrong, POINT_MINIMIZE, set()) is not None


def test_without_and_a_gerund_keeps_the_gerunds_object() -> None:
    wrong = "Each word is encoded without looking at the words around it."
    assert conflicts.negation_conflict(wrong, "Each word looks at the words around it to build its encoding.",
                                       set()) is not None


# -- b: a negated comparison sets a bound, it denies nothing ---------------------------------------------------------

def test_no_better_than_chance_is_not_a_denial() -> None:
    point = "An AUC closer to 1 indicates a better model."
    assert conflicts.negation_conflict("An AUC of 0.5 is no better than guessing.", point, set()) is None
    assert conflicts.negation_conflict("A higher AUC does not mean a better model.", point, set()) is not None


# -- c: an alternative set aside -----------------------------------------------------------------------------------

def test_a_phrase_after_instead_of_or_rather_than_is_set_aside() -> None:
    sentence = "Rather than giving each token the same weight, the layer scores how relevant every other token is."
    assert checks.set_aside("each token the same weight", [sentence])
    assert not checks.set_aside("every other token", [sentence])


def test_an_attention_answer_that_sets_uniform_weights_aside_is_not_flagged(grader, real_bank) -> None:
    entry = real_bank.get("attention-mechanism")
    text = ("Attention lets the model concentrate on the parts of the input that matter for the current output. "
            "Instead of giving every input element the same importance, it learns a weight for each element and "
            "takes the weighted sum.")
    assert flags(grader, entry, text) == []


# -- d: names listed with "or" are alternatives, with "and" each is claimed ----------------------------------------

def test_one_name_of_an_or_list_stands_for_the_list() -> None:
    points = ["Managed platforms like Heroku or Render host the web app and scale it."]
    known = names.entry_stems(["Where would you host a small web app?", *points])
    answer = "Managed platforms such as Netlify host the web app and scale it, much like Render."
    assert names.misnamed(answer, points, known, [0], answer) == []


def test_a_name_of_an_and_list_replaced_is_still_the_wrong_entity() -> None:
    points = ["The backend keeps its data in Postgres and Redis for speed."]
    known = names.entry_stems(["Where does the backend keep its data?", *points])
    answer = "The backend keeps its data in Postgres and MongoDB for speed."
    assert [m.name for m in names.misnamed(answer, points, known, [0], answer)] == ["MongoDB"]


# -- e, f, g: the grader on right answers of the deck ----------------------------------------------------------------

@pytest.mark.parametrize(("entry_id", "text"), [
    ("gans-content-creation", "GANs can make convincing faces of people who never lived, as the This Person Does Not "
                              "Exist site shows."),
    ("model-deployment-steps", "I'd export the trained model and serve it through a REST API."),
    ("batchnorm-vs-layernorm", "Both keep the distribution of layer inputs stable, so training speeds up. Batch "
                               "normalization computes the mean and variance of every feature across the examples of "
                               "the mini-batch. Layer normalization normalizes over all the features of a single "
                               "example, so it does not depend on the batch size and suits RNNs."),
])
def test_right_answers_are_not_flagged(grader, real_bank, entry_id, text) -> None:
    assert flags(grader, real_bank.get(entry_id), text) == []


def test_a_statement_mirrored_with_its_words_said_of_the_other_set_is_still_caught(grader, real_bank) -> None:
    text = "The test set is the one we use to tune hyperparameters and choose the best model."
    found = flags(grader, real_bank.get("data-preparation-steps"), text)
    assert found and all(kind in ("mirror", "swap") for kind, _ in found), found


# -- h: two items of one list in a point ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def inorder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decks")
    (folder / "trees.yaml").write_text(TRAVERSAL_DECK)
    return load_bank(folder).get("tree-inorder")


def test_naming_the_last_item_of_a_listed_order_is_no_swap(grader, inorder) -> None:
    for text in ("visit left subtree. visit root. traverse the right subtree.",
                 "First the left subtree is visited. Next comes the root. Last, we traverse the right subtree."):
        assert flags(grader, inorder, text) == [], text


# -- predicates joined under one subject are claims of their own ----------------------------------------------------

def test_two_predicates_under_one_subject_are_split() -> None:
    text = "The cache keeps recent pages in memory and writes old ones to disk, so reads stay fast."
    pieces = [text[a:b].strip() for a, b in anchors.predicates(text, (0, len(text)))]
    assert pieces[0] == "The cache keeps recent pages in memory"
    assert pieces[1].startswith("writes old ones to disk")
    assert anchors.predicates("The cache keeps pages and files in memory.", (0, 41)) == []


def test_a_list_member_exchanged_inside_the_first_of_two_predicates_is_caught(grader, real_bank) -> None:
    entry = real_bank.get("rnn-lstm-gru-comparison")
    wrong = "GRUs merge the input and output gates into a single update gate and keep no separate cell state."
    assert ("swap", "output gates") in flags(grader, entry, wrong)
    right = "GRUs merge the forget and input gates into a single update gate and keep no separate cell state."
    assert flags(grader, entry, right) == []
