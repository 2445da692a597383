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
        claim_check.part_sets("part14", claim_check.DEV / "part14", real_bank) | \
        claim_check.part_sets("part15", claim_check.DEV / "part15", real_bank) | \
        claim_check.part_sets("part16", claim_check.DEV / "part16", real_bank) | \
        claim_check.part_sets("part17", claim_check.DEV / "part17", real_bank) | \
        claim_check.part_sets("part18", claim_check.DEV / "part18", real_bank) | \
        claim_check.part_sets("part19", claim_check.DEV / "part19", real_bank) | \
        claim_check.part_sets("part20", claim_check.DEV / "part20", real_bank) | \
        claim_check.part_sets("part21", claim_check.DEV / "part21", real_bank) | \
        claim_check.part_sets("part22", claim_check.DEV / "part22", real_bank)
    rights = claim_check.right_answers(claim_check.DEV / "right_answers.yaml", real_bank)
    return claim_check.measure(grader, sets, rights, show=False)


def test_the_development_sets_are_all_there(real_bank) -> None:
    rights = claim_check.right_answers(claim_check.DEV / "right_answers.yaml", real_bank)
    assert len(rights) == 243 and {e.id for e, _, _ in rights} == set(real_bank.entries)
    assert load_bank(claim_check.DEV / "part11" / "user_deck").entries
    assert load_bank(claim_check.DEV / "part12" / "user_deck").entries
    assert load_bank(claim_check.DEV / "part13" / "user_deck").entries
    assert load_bank(claim_check.DEV / "part15" / "user_deck").entries


@pytest.mark.parametrize("name", [
    "right-answers", "part10", "part11", "part12", "part13", "part14", "part10-user", "part11-user", "part12-user",
    "part13-user", "part16", "part17", "part18", "part19", "part20", "part21", "part22",
    pytest.param("part15", marks=pytest.mark.xfail(strict=True, reason=(
        "scoring v2: 2 of 72 strong answers flagged: the LSTM output gate 'controls how much of the tanh-squashed "
        "cell is exposed' read as the input gate's job by meaning; 'kernels' in a conv answer"))),
    pytest.param("part15-user", marks=pytest.mark.xfail(strict=True, reason=(
        "scoring v2: '/26 leaves 6 host bits' compared with the reference's '/24 ... 8 host bits': numbers bound "
        "to different subnets"))),
])
def test_right_answers_are_flagged_at_most_2_percent(figures, name) -> None:
    row = figures["sets"][name]
    assert row["right"] >= 16
    assert row.get("right_flagged", 0) <= 0.02 * row["right"], [f for f in figures["flagged"] if f["set"] == name]


@pytest.mark.parametrize("part", ["part14", "part15", "part16", "part17", "part18", "part19", "part20",
                                  "part21", "part22"])
def test_right_answers_in_a_new_users_own_words_are_not_flagged(grader, part) -> None:
    # the right answers share no run of 30 characters with the reference (benchmarks/own_words.py); part 15's
    # blind run flagged 3 of 36
    figures = own_words.run(grader, claim_check.DEV / part)
    assert figures["right"] == 36
    assert figures["right_flagged"] <= 0.02 * figures["right"]


def test_the_decks_lists_said_in_other_orders_are_not_flagged(grader, real_bank) -> None:
    # reversed, rotated, an "etc." dropped (benchmarks/data/list_reorders.yaml), and the lists of three said
    # backwards: each keeps the reference's claim; session 19's code flagged 13 of the 33
    pairs = [*claim_check.list_reorders(claim_check.DEV / "list_reorders.yaml", real_bank),
             *claim_check.reordered(real_bank)]
    assert len(pairs) >= 250
    flagged = [(e.id, text) for e, text in pairs if grader.rubric_grade(e, text).contradictions]
    assert flagged == []


def test_reference_sentences_lightly_reworded_are_rarely_flagged(grader, real_bank) -> None:
    # a synonym, an abbreviation or its expansion, a number written another way (benchmarks/data/rewordings.yaml,
    # written by a helper that never saw the grader): session 19's code flagged 9 of the 243
    pairs = claim_check.rewordings(claim_check.DEV / "rewordings.yaml", real_bank)
    assert len(pairs) == 243
    flagged = [(e.id, text) for e, text in pairs if grader.rubric_grade(e, text).contradictions]
    assert len(flagged) <= 0.02 * len(pairs), flagged
