"""Rubric: key points credited from three similarity signals of one forward pass, the score computed in code."""

from __future__ import annotations

import pytest

from bot.core.embedder import HashEmbedder
from bot.core.grading.grader import Grader
from bot.core.grading.guards import screen
from bot.core.grading.rubric import (
    BAND,
    BAND_FEW,
    OFF_TOPIC,
    THRESHOLD,
    THRESHOLD_FEW,
    Rubric,
    credit,
    ramp_for,
    score_of,
    windows,
)

STRONG = ("Dropout randomly turns off a fraction of neurons during each training step. Because of that, neurons "
          "cannot rely on specific other neurons and the features become robust. It is only applied during "
          "training; at inference every neuron is used. The effect is like an ensemble of thinned networks, "
          "which reduces overfitting.")


def test_credit_is_full_at_the_threshold_and_falls_over_the_band() -> None:
    assert credit(THRESHOLD, BAND) == 1.0 and credit(0.99, BAND) == 1.0
    assert credit(THRESHOLD - BAND / 2, BAND) == pytest.approx(0.5)
    assert credit(THRESHOLD - BAND, BAND) == 0.0 and credit(0.0, BAND) == 0.0


def test_terse_rubrics_grade_each_point_more_gently() -> None:
    assert ramp_for(1) == ramp_for(2) == (THRESHOLD_FEW, BAND_FEW)
    assert ramp_for(3) == ramp_for(6) == (THRESHOLD, BAND)
    assert BAND_FEW > BAND


def test_score_is_the_mean_credit() -> None:
    assert score_of([1.0, 1.0]) == 100 and score_of([1.0, 0.0]) == 50 and score_of([]) == 0


def test_windows_pair_adjacent_sentences() -> None:
    assert windows(["a.", "b.", "c."]) == ["a. b.", "b. c."]
    assert windows(["a."]) == []


def test_one_forward_pass_per_warm_answer(test_bank) -> None:
    embedder = HashEmbedder()
    rubric = Rubric(embedder)
    entry = test_bank.get("dropout")
    rubric.vectors(entry)  # prepared when the question is shown
    embedder.calls.clear()
    rubric.grade(entry, ["Dropout turns off neurons during training.", "It reduces overfitting."])
    rubric.grade(entry, ["Dropout is used only during training."])
    assert embedder.calls == [["Dropout turns off neurons during training.", "It reduces overfitting."],
                              ["Dropout is used only during training."]]


def test_entry_vectors_are_cached_and_refreshed_when_the_entry_changes(test_bank) -> None:
    rubric = Rubric(HashEmbedder())
    entry = test_bank.get("dropout")
    first = rubric.vectors(entry)
    assert rubric.vectors(entry) is first
    changed = entry.model_copy(update={"key_points": ("One point here", "Another point", "A third point")})
    assert rubric.vectors(changed).matrix.shape[0] == 3


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


def test_restating_the_question_is_an_echo(test_bank) -> None:
    entry = test_bank.get("dropout")
    rubric = Rubric(HashEmbedder())
    assert rubric.grade(entry, [entry.question]).echo
    assert rubric.grade(entry, ["Dropout?"]).echo
    assert not rubric.grade(entry, ["Dropout switches neurons off at random."]).echo


def test_real_embedder_ranks_strong_partial_off_topic(test_bank, real_embedder) -> None:
    rubric = Rubric(real_embedder)
    entry = test_bank.get("dropout")
    strong = rubric.grade(entry, screen(STRONG).sentences)
    partial = rubric.grade(entry, screen("Dropout switches off random neurons while training.").sentences)
    off = rubric.grade(entry, screen("Pooling layers shrink feature maps by keeping the largest value of each "
                                     "window, and they have no learnable parameters.").sentences)
    assert strong.score > partial.score > off.score
    assert strong.score >= 80 and 20 <= partial.score <= 60 and off.score <= 10
    assert sum(p.covered for p in strong.points) == len(entry.points)


def test_real_encoder_words_are_whole_words(real_embedder) -> None:
    encoded = real_embedder.encode(["Dropout regularizes overparameterized networks."])[0]
    assert encoded.words == ("dropout", "regularizes", "overparameterized", "networks", ".")
    assert encoded.word_vectors.shape == (5, real_embedder.dim)
    assert float(encoded.vector @ real_embedder.embed(["Dropout regularizes overparameterized networks."])[0]) \
        == pytest.approx(1.0, abs=1e-4)


def test_a_terse_right_answer_in_the_reference_words_is_not_told_it_is_off_topic(real_bank, real_embedder) -> None:
    # A list of the gates matches no point's sentence (similarity below the floor), but every word of it is the
    # reference's: the user is graded, not told the answer is about something else.
    grader = Grader(real_embedder)
    entry = real_bank.get("lstm-gates")
    listed = grader.rubric_grade(entry, "An LSTM has three gates, the input, forget and output gates.")
    assert listed.relevance < OFF_TOPIC
    assert listed.guard != "off_topic"
    # an answer to another question of the deck, a non-answer and a stray fact still are
    for text in ("Transfer learning means starting from a model pre-trained on ImageNet and fine-tuning it.",
                 "one", "The capital of France is Paris."):
        graded = grader.rubric_grade(entry, text)
        assert graded.guard in ("off_topic", "dont_know", "empty", "gibberish"), text
        assert graded.score == 0, text


def test_a_point_said_in_one_clause_of_a_long_sentence_is_credited(real_bank, real_embedder) -> None:
    # A strong answer of part 11: the sentence is about unstructured data and where deep learning wins, and only its
    # last clause says the features are learned. Matched as a whole sentence the point was missed (0.48).
    grader = Grader(real_embedder)
    entry = real_bank.get("deep-learning-pros-cons")
    sentence = ("Pros: it's the best tool we have for large amounts of unstructured data like images, audio and text, "
                "which is why it dominates image recognition, NLP and speech recognition, and it learns its own "
                "features, so you skip most manual feature engineering.")
    graded = grader.rubric_grade(entry, sentence).result
    assert graded is not None
    point = graded.points[2]
    assert "features automatically" in point.text
    assert point.covered and point.similarity >= 0.55
    assert point.evidence == sentence
    # an answer about the costs earns nothing for it, clause or not
    other = grader.rubric_grade(entry, "Deep learning needs huge labeled datasets, so it is expensive to train, and "
                                       "the models are black boxes.").result
    assert other is not None and not other.points[2].covered


def test_the_evidence_is_the_sentence_that_says_the_point_not_one_that_only_names_the_topic(real_bank,
                                                                                            real_embedder) -> None:
    # A new user's answer opened with a story; "you said" quoted it for two points it only names ("dropout")
    grader = Grader(real_embedder)
    entry = real_bank.get("dropout-training-vs-inference")
    story = ("Okay so, dropout, right, I remember reading about this back in my first internship when we had a model "
             "that overfit badly.")
    step = "During training you randomly zero out a fraction of the neurons on each step, we used 0.3."
    graded = grader.rubric_grade(entry, f"{story} {step} At inference you switch it off and use all the neurons.")
    assert graded.result is not None
    off, rate = graded.result.points[0], graded.result.points[2]
    assert "fraction" in off.text and "rate" in rate.text
    assert off.evidence == step and rate.evidence == step
