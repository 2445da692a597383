"""Round 4 of the critique's quality: the benchmark checks each improvement line against the point the product asked
it about, agreeing negations are no contradiction, a contradiction line never reads as garbled, and praise of a
flagged sentence in other words is refused. Every sentence here is new (none from an evaluation set)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from benchmarks.critique_quality import evaluate, improvement_points
from bot.core.embedder import HashEmbedder
from bot.core.grading import critique as cq
from bot.core.grading.conflicts import Contradiction, topic_stems
from bot.core.grading.critique_checks import sentence_problem
from bot.core.grading.grader import Grader
from bot.core.grading.lines import contradiction_line, contradiction_lines
from bot.core.grading.pairwise import conflict
from bot.core.testing import FakeLLM
from tests.narrow import must

ANSWER = ("Dropout randomly turns off a fraction of neurons during each training step. "
          "It is only applied during training, not at inference.")
GAP = "You did not explain that neurons cannot rely on specific other neurons, so the features become robust."
# About point 4 (the ensemble), but its words sit nearly as close to covered point 1: the product keeps it.
STRONGER = ("A strong answer would add that each training step turns off neurons, so it acts like an ensemble of "
            "thinned networks and reduces overfitting.")
FOLLOW = "Since neurons drop out at random, what can a neuron no longer count on from the others?"


def scripted(right: str, stronger: str | None = None) -> str:
    out = [f"Right (key point 1): {right}", f"Missing (key point 2): {GAP}"]
    if stronger:
        out.append(f"Stronger (key point 4): {stronger}")
    return "\n".join([*out, f"Follow-up (key point 2): {FOLLOW}"])


@pytest.fixture()
def dropout(test_bank: Any) -> Any:
    return test_bank.get("dropout")


def graded(entry: Any, answer: str, text: str) -> tuple[Grader, Any]:
    grader = Grader(HashEmbedder(), llm=FakeLLM(respond=lambda p: text))
    return grader, grader.grade(entry, answer)


# -- 1. the benchmark checks what the product promises ------------------------------------------------------------


def test_the_benchmark_checks_the_stronger_line_against_the_next_missed_point(dropout: Any) -> None:
    grader, grade = graded(dropout, ANSWER, scripted("You rightly said dropout turns off neurons while training.",
                                                     STRONGER))
    plan = cq.plan(must(grade.result), grade.contradictions)
    assert (plan.gap, plan.extra) == (1, 3)
    assert {"gap", "stronger"} <= set(must(grade.critique).kept)  # the product kept both lines
    assert improvement_points(plan, grade) == [(GAP, 1), (STRONGER, 3)]
    item = {"answer": ANSWER, "must_mention": [], "must_not_say": []}
    problems = evaluate(grader, dropout, item, grade)["problems"]
    assert not [p for p in problems if p.startswith("disagrees")], problems


def test_the_benchmark_still_catches_a_line_that_calls_a_covered_point_missing(dropout: Any) -> None:
    grader, grade = graded(dropout, ANSWER, scripted("You rightly said dropout turns off neurons while training.",
                                                     STRONGER))
    covered = ("A strong answer would add that dropout randomly turns off a fraction of neurons during each "
               "training step.")
    shown = dataclasses.replace(grade, improvements=[GAP, covered])
    item = {"answer": ANSWER, "must_mention": [], "must_not_say": []}
    problems = evaluate(grader, dropout, item, shown)["problems"]
    assert any(p.startswith("disagrees with the rubric") and "randomly turns off" in p for p in problems)


# -- 2. agreeing negations; contradiction lines that would read as garbled -----------------------------------------

PENALTY_Q = "How would you stop a model from overfitting?"


@pytest.mark.parametrize(("sentence", "point"), [
    ("Shrinking the weights means the model won't over-rely on one particular feature.",
     "Penalizing weights discourages the model from over-relying on any single feature."),
    ("With weight decay the network does not memorize every noisy label.",
     "Weight decay deters the network from memorizing noisy labels."),
])
def test_a_negation_that_agrees_with_a_negative_point_is_no_contradiction(sentence: str, point: str) -> None:
    assert conflict(sentence, point, topic_stems(PENALTY_Q, [point])) is None


def test_a_denial_of_a_plain_point_is_still_found() -> None:
    point = "Penalizing weights keeps the model simple."
    assert conflict("Penalizing weights doesn't keep the model simple.", point, topic_stems(PENALTY_Q, [point]))


def test_the_real_rubric_does_not_deny_an_answer_that_agrees_in_other_words(real_bank: Any,
                                                                             real_embedder: Any) -> None:
    entry = real_bank.get("preventing-overfitting-practical")
    answer = ("I'd put an L2 term on the loss so large weights cost something, which means the model won't over-rely "
              "on one particular feature. Then dropout, and I'd stop once validation loss stops going down.")
    grade = Grader(real_embedder).rubric_grade(entry, answer)
    assert grade.contradictions == []
    assert not any(line.startswith("You wrote") for line in grade.feedback)


def test_a_true_contradiction_that_reuses_the_references_phrase_is_shown_and_not_garbled() -> None:
    c = Contradiction(0, "maximizes the validation loss", "Training minimizes the validation loss on held-out data.",
                      "opposite")
    assert contradiction_lines([c]) == [contradiction_line(c)]
    assert sentence_problem(contradiction_line(c)) is None


def test_repetition_outside_or_inside_a_quotation_is_still_garbled() -> None:
    assert sentence_problem("You explained the validation loss and then the validation loss again.") \
        == "garbled: a phrase repeated"
    assert sentence_problem('You wrote "the loss the loss the loss" in one breath.') == "garbled: a phrase repeated"


def test_a_contradiction_line_that_reads_as_garbled_is_dropped(dropout: Any) -> None:
    stray = Contradiction(2, 'it runs on the 15" laptop at inference', "Dropout is only applied during training.")
    foreign = Contradiction(2, "всегда включён", "Dropout is only applied during training.")
    kept = Contradiction(3, "increases overfitting", "It reduces overfitting by acting like an ensemble.", "opposite")
    assert contradiction_lines([stray, foreign, kept]) == [contradiction_line(kept)]


# -- 3. praise of a flagged sentence in other words ---------------------------------------------------------------

MIXED = ("Dropout randomly turns off a fraction of neurons during each training step, acting like an ensemble of "
         "thinned networks that increases overfitting. It is only applied during training, not at inference.")


@pytest.mark.parametrize("praise", [
    "You correctly said that switching off random neurons in every training step makes the network overfit more.",
    "You correctly said that turning off a random fraction of neurons each training step works like a thin ensemble.",
])
def test_praise_that_paraphrases_a_flagged_sentence_is_refused(dropout: Any, praise: str) -> None:
    grader, grade = graded(dropout, MIXED, scripted(praise))
    assert [c.quote for c in grade.contradictions] == ["increases overfitting"]
    assert "increases overfitting" not in praise  # no verbatim quote: the earlier check let it through
    assert grader.checks(dropout, grade).right(praise, 0) == "praises a contradicted claim"
    assert praise not in grade.strengths and "right" not in must(grade.critique).kept
    assert not any("increases overfitting" in s for s in grade.strengths)


def test_praise_of_a_clean_sentence_of_the_same_answer_is_kept(dropout: Any) -> None:
    praise = "You rightly said dropout is only applied during training and not at inference."
    grader, grade = graded(dropout, MIXED, scripted(praise))
    assert grade.strengths == [praise]

