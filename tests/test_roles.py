"""Scoring v2, session 12: who does what, read from the dependency parse (bot/core/grading/roles.py).

A clause that gives a point's action, on the point's object, to another noun of the same point ("the discriminator
creates the data"), and a clause that says of one defined term what a point defines another by ("explainability is
how well a human can understand ..."), are flagged even where the entry's vocabulary does not name both as sibling
terms. The answers were written for these tests, not taken from the evaluation sets; each wrong one was missed before.
Also: a denial after "otherwise" says what happens without the thing, it denies nothing (the one right answer blind
part 12 flagged).
"""

from __future__ import annotations

import pytest

from bot.core.grading.parse import shared
from bot.core.grading.roles import defined_away, given_away, triples
from tests.flagging import Question, flags, one_question

QUEUE = Question(
    qid="mq-producer-consumer",
    question="How do producers and consumers use a message queue?",
    answer=("A producer publishes messages that a consumer later acknowledges. The broker stores each message "
            "until it is acknowledged, so a crash loses nothing. Several consumers can share one queue to "
            "spread the load."),
    points=("A producer publishes messages that a consumer later acknowledges.",
            "The broker stores each message until it is acknowledged.",
            "Several consumers can share one queue to spread the load.",),
    deck="messaging", topic="queues", difficulty=1,
)


@pytest.fixture(scope="module")
def queue_entry(tmp_path_factory):
    return one_question(tmp_path_factory.mktemp("decks"), QUEUE)


def test_a_parse_reads_who_does_what() -> None:
    doc = shared().parse(["A GAN pairs a generator that creates data with a discriminator judging authenticity."])[0]
    said = {(tuple(sorted(t.subject)), t.verb) for t in triples(doc)}
    # the relative clause's action belongs to the noun it hangs on
    assert (("generator",), "create") in said


def test_an_action_given_to_another_participant_of_the_point_is_a_swap(grader, real_bank) -> None:
    entry = real_bank.get("gans-content-creation")
    wrong = "In a GAN the discriminator creates the data, and the generator checks whether it is authentic."
    assert [k for k, _ in flags(grader, entry, wrong)] == ["swap"]
    assert any("discriminator creates the data" in q for _, q in flags(grader, entry, wrong))
    right = "The generator creates data, and the discriminator judges whether it is authentic."
    assert flags(grader, entry, right) == []


def test_the_agent_and_the_environment_exchanged_is_a_swap(grader, real_bank) -> None:
    entry = real_bank.get("deep-reinforcement-learning")
    wrong = "At every step the environment takes an action, and the agent answers with a reward and the next state."
    assert "swap" in [k for k, _ in flags(grader, entry, wrong)]
    right = "At every step the agent takes an action, and the environment answers with a reward and the next state."
    assert flags(grader, entry, right) == []


def test_a_swap_needs_both_participants_named(queue_entry) -> None:
    points = queue_entry.points
    parser = shared()
    wrong = "The consumer publishes the messages and the producer acknowledges them."
    assert [p for p, _ in given_away(wrong, points, range(len(points)), parser, wrong)] == [0]
    # the point's own doer is not named: the sentence says something else, it does not exchange them
    assert given_away("A consumer publishes messages of its own to a reply queue.", points,
                      range(len(points)), parser) == []
    # a comparison or a denial is no plain claim of who does what
    assert given_away("The consumer never publishes messages; the producer does.", points,
                      range(len(points)), parser) == []
    assert given_away("Like the producer, a consumer publishes messages sometimes.", points,
                      range(len(points)), parser) == []


def test_a_means_or_a_part_of_the_object_is_no_doer(real_bank) -> None:
    parser = shared()
    momentum = real_bank.get("momentum-optimization").points
    # "update" is part of what is added (the object), not a participant put in momentum's place
    assert given_away("With momentum, each update adds a fraction of the previous update vector to the step.",
                      momentum, range(len(momentum)), parser) == []


def test_a_definition_given_to_the_other_term_is_a_swap(grader, real_bank) -> None:
    entry = real_bank.get("interpretability-explainability")
    wrong = ("Explainability is how well a person can understand the cause of a model's decision, and "
             "interpretability means making the workings clear to a non-technical audience.")
    assert "swap" in [k for k, _ in flags(grader, entry, wrong)]
    right = ("Interpretability is how well a person can understand the cause of a model's decision, and "
             "explainability means making the workings clear to a non-technical audience.")
    assert flags(grader, entry, right) == []
    # both terms said to be the same thing is a comparison, not a swap
    points = entry.points
    assert defined_away("Explainability is, like interpretability, how well a human can understand a decision.",
                        points, shared()) == []


def test_a_denial_after_otherwise_says_what_happens_without_the_thing() -> None:
    # blind part 12's one flagged right answer, in new words: the denial is the cost of not explaining
    from bot.core.grading.conflicts import negation_conflict

    point = "Explaining model decisions builds trust and accountability in critical areas."
    assert negation_conflict("You need a way to explain each prediction, otherwise users can't trust the model.",
                             point, set()) is None
    assert negation_conflict("Explaining decisions does not build any trust with users.", point, set()) is not None


def test_a_swap_said_with_another_verb_for_the_points_action_is_a_swap(grader, real_bank) -> None:
    # a new user's answer: "makes" for the point's "creates", and "images", which the entry's points generate too
    entry = real_bank.get("gans-content-creation")
    wrong = ("In a GAN the discriminator makes new images out of random noise, and the generator checks each one "
             "for authenticity.")
    assert any(k == "swap" and "discriminator makes new images" in q for k, q in flags(grader, entry, wrong))
    assert grader.rubric_grade(entry, wrong).score <= 30
    right = ("In a GAN the generator makes new images out of random noise, and the discriminator checks each one "
             "for authenticity.")
    assert flags(grader, entry, right) == []


def test_a_synonym_of_the_verb_counts_on_a_deck_of_ones_own(grader, queue_entry) -> None:
    entry = queue_entry
    wrong = "The consumer sends messages, and later the producer acknowledges each of them."
    assert [k for k, _ in flags(grader, entry, wrong)] == ["swap"]
    right = "The producer sends messages, and later the consumer acknowledges each of them."
    assert flags(grader, entry, right) == []


def test_make_that_causes_is_not_make_that_creates() -> None:
    doc = shared().parse(["Dropout makes the network more robust, and the generator makes fake samples."])[0]
    said = {(tuple(sorted(t.subject)), t.verb) for t in triples(doc)}
    assert (("generator",), "create") in said and not any(s == ("dropout",) for s, _ in said)
