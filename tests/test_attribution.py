"""Scoring v2, round 6: a clause that says of one sibling term what the reference says of another, read by meaning.

The last two tests: two sibling terms that trade the words beside them (crossing.py).

The sentences are new, written for these tests in the reference's own words (the way the subtle-error sets' wrong
answers are): the word-aligned check (claims.py) misses the first two, because the clause shares too few words with
the point it takes its claim from; the masked-subject comparison (attribution.py) catches them, and leaves the same
clause with the right subject alone.
"""

from __future__ import annotations

import pytest

from bot.core.grading import attribution, claims, crossing
from bot.core.grading.grader import Grader


@pytest.fixture(scope="module")
def words_only(real_embedder) -> Grader:
    plain = Grader(real_embedder)
    plain.claims.attribution = None
    plain.claims.copies = False   # the edit check (edits.py) also reads a copied sentence word by word
    return plain


def flags(grader: Grader, entry, text: str) -> list[tuple[str, int, str]]:
    return [(c.kind, c.point, c.quote) for c in grader.rubric_grade(entry, text).contradictions]


@pytest.mark.parametrize(("wrong", "right", "point"), [
    ("Supervised learning works on unlabeled data and finds the underlying structure.",
     "Unsupervised learning works on unlabeled data and finds the underlying structure.", 2),
    ("Unsupervised learning trains on a labeled dataset, each input paired with the correct output.",
     "Supervised learning trains on a labeled dataset, each input paired with the correct output.", 0),
])
def test_a_definition_given_to_the_sibling_is_flagged_and_scores_zero(grader, words_only, real_bank, wrong, right,
                                                                      point) -> None:
    entry = real_bank.get("learning-paradigms")
    assert flags(words_only, entry, wrong) == []          # what the word-aligned check alone gave
    found = flags(grader, entry, wrong)
    assert [(k, p) for k, p, _ in found] == [("swap", point)]
    assert found[0][2].split()[0] in ("Supervised", "Unsupervised")   # the quote names the wrong subject
    assert grader.rubric_grade(entry, wrong).score == 0
    assert flags(grader, entry, right) == []
    assert grader.rubric_grade(entry, right).score >= 15


def test_every_reference_sentence_of_the_deck_graded_alone_is_never_flagged_by_it(grader, real_bank) -> None:
    checked = 0
    for entry in real_bank.entries.values():
        vocabulary = grader.claims.vocabularies.of(entry)
        found = grader.claims.attribution.find(entry, list(vocabulary.stated_texts), vocabulary)
        assert found == [], entry.id
        checked += len(vocabulary.stated_texts)
    assert checked > 500


@pytest.mark.parametrize("text", [
    "Unsupervised learning also works on data, like supervised learning does.",   # relates the two
    "- Forget gate\n- Output gate",                                               # labels state nothing
])
def test_relating_clauses_and_bare_labels_are_not_read_as_claims(grader, real_bank, text) -> None:
    for qid in ("learning-paradigms", "lstm-gates"):
        entry = real_bank.get(qid)
        vocabulary = grader.claims.vocabularies.of(entry)
        assert grader.claims.attribution.find(entry, [text], vocabulary) == []


def test_the_subject_is_the_leading_term_after_an_article_only(grader, real_bank) -> None:
    vocabulary = grader.claims.vocabularies.of(real_bank.get("gan-adversarial-training"))
    said = attribution.subject("The generator creates fake data from random noise.", vocabulary)
    assert said is not None and said.masked.startswith("it creates fake data")
    # after a preposition the term is not what the clause is about ("of one process share ...")
    assert attribution.subject("of the generator creates fake data from random noise.", vocabulary) is None


def test_two_siblings_that_trade_the_words_beside_them_are_flagged(grader, real_bank) -> None:
    entry = real_bank.get("imbalanced-dataset-handling")
    vocabulary = grader.claims.vocabularies.of(entry)
    wrong = "With skewed classes I rebalance by oversampling the majority class or undersampling the minority class."
    right = "With skewed classes I rebalance by oversampling the minority class or undersampling the majority class."
    # The word-aligned check lets either class agree: both are within reach of both verbs in the point.
    assert claims.swaps(wrong, entry.points, vocabulary, [0]) == []
    assert crossing.crossed(wrong, entry.points, vocabulary, [0]) == [(0, wrong)]
    grade = grader.rubric_grade(entry, wrong)
    assert [(c.kind, c.point) for c in grade.contradictions] == [("swap", 0)] and grade.score <= 10
    assert crossing.crossed(right, entry.points, vocabulary, [0]) == []
    assert grader.rubric_grade(entry, right).contradictions == []


def test_a_point_with_one_word_for_both_siblings_is_no_crossing(grader, real_bank) -> None:
    # "Classification and regression are typical supervised learning tasks": nothing beside each term of its own.
    entry = real_bank.get("learning-paradigms")
    vocabulary = grader.claims.vocabularies.of(entry)
    assert crossing.crossed("Regression and classification are typical supervised learning tasks.", entry.points,
                            vocabulary, range(len(entry.points))) == []


def test_the_finding_quotes_the_point_that_says_what_the_clause_gives_away(grader, real_bank) -> None:
    # The clause gives "sigmoid layers" to He initialization: the point to quote is the one about Xavier or Glorot
    # with sigmoid, not another point about Xavier; its names keep their capitals after the colon.
    entry = real_bank.get("weight-initialization")
    grade = grader.rubric_grade(entry, "He initialization is only meant for sigmoid layers.")
    assert [(c.kind, c.point) for c in grade.contradictions] == [("swap", 0)]
    assert "sigmoid" in entry.points[0]
    assert any("the reference says: Xavier or Glorot initialization" in line for line in grade.feedback)
