"""The claim check on the development sets of benchmarks/data: right answers are rarely flagged (issue 14's target:
at most 2 % of strong or partial answers flagged as contradicting), the product's rubric-only path, real embedder.

The same figures print with `python -m benchmarks.claim_check`.
"""

from __future__ import annotations

import pytest

from benchmarks import claim_check, own_words
from bot.core.bank import load_bank

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def figures(grader, real_bank):
    sets = claim_check.part_sets("part10", claim_check.DEV / "part10", real_bank) | \
        claim_check.part_sets("part11", claim_check.DEV / "part11", real_bank) | \
        claim_check.part_sets("part12", claim_check.DEV / "part12", real_bank) | \
        claim_check.part_sets("part13", claim_check.DEV / "part13", real_bank) | \
        claim_check.part_sets("part14", claim_check.DEV / "part14", real_bank)
    rights = claim_check.right_answers(claim_check.DEV / "right_answers.yaml", real_bank)
    return claim_check.measure(grader, sets, rights, show=False)


def test_the_development_sets_are_all_there(real_bank) -> None:
    rights = claim_check.right_answers(claim_check.DEV / "right_answers.yaml", real_bank)
    assert len(rights) == 243 and {e.id for e, _, _ in rights} == set(real_bank.entries)
    assert load_bank(claim_check.DEV / "part11" / "user_deck").entries
    assert load_bank(claim_check.DEV / "part12" / "user_deck").entries
    assert load_bank(claim_check.DEV / "part13" / "user_deck").entries


@pytest.mark.parametrize("name", ["right-answers", "part10", "part11", "part12", "part13", "part14", "part10-user",
                                  "part11-user", "part12-user", "part13-user"])
def test_right_answers_are_flagged_at_most_2_percent(figures, name) -> None:
    row = figures["sets"][name]
    assert row["right"] >= 16
    assert row.get("right_flagged", 0) <= 0.02 * row["right"], [f for f in figures["flagged"] if f["set"] == name]


def test_right_answers_in_a_new_users_own_words_are_not_flagged(grader) -> None:
    # part 14's right answers share no run of 30 characters with the reference (benchmarks/own_words.py)
    figures = own_words.run(grader, own_words.PART)
    assert figures["right"] == 36
    assert figures["right_flagged"] <= 0.02 * figures["right"]
