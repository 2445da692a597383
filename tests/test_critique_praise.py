"""Praise never echoes a claim the reference does not make (a wrong sentence the rubric matched by topic)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.embedder import HashEmbedder
from bot.core.grading.critique_checks import sentence_problem, stems, unsupported
from bot.core.grading.grader import Grader
from bot.core.testing import FakeLLM
from tests.narrow import must

FOLLOW = "Since neurons drop out at random, what can a neuron no longer count on from the others?"
GAP = "You did not explain that neurons cannot rely on specific other neurons, so the features become robust."


@pytest.fixture()
def dropout(test_bank):
    return test_bank.get("dropout")


def reference(entry: Any) -> set[str]:
    return stems(" ".join([entry.answer, entry.question, *entry.points]))


def grade_with(entry: Any, answer: str, right: str, follow: str = FOLLOW) -> Any:
    text = "\n".join([f"Right (key point 1): {right}", f"Missing (key point 2): {GAP}",
                      f"Follow-up (key point 2): {follow}"])
    return Grader(HashEmbedder(), llm=FakeLLM(respond=lambda p: text)).grade(entry, answer)


def test_praise_in_the_references_words_is_supported(dropout) -> None:
    ref = reference(dropout)
    assert not unsupported('You rightly said dropout "randomly turns off a fraction of neurons" while training.', ref)
    assert not unsupported("You correctly explained that dropout turns off neurons during each training step.", ref)


def test_praise_that_quotes_a_claim_of_the_answers_own_is_unsupported(dropout) -> None:
    ref = reference(dropout)
    assert unsupported('You correctly said dropout "leaks memory between time steps of an RNN".', ref)
    # No quotation, but most of what it praises is nowhere in the reference.
    assert unsupported("You correctly explained that dropout deletes the weakest weights permanently, like pruning.",
                       ref)


def test_a_wrong_sentence_matched_by_topic_is_not_praised(dropout) -> None:
    answer = ("Dropout randomly turns off a fraction of neurons during each training step and leaks memory between "
              "time steps, like pruning recurrent cells permanently.")
    echo = 'You correctly said dropout "leaks memory between time steps, like pruning recurrent cells".'
    grade = grade_with(dropout, answer, echo)
    assert grade.result is not None and grade.result.points[0].covered  # the rubric matched it by topic
    assert echo not in grade.strengths and "right" not in must(grade.critique).kept
    # Its own words make the same claims: no "You were on target with …" line either.
    assert grade.strengths == []


def test_a_right_sentence_keeps_its_praise_when_the_models_line_is_off(dropout) -> None:
    answer = ("Dropout randomly turns off a fraction of neurons during each training step. "
              "It is only applied during training, not at inference.")
    echo = 'You correctly said dropout "leaks memory between time steps, like pruning recurrent cells".'
    grade = grade_with(dropout, answer, echo)
    assert echo not in grade.strengths
    assert grade.strengths and grade.strengths[0].startswith('You were on target with "Dropout randomly turns off')


def test_supported_praise_from_the_model_is_kept(dropout) -> None:
    answer = ("Dropout randomly turns off a fraction of neurons during each training step. "
              "It is only applied during training, not at inference.")
    praise = 'You rightly said dropout "randomly turns off a fraction of neurons" while training.'
    grade = grade_with(dropout, answer, praise)
    assert grade.strengths == [praise] and "right" in must(grade.critique).kept


def test_grade_json_shows_what_went_well_before_what_is_missing(dropout) -> None:
    answer = ("Dropout randomly turns off a fraction of neurons during each training step. "
              "It is only applied during training, not at inference.")
    praise = 'You rightly said dropout "randomly turns off a fraction of neurons" while training.'
    grade = grade_with(dropout, answer, praise)
    data = grade.to_json()
    assert data["feedback"][0] == praise and GAP in data["feedback"]


def test_a_sentence_holding_a_contradicted_claim_is_never_praised(dropout) -> None:
    # The rubric matches the first sentence to point 1; code finds its contradiction of point 4 in the same sentence.
    answer = ("Dropout randomly turns off a fraction of neurons during each training step, and it increases "
              "overfitting because it acts like an ensemble of thinned networks.")
    echo = 'You correctly said dropout "increases overfitting" by acting like an ensemble of thinned networks.'
    grade = grade_with(dropout, answer, echo, "Why is training with dropout often compared to training many networks?")
    assert grade.contradictions and grade.contradictions[0].quote in answer
    assert grade.llm and "follow_up" in must(grade.critique).kept  # the model's critique is in use
    assert grade.strengths == [] and not any("on target" in line for line in grade.to_json()["feedback"])


def test_a_long_right_sentence_is_quoted_up_to_a_clause_not_cut_after_and(dropout) -> None:
    answer = ("Dropout randomly turns off a fraction of the neurons during each training step, so that the network "
              "cannot lean on any single unit and the features it learns have to be spread over many units.")
    grade = grade_with(dropout, answer, "")  # the model wrote no Right line: the rubric's own line is shown
    line = grade.strengths[0]
    assert line.startswith('You were on target with "Dropout randomly turns off') and line.endswith('…".')
    assert sentence_problem(line) is None, line  # it reads as a whole sentence, not one cut off after "and"
    assert 'and …"' not in line and 'the …"' not in line
