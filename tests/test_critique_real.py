"""The critique with the real default model on a handful of the quality set's answers: what the user sees passes the
quality check (benchmarks/critique_quality.py), and most of it is the model's own writing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.critique_quality import evaluate, load_items
from bot.errors import ModelError

DATA = Path(__file__).resolve().parent / "data" / "critique_answers.yaml"
# A strong, two partial and two wrong answers on which the rubric agrees with the label (a critique follows the
# rubric: where the rubric misjudges an answer, that is the rubric's figure, not the critique's).
PICKS = [("learning-rate", "partial"), ("softmax-function", "partial"), ("weight-initialization", "wrong"),
         ("gd-vs-sgd", "wrong"), ("softmax-function", "strong")]


@pytest.fixture(scope="module")
def grader(real_embedder: Any) -> Iterator[Any]:
    from bot.config import Settings
    from bot.core.bank import load_bank
    from bot.core.grading.grader import Grader
    from bot.core.llm.llama import LlamaCppLLM
    from bot.core.llm.modelfile import PACKAGED_MODELS, installed_parts, resolve_model_path

    try:
        installed_parts(PACKAGED_MODELS["1.5b"])
    except ModelError as exc:
        pytest.skip(str(exc))
    settings = Settings(COACH_MODEL="1.5b")  # type: ignore[call-arg]
    settings.model_path = None
    model = LlamaCppLLM(resolve_model_path(settings), n_threads=os.cpu_count() or 1, parallel=1)
    bank = load_bank(Path(__file__).resolve().parent.parent / "knowledge")
    yield Grader(real_embedder, llm=model), bank
    model.close()


@pytest.mark.real_model
@pytest.mark.slow
@pytest.mark.timeout(3600)  # about 2 minutes on an idle 2-core machine; far more when the machine is shared
def test_the_real_models_critiques_pass_the_quality_check(grader: Any) -> None:
    grading, bank = grader
    items = {(i["question_id"], i["kind"]): i for i in load_items(DATA)}
    asked = kept = 0
    failures = []
    for key in PICKS:
        item = items[key]
        entry = bank.get(item["question_id"])
        grade = grading.grade(entry, item["answer"], session=f"real-{key[0]}")
        found = evaluate(grading, entry, item, grade)
        asked += len(found["asked"])
        kept += len(found["kept"])
        failures += [f"{key}: {problem}" for problem in found["problems"]]
        assert grade.llm and grade.score == grading.rubric_grade(entry, item["answer"]).score
    assert not failures, "\n".join(failures)
    assert kept >= asked / 2, f"only {kept} of {asked} lines were the model's own"
