"""The first held-out part (tests/data/heldout/, a copy of /work/evalsets, README there), written blind by another
engineer. Round 1 measured it once; round 2 of scoring v2 used it as a development set (the second blind part,
measured once, is reported in docs/grading_quality.md). Targets met are asserted; targets missed are strict xfails
that carry the figure measured, so the day a change meets them the test says so."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import scoring_targets
from bot.core.grading.grader import Grader

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def figures(real_embedder) -> dict[str, Any]:
    return scoring_targets.run(Grader(real_embedder), heldout=True)


def test_user_deck_references_score_90_unflagged_and_echoes_15(figures) -> None:
    sanity = figures["sanity_user_deck"]
    assert sanity["reference_min"] >= 90 and sanity["reference_flagged"] == []
    assert sanity["echo_max"] <= 15 and sanity["one_word_max"] <= 15
    assert figures["given_echo_one_word"]["echo_max"] <= 15


@pytest.mark.parametrize("part", ["subtle", "user_deck"])
def test_strong_answers_average_80_and_one_line_partial_ones_25_to_60(figures, part) -> None:
    assert figures[part]["strong_mean"] >= 80 and 25 <= figures[part]["partial_mean"] <= 60, figures[part]


def test_the_sets_own_one_word_answers_score_15_at_most(figures) -> None:
    assert figures["given_echo_one_word"]["one_word_max"] <= 15


@pytest.mark.xfail(strict=True, reason="measured 0.767 (subtle) and 0.125 (user deck): 23 of 30 wrong answers are "
                                       "flagged; the user deck's wrong answers need reasoning no word-level check has")
def test_confidently_wrong_answers_score_30_or_less(figures) -> None:
    assert figures["subtle"]["wrong_at_most_30"] >= 0.8 and figures["user_deck"]["wrong_at_most_30"] >= 0.8


@pytest.mark.xfail(strict=True, reason="measured 0.767 below partial and 0.833 below strong (30 questions)")
def test_wrong_answers_score_below_partial_and_strong_ones(figures) -> None:
    assert figures["subtle"]["wrong_below_partial"] >= 0.85 and figures["subtle"]["wrong_below_strong"] == 1.0


def test_right_answers_are_not_flagged(figures) -> None:
    assert figures["subtle"]["strong_or_partial_flagged"] <= 0.02
