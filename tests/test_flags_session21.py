"""Session 21: claims said in other words than session 20's checks read."""

from __future__ import annotations

from tests.flagging import flags

OVERFITTING = "By reducing the internal covariate shift, batch normalization speeds up convergence, but it tends to {}."


def test_a_degree_word_between_a_comparative_and_its_thing(grader, real_bank) -> None:
    # blind part 20: "make overfitting somewhat worse" for "reduces overfitting"; "somewhat" hid the direction
    entry = real_bank.get("batch-normalization")
    assert [kind for kind, _ in flags(grader, entry, OVERFITTING.format("make overfitting somewhat worse"))] \
        == ["opposite"]
    assert flags(grader, entry, OVERFITTING.format("make overfitting somewhat less likely")) == []
