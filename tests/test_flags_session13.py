"""Scoring v2, session 13: the two right answers blind part 13 flagged, each in words written for these tests.

"costs more and the model stops leaning toward the majority": a comparative is said of what it stands beside, never
of the noun after "and the" ("Class weights reduce the model's bias toward the majority class" is agreed with, not
contradicted). "without scanning the whole table" against a reference that reads "instead of scanning the whole
table": what a point sets aside, denied, agrees. And a quote shown to the user ends with the claim, not with the
"and" of the clause it was cut from.
"""

from __future__ import annotations

import pytest

from tests.flagging import Question, flags, one_question

INDEX = Question(
    qid="st-index-lookup",
    question="Why does an index make a lookup fast?",
    answer=("An index stores the column's values in sorted order, in a balanced tree whose nodes each hold "
            "many keys, so even a big table is only a few levels deep. A lookup goes from the root down to a "
            "leaf in a few page reads instead of scanning the whole table, and since the leaves are sorted it "
            "can answer range queries too. The price is extra disk space and slower writes, because every "
            "insert or update must change the index."),
    deck="storage", topic="databases", difficulty=1,
)


@pytest.fixture(scope="module")
def index_entry(tmp_path_factory):
    return one_question(tmp_path_factory.mktemp("decks"), INDEX)


def test_a_comparative_is_not_said_of_the_noun_after_and_the(grader, real_bank) -> None:
    entry = real_bank.get("imbalanced-dataset-handling")
    right = ("Put class weights on the loss, so an error on the minority class costs more and the model stops "
             "favouring the majority class.")
    assert flags(grader, entry, right) == []
    # a comparative said of the model itself still contradicts "reduce the model's bias toward the majority class"
    wrong = "Class weights give the model more bias toward the majority class."
    assert flags(grader, entry, wrong) != []


def test_denying_what_the_reference_sets_aside_agrees_with_it(grader, index_entry) -> None:
    entry = index_entry
    for right in ("An index lets the engine locate rows without scanning the whole table.",
                  "The index lets you fetch a row without scanning the whole table."):
        assert flags(grader, entry, right) == [], right
        assert grader.rubric_grade(entry, right).score >= 25   # a one-line partial answer, not a wrong one


def test_a_quoted_claim_does_not_end_with_a_dangling_and(grader, real_bank) -> None:
    entry = real_bank.get("bias-variance-experience")
    wrong = "High bias means the model overfits the training data, and high variance means it is too simple."
    quotes = [q for _, q in flags(grader, entry, wrong)]
    assert "High bias means the model overfits the training data" in quotes
    assert not any(q.rstrip().endswith((",", " and")) for q in quotes), quotes


def test_a_cleft_sentence_says_the_action_of_its_subject(grader, real_bank) -> None:
    # "X is the one that ..." gives the action to X, not to "one" (a new user's way of swapping roles)
    entry = real_bank.get("gans-content-creation")
    wrong = ("In a GAN the discriminator is the one that creates new data from noise, while the generator judges "
             "whether it is authentic.")
    assert any(k == "swap" and q.startswith("discriminator is the one that creates") for k, q in
               flags(grader, entry, wrong))
    right = ("In a GAN the generator is the one that creates new data from noise, while the discriminator judges "
             "whether it is authentic.")
    assert flags(grader, entry, right) == []


def test_long_evidence_is_shown_cut_between_words() -> None:
    from bot.core.render import score_text

    evidence = ("Recall is the share of the model's positive predictions that turn out to be correct, TP over TP plus "
                "FP, while precision is the share of all real positive cases that the model manages to find")
    grade = {"score": 40, "key_points": [{"text": "Recall is TP over TP plus FN.", "covered": True,
                                          "evidence": evidence}], "contradicted": {}}
    shown = score_text(grade).splitlines()[1]
    quoted = shown.split('you said: "')[1].rstrip('"')
    assert quoted.endswith("…") and len(quoted) <= 140
    assert evidence.startswith(quoted[:-1]) and evidence[len(quoted) - 1] == " "   # cut where a word ends
