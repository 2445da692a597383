"""The scale's targets (issue 14) on our own sets, the product's rubric-only path with the real embedder.

The same figures print with `python -m benchmarks.scoring_targets`; targets that the method does not reach yet are
marked xfail(strict=True) with the figure measured, so the day they are met the test says so.
"""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import scoring_targets
from bot.core.grading.grader import Grader

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def figures(real_embedder) -> dict[str, Any]:
    return scoring_targets.run(Grader(real_embedder))


@pytest.mark.parametrize("deck", ["sanity_deck", "sanity_user_deck"])
def test_every_reference_scores_90_and_echoes_and_one_word_answers_15(figures, deck) -> None:
    sanity = figures[deck]
    assert sanity["reference_min"] >= 90, sanity["reference_below_90"]
    assert sanity["reference_flagged"] == []
    assert sanity["echo_max"] <= 15, sanity["echo_above_15"]
    assert sanity["one_word_max"] <= 15, sanity["one_word_above_15"]


def test_labeled_answers_keep_their_order(figures) -> None:
    labeled = figures["labeled"]
    for pair in ("strong>partial", "partial>off_topic", "strong>off_topic", "strong>wrong"):
        assert labeled[pair] >= 0.95, (pair, labeled)
    assert labeled["off_topic_max"] <= 15


@pytest.mark.parametrize("part", ["calibration_deck", "user_deck"])
def test_strong_answers_average_80_and_one_line_partial_ones_25_to_60(figures, part) -> None:
    calibration = figures[part]
    assert calibration["strong_mean"] >= 80, calibration
    assert 25 <= calibration["partial_mean"] <= 60, calibration


def test_subtle_errors_never_outscore_strong_answers_and_right_answers_are_not_flagged(figures) -> None:
    subtle = figures["subtle"]
    assert subtle["wrong_below_strong"] == 1.0, subtle
    assert subtle["strong_or_partial_flagged"] <= 0.02, subtle


@pytest.mark.xfail(strict=True, reason="measured 0.744 of 43 questions (tests/data/subtle_errors.yaml): the claim "
                                       "check flags 31 of the 43 wrong answers")
def test_subtle_errors_score_below_the_partial_answer(figures) -> None:
    assert figures["subtle"]["wrong_below_partial"] >= 0.85


@pytest.mark.xfail(strict=True, reason="measured 0.725 of 69 questions (subtle, labeled and contradiction sets)")
def test_confidently_wrong_answers_score_30_or_less(figures) -> None:
    assert figures["calibration_deck"]["wrong_at_most_30"] >= 0.80
