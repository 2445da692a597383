"""Rubric: key points matched to the answer's sentences, the score computed in code."""

from __future__ import annotations

import pytest

from bot.core.embedder import HashEmbedder
from bot.core.grading.rubric import (
    COVERED_BASE,
    OFF_TOPIC,
    ON_TOPIC,
    PARTIAL_MAX,
    THRESHOLD,
    Rubric,
    credit,
    relevance_factor,
    score_of,
    windows,
)

STRONG = ("Dropout randomly turns off a fraction of neurons during each training step. Because of that, neurons "
          "cannot rely on specific other neurons and the features become robust. It is only applied during "
          "training; at inference every neuron is used. The effect is like an ensemble of thinned networks, "
          "which reduces overfitting.")


def test_credit_curve() -> None:
    assert credit(THRESHOLD) == pytest.approx(COVERED_BASE)
    assert credit(0.99) == 1.0
    assert 0 < credit(THRESHOLD - 0.05) < PARTIAL_MAX
    assert credit(THRESHOLD - 0.2) == 0.0
    assert credit(THRESHOLD + 0.01) > credit(THRESHOLD)


def test_relevance_factor_and_score() -> None:
    assert relevance_factor(OFF_TOPIC - 0.01) == 0.0 and relevance_factor(ON_TOPIC) == 1.0
    assert score_of([1.0, 1.0], 0.9) == 100
    assert score_of([1.0, 0.0], 0.9) == 50
    assert score_of([1.0, 1.0], OFF_TOPIC) == 0
    assert score_of([], 0.9) == 0


def test_windows_pair_adjacent_sentences() -> None:
    assert windows(["a.", "b.", "c."]) == ["a. b.", "b. c."]
    assert windows(["a."]) == []


def test_one_embed_call_per_warm_answer(test_bank) -> None:
    embedder = HashEmbedder()
    rubric = Rubric(embedder)
    entry = test_bank.get("dropout")
    rubric.vectors(entry)  # prepared when the question is shown
    embedder.calls.clear()
    rubric.grade(entry, ["Dropout turns off neurons during training.", "It reduces overfitting."])
    rubric.grade(entry, ["Dropout is used only during training."])
    assert len(embedder.calls) == 2
    assert embedder.calls[0] == ["Dropout turns off neurons during training.", "It reduces overfitting.",
                                 "Dropout turns off neurons during training. It reduces overfitting."]


def test_entry_vectors_are_cached_and_refreshed_when_the_entry_changes(test_bank) -> None:
    embedder = HashEmbedder()
    rubric = Rubric(embedder)
    entry = test_bank.get("dropout")
    first = rubric.vectors(entry)
    assert rubric.vectors(entry) is first
    changed = entry.model_copy(update={"key_points": ("One point here", "Another point", "A third point")})
    assert rubric.vectors(changed).points.shape[0] == 3


def test_evidence_is_a_sentence_of_the_answer(test_bank) -> None:
    rubric = Rubric(HashEmbedder())
    entry = test_bank.get("dropout")
    sentences = ["Dropout randomly turns off a fraction of neurons during each training step.",
                 "It is only applied during training, not at inference."]
    result = rubric.grade(entry, sentences)
    assert all(p.evidence in sentences for p in result.points)
    assert result.points[0].covered and result.points[0].evidence == sentences[0]
    assert 0 <= result.score <= 100


def test_no_sentences_scores_zero(test_bank) -> None:
    result = Rubric(HashEmbedder()).grade(test_bank.get("dropout"), [])
    assert result.score == 0 and not any(p.covered for p in result.points)


def test_real_embedder_ranks_strong_partial_off_topic(test_bank, real_embedder) -> None:
    from bot.core.grading.guards import screen

    rubric = Rubric(real_embedder)
    entry = test_bank.get("dropout")
    strong = rubric.grade(entry, screen(STRONG).sentences)
    partial = rubric.grade(entry, screen("Dropout switches off random neurons while training.").sentences)
    off = rubric.grade(entry, screen("Pooling layers shrink feature maps by keeping the largest value of each "
                                     "window, and they have no learnable parameters.").sentences)
    assert strong.score > partial.score > off.score
    assert strong.score >= 80 and off.score <= 10 and off.off_topic
    assert sum(p.covered for p in strong.points) == len(entry.points)
