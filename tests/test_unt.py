"""The UNT short-answer loader and the grading-validity benchmark's quick mode (a CI smoke test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.grading_validity import folds_of
from benchmarks.unt import ANSWERS, QUESTIONS, StudentAnswer, clean, default_dir, load_unt, make_entry
from benchmarks.validity_critique import critique_sample, llm_figures
from benchmarks.validity_grading import grade_all
from benchmarks.validity_stats import cross_validated, pearson, spearman
from bot.core.embedder import HashEmbedder
from bot.core.grading.grader import Grader
from bot.core.testing import FakeLLM

REPO = Path(__file__).resolve().parent.parent
UNT = default_dir()
needs_unt = pytest.mark.skipif(not (UNT / "docs" / "files").is_file(),
                               reason=f"the UNT short-answer set is not at {UNT} (../shared/benchmarks)")


def write_set(root: Path, grades: str = "5\n2.5\n") -> Path:
    """A two-question miniature of the set's layout; question 1.2 is marked '#'."""
    for folder in ("docs", "raw", "scores/1.1", "scores/1.2"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "docs/files").write_text("1.1\n#1.2\n", encoding="latin-1")
    (root / "raw/questions").write_text("1.1 What is a variable?\n1.2 Order these numbers.\n", encoding="latin-1")
    (root / "raw/answers").write_text("1.1 A location in memory.\n1.2 1 2 3\n", encoding="latin-1")
    (root / "raw/1.1").write_bytes(b"1.1 A named place in memory.<br><br>\n1.1 a box \xc3\xa2\xe2\x80 value\n")
    (root / "scores/1.1/ave").write_text(grades, encoding="latin-1")
    return root


def test_clean_removes_breaks_and_garbled_quotes() -> None:
    assert clean("One.<br>Two.<br><br> ") == "One.\nTwo."
    assert clean("an array\xc3\xa2\xe2\xac\xe2\xa2s size") == "an array's size"


def test_loader_reads_a_miniature_set(tmp_path: Path) -> None:
    unt = load_unt(write_set(tmp_path), check_counts=False)
    assert list(unt.bank.entries) == ["unt-1-1"]
    entry = unt.bank.get("unt-1-1")
    assert entry.answer == "A location in memory." and entry.key_points is None
    assert entry.topics == ("assignment-1",) and entry.difficulty == 2 and entry.kind == "concept"
    assert [a.text for a in unt.answers] == ["A named place in memory.", "a box ' value"]
    assert [a.grade for a in unt.answers] == [5.0, 2.5]


def test_loader_refuses_answers_without_grades(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2 answers but 1 grades"):
        load_unt(write_set(tmp_path, grades="5\n"), check_counts=False)


def test_statistics_helpers() -> None:
    x = [1.0, 2.0, 3.0, 4.0]
    assert pearson(x, [2.0, 4.0, 6.0, 8.0]) == pytest.approx(1.0)
    assert spearman(x, [1.0, 10.0, 100.0, 1000.0]) == pytest.approx(1.0)
    assert pearson(x, [1.0, 1.0, 1.0, 1.0]) == 0.0
    features = np.array([0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0])
    target = 1.0 + features
    folds = np.array([1, 1, 1, 1, 2, 2, 2, 2])
    assert cross_validated(features, target, folds) == pytest.approx(np.clip(target, 0, 5))


def test_critique_sample_is_cached_and_reported(tmp_path: Path) -> None:
    entries = {e.id: e for e in (make_entry("1.1", "What is a variable?", "A location in memory that stores a value."),
                                 make_entry("2.1", "What is a pointer?", "A variable that holds an address."))}
    texts = {"unt-1-1": ["A place in memory that holds a value.", "A named memory location storing a value.", "No"],
             "unt-2-1": ["A variable holding the address of another.", "It stores a memory address.", "A loop"]}
    answers = [StudentAnswer(eid, eid[4:].replace("-", "."), int(eid[4]), text, grade)
               for eid, group in texts.items() for text, grade in zip(group, (5.0, 4.0, 0.0), strict=True)]
    rows = grade_all(Grader(HashEmbedder()), entries, answers)
    reply = {"verdicts": [], "errors": [], "strengths": ["Right idea."], "improvements": ["Add detail."],
             "follow_up": "What else could you say about it?"}
    cache = tmp_path / "critique.jsonl"
    llm = Grader(HashEmbedder(), llm=FakeLLM(respond=lambda prompt: json.dumps(reply)))
    run = critique_sample(llm, entries, rows, cache, None, lambda _: None)
    assert len(run.seconds) == len(rows) and run.cached == 0 and len(cache.read_text().splitlines()) == len(rows)
    again = critique_sample(llm, entries, rows, cache, 0.0, lambda _: None)
    assert again.cached == len(rows) and not again.seconds
    figures = llm_figures(rows, folds_of(rows)[0], run, "fake")
    assert figures["n"] == len(rows) and figures["complete"] and figures["scores_lowered"] == 0
    assert figures["with_critique"]["pearson"] == pytest.approx(figures["rubric_only"]["pearson"])


@needs_unt
def test_loader_counts_match_the_readme() -> None:
    unt = load_unt()
    assert len(unt.bank) == QUESTIONS == 81 and len(unt.answers) == ANSWERS == 2273
    assert "unt-4-6" not in unt.bank.entries and "unt-12-3" not in unt.bank.entries  # '#' lines left out
    assert unt.assignments() == list(range(1, 13))
    assert all(0.0 <= a.grade <= 5.0 for a in unt.answers)
    assert not any("<br" in a.text.lower() or not a.text.isascii() for a in unt.answers)
    assert all(e.points and not e.key_points for e in unt.bank.entries.values())


@needs_unt
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_quick_mode_writes_every_field(tmp_path: Path) -> None:
    out = tmp_path / "quick.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    done = subprocess.run([sys.executable, "-m", "benchmarks.grading_validity", "--quick", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=880)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["mode"] == "quick" and data["dataset"]["assignments"] == [1] and data["llm_sample"] is None
    assert {"cross_validation", "calibration", "published_pearson", "per_assignment", "disagreements"} <= set(data)
    for key in ("rubric_only", "constants_by_fold"):
        assert {"n", "pearson", "spearman", "rmse"} <= set(data[key]), key
        assert -1.0 <= data[key]["pearson"] <= 1.0 and data[key]["rmse"] >= 0
    assert len(data["constants_by_fold"]["chosen"]) == len({a for a in data["dataset"]["assignments"]}) or \
        data["cross_validation"].startswith("leave-one-question-out")
    timing = data["rubric_only"]["timing"]
    assert timing["answers_per_s"] > 0 and timing["latency"]["n"] > 0
    assert {"grader_pearson", "constants_by_fold_pearson"} <= set(data["per_assignment"][0])
    assert len(data["disagreements"]) == 20 and "cross-validated" in done.stdout
