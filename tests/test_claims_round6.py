"""Scoring v2, round 6: right answers that the claim checks flagged on the development sets, one test per cause.

Each cause was found on a strong or partial answer (scored 0 or 10) of part 4, 5 or 6 or of a user deck; the
sentences here are new, written for these tests, and each was flagged before the fix. The guards beside them check
that the wrong claim of the same shape is still caught.
"""

from __future__ import annotations

from bot.core.grading import bindings, conflicts, opposites
from tests.flagging import flags


def test_a_term_after_its_is_what_something_has_not_the_sibling(grader, real_bank) -> None:
    # "Each hidden node computes a weighted sum of its inputs": those inputs are no input layer.
    entry = real_bank.get("ann-layer-structure")
    assert flags(grader, entry, "A hidden node takes a weighted sum of what the previous layer hands it and then "
                                "applies an activation function.") == []
    assert flags(grader, entry, "The output layer receives the raw data, with one node per input feature.") != []


def test_the_commas_of_a_list_of_siblings_do_not_cut_it_off_from_its_words(grader, real_bank) -> None:
    entry = real_bank.get("model-validation")
    assert flags(grader, entry, "We divide the data into training, validation and test sets and touch the test set "
                                "only once, at the end.") == []


def test_names_given_as_examples_in_brackets_replace_nothing(grader, real_bank) -> None:
    entry = real_bank.get("model-deployment-steps")
    assert flags(grader, entry, "Expose it through a REST endpoint (Flask or FastAPI) that takes input data and "
                                "returns predictions.") == []
    # a name that takes the point's place is still the wrong entity
    assert ("entity", "Google") in flags(grader, real_bank.get("pytorch-overview"),
                                         "PyTorch is an open-source deep learning framework developed by the "
                                         "Google Brain team.")


def test_a_comparative_is_said_of_what_follows_when_the_noun_before_has_its_own_size_word(grader,
                                                                                          real_bank) -> None:
    entry = real_bank.get("batch-size-tradeoffs")
    assert flags(grader, entry, "Big batches make fewer updates per epoch, so they often need more epochs to "
                                "converge.") == []
    assert [k for k, _ in flags(grader, entry, "Large batches need fewer epochs to converge.")] == ["opposite"]


def test_a_verb_read_as_a_noun_makes_no_term(grader, real_bank) -> None:
    # "Mean squared error suits regression": the small pipeline reads "error suits" as a noun phrase.
    entry = real_bank.get("loss-function-role")
    terms = {" ".join(t.stems) for t in grader.claims.vocabularies.of(entry).terms}
    assert not any(t.endswith(("suit", "suits")) for t in terms)
    assert flags(grader, entry, "Use mean squared error for regression and cross-entropy for classification.") == []


POINT_ONLY = "Only kernel mode may touch hardware and kernel memory directly."


def test_denying_to_others_what_a_point_allows_only_one_agrees_with_it() -> None:
    assert conflicts.negation_conflict("User programs run in user mode and cannot touch hardware.", POINT_ONLY,
                                       set()) is None
    assert conflicts.negation_conflict("Kernel mode cannot touch hardware or kernel memory directly.", POINT_ONLY,
                                       set()) is not None


POINT_HELD = "Mutual exclusion (a resource can be held by only one thread at a time) is one of the four conditions."


def test_a_count_bound_to_a_noun_in_another_clause_is_no_conflict() -> None:
    # "two threads" counts who takes part in a deadlock, not how many may hold a resource
    assert bindings.binding_conflict("A deadlock is when two threads each wait for a lock the other has.",
                                     POINT_HELD) is None
    assert bindings.binding_conflict("A resource can be held by two threads at a time.", POINT_HELD) is not None


def test_the_size_word_after_than_is_what_the_point_is_compared_with(grader, real_bank) -> None:
    # found on part 7 after its blind run: "big errors get penalized much more than small ones" says the point
    entry = real_bank.get("loss-function-role")
    assert flags(grader, entry, "For regression I take MSE; squaring means big errors are penalized much more than "
                                "small ones.") == []


def test_a_word_describes_its_own_noun_not_the_one_after_of() -> None:
    point = "Multi-head attention runs several attention heads in parallel on the same input."
    assert opposites.opposite_conflict("Several heads run side by side, and each one can attend to different parts of "
                                       "the input.", point) is None
    assert opposites.opposite_conflict("The heads run in parallel on different inputs.", point) is not None
