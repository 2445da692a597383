"""Agreement with the labeled answers: point-level F1, the order of the scores, contradictions, the real model."""

from __future__ import annotations

import os
import re
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.grading.grader import Grade, Grader, keywords
from bot.core.grading.rubric import COVERED_AT

LABELED = Path(__file__).resolve().parent / "data" / "labeled_answers.yaml"
PAIRS = (("strong", "partial"), ("partial", "off_topic"), ("strong", "off_topic"), ("strong", "wrong"))


def _labeled() -> list[dict[str, Any]]:
    if not LABELED.exists():
        pytest.skip("tests/data/labeled_answers.yaml is not there yet")
    return yaml.safe_load(LABELED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def graded(real_embedder, real_bank) -> list[dict[str, Any]]:
    """Every labeled answer with its rubric grade."""
    grader = Grader(real_embedder)
    rows = []
    for item in _labeled():
        entry = real_bank.get(item["question_id"])
        for answer in item["answers"]:
            rows.append(answer | {"entry": entry, "grade": grader.rubric_grade(entry, answer["text"])})
    return rows


def pairwise(scores: dict[str, dict[str, list[int]]], better: str, worse: str) -> float:
    """Share of (better, worse) answer pairs of the same question where better scores strictly higher."""
    wins = total = 0
    for by_quality in scores.values():
        for a in by_quality.get(better, []):
            for b in by_quality.get(worse, []):
                wins, total = wins + (a > b), total + 1
    return wins / total if total else 1.0


def _scores(rows: list[dict[str, Any]], key: str = "grade") -> dict[str, dict[str, list[int]]]:
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        out[row["entry"].id][row["quality"]].append(row[key].score)
    return out


def test_point_level_agreement(graded) -> None:
    tp = fp = fn = tn = 0
    for row in graded:
        if row["quality"] not in ("strong", "partial"):
            continue
        for index, point in enumerate(row["grade"].key_points):
            label = index in set(row["covered"])
            tp, fp = tp + (label and point.covered), fp + (point.covered and not label)
            fn, tn = fn + (label and not point.covered), tn + (not label and not point.covered)
    f1 = 2 * tp / (2 * tp + fp + fn)
    accuracy = (tp + tn) / (tp + fp + fn + tn)
    print(f"\npoint level (strong + partial, covered at {COVERED_AT}): F1 {f1:.3f}, accuracy {accuracy:.3f}, "
          f"tp {tp} fp {fp} fn {fn} tn {tn}")
    assert f1 >= 0.8 and accuracy >= 0.75


def test_scores_keep_the_labeled_order(graded) -> None:
    scores = _scores(graded)
    by_quality: dict[str, list[int]] = defaultdict(list)
    for row in graded:
        by_quality[row["quality"]].append(row["grade"].score)
    print("\nrubric scores by quality (mean, min, max):")
    for quality, values in by_quality.items():
        print(f"  {quality:10} {statistics.mean(values):5.1f} {min(values):4d} {max(values):4d}  (n={len(values)})")
    for better, worse in (*PAIRS, ("partial", "wrong")):
        print(f"  {better} > {worse}: {pairwise(scores, better, worse):.3f}")
    for better, worse in PAIRS:
        assert pairwise(scores, better, worse) >= 0.95, (better, worse)


def test_empty_and_off_topic_score_near_zero(graded) -> None:
    for row in graded:
        grade: Grade = row["grade"]
        if row["quality"] == "empty":
            assert grade.score == 0 and grade.flagged and grade.follow_up is None, row["text"]
        if row["quality"] == "off_topic":
            assert grade.score <= 15, (row["entry"].id, grade.score)  # the scale's target (issue 14, DESIGN)


@pytest.mark.xfail(strict=True, reason="scoring v2: one off-topic answer scores 14 (dropout question, a batch-norm "
                                       "answer that shares 'training' and 'inference'), 17 of 20 are flagged")
def test_off_topic_answers_score_10_at_most_and_are_told_so(graded) -> None:
    off = [r["grade"] for r in graded if r["quality"] == "off_topic"]
    assert max(g.score for g in off) <= 10
    assert sum(g.guard == "off_topic" for g in off) >= 0.9 * len(off)


def test_every_strong_answer_scores_75(graded) -> None:
    # It held since session 15: deep-rl-use-case's strong answer scored 74 until a point could be matched to one
    # clause of a long sentence.
    assert min(r["grade"].score for r in graded if r["quality"] == "strong") >= 75


def test_strong_answers_get_a_high_score_and_specific_feedback(graded) -> None:
    strong = [r["grade"].score for r in graded if r["quality"] == "strong"]
    assert statistics.mean(strong) >= 80 and min(strong) >= 70
    for row in graded:
        grade = row["grade"]
        if row["quality"] == "partial":
            missed = [row["entry"].points[i].rstrip(".").lower() for i in grade.missed]
            if missed:
                assert any(m[:40] in " ".join(grade.feedback).lower() for m in missed), grade.feedback


def test_confidently_wrong_answers_score_below_partial_ones(graded) -> None:
    """The contradiction check in code: wrong answers are caught, strong ones are left alone."""
    flagged = {q: sum(bool(r["grade"].contradictions) for r in graded if r["quality"] == q)
               for q in ("strong", "partial", "wrong")}
    totals = {q: sum(r["quality"] == q for r in graded) for q in flagged}
    scores = _scores(graded)
    below = sum(max(s["wrong"]) < min(s["partial"]) for s in scores.values())
    print(f"\ncontradicted: {flagged} of {totals}; wrong below both partial answers in {below}/{len(scores)} "
          f"questions; partial > wrong {pairwise(scores, 'partial', 'wrong'):.3f}")
    for row in graded:
        for c in row["grade"].contradictions:
            assert c.quote in row["text"]  # verbatim, so the user sees their own words
    assert flagged["strong"] <= 0.1 * totals["strong"] and flagged["partial"] <= 0.1 * totals["partial"]
    assert flagged["wrong"] >= 0.5 * totals["wrong"]
    assert below > len(scores) / 2
    assert pairwise(scores, "partial", "wrong") > 0.5


@pytest.fixture(scope="module")
def critiqued(real_embedder, real_bank, grading_llm) -> list[dict[str, Any]]:
    """Strong, partial and wrong answers critiqued by the real model (prefix prewarmed per question)."""
    grader = Grader(real_embedder, llm=grading_llm)
    rows = []
    # About 12 s a critique on two cores: a subset keeps the test within minutes (all 20 with the env variable).
    for item in _labeled()[: int(os.environ.get("COACH_LLM_LABELED_QUESTIONS", "8"))]:
        entry = real_bank.get(item["question_id"])
        grading_llm.prewarm(grader.fixed_prompt(entry), session=entry.id)
        for answer in item["answers"]:
            if answer["quality"] not in ("strong", "partial", "wrong"):
                continue
            base = grader.rubric_grade(entry, answer["text"])
            start = time.perf_counter()
            final = grader.critique(entry, answer["text"], base, session=entry.id)
            seconds = time.perf_counter() - start
            rows.append(answer | {"entry": entry, "base": base, "grade": final, "seconds": seconds})
    print(f"\ncritique p50 {statistics.median(r['seconds'] for r in rows):.1f} s over {len(rows)} answers")
    return rows


@pytest.mark.real_model
@pytest.mark.slow
def test_the_model_writes_feedback_and_never_changes_the_score(critiqued) -> None:
    # The model writes the feedback; where none of its lines passes its checks (e.g. a praise line that quotes the
    # reference's words as if they were the user's), the user gets the rubric's lines and is told so. That
    # happened on 1 of 32 answers after an unrelated change to the contradiction check shifted the model's output.
    by_model = [r for r in critiqued if r["grade"].llm]
    fallback_note = "The model's critique did not pass its checks, so this feedback comes from the rubric only."
    assert all(fallback_note in r["grade"].notes for r in critiqued if not r["grade"].llm)
    assert len(by_model) >= 0.9 * len(critiqued), f"only {len(by_model)} of {len(critiqued)} critiques by the model"
    assert all(r["grade"].score == r["base"].score for r in critiqued)
    assert all(r["grade"].contradictions == r["base"].contradictions for r in critiqued)
    follow_ups = [r["grade"].follow_up for r in critiqued]
    assert all(f and f.endswith("?") for f in follow_ups)


@pytest.mark.real_model
@pytest.mark.slow
def test_the_follow_up_asks_about_the_missed_point_it_targets(critiqued) -> None:
    aimed = []
    for row in critiqued:
        grade = row["grade"]
        target = grade.follow_up_point
        if target is None or grade.key_points[target].covered:
            continue
        words = {w.lower()[:5] for w in keywords(row["entry"].points[target], row["entry"].question, limit=4)}
        aimed.append(bool(words & {w.lower()[:5] for w in re.findall(r"[A-Za-z][A-Za-z0-9-]+", grade.follow_up)}))
    own = sum(r["grade"].follow_up != r["base"].follow_up for r in critiqued)  # not the rubric's own question
    print(f"\nfollow-ups naming a word of their missed target point: {sum(aimed)}/{len(aimed)} (the model's own "
          f"question kept in {own}/{len(critiqued)}, else the rubric's)")
    assert aimed and sum(aimed) >= 0.5 * len(aimed)


def test_contradictions_on_questions_outside_the_labeled_set(real_embedder, real_bank) -> None:
    grader = Grader(real_embedder)
    items = yaml.safe_load((LABELED.parent / "contradiction_answers.yaml").read_text(encoding="utf-8"))
    caught = below = 0
    for item in items:
        entry = real_bank.get(item["question_id"])
        strong, partial, wrong = (grader.rubric_grade(entry, item[q]) for q in ("strong", "partial", "wrong"))
        assert not strong.contradictions and not partial.contradictions, item["question_id"]
        caught += bool(wrong.contradictions)
        below += wrong.score < partial.score < strong.score
    print(f"\noutside the labeled set: {caught}/{len(items)} wrong answers contradicted, strong > partial > wrong in "
          f"{below}/{len(items)}")
    assert caught >= 0.8 * len(items) and below >= 0.8 * len(items)
