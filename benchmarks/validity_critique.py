"""The model's critique on a fixed sample of the UNT answers, cached so a long run can resume, and its figures."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.validity_grading import Row
from benchmarks.validity_stats import figures, fold_maps
from bot.core.bank import Entry
from bot.core.grading.grader import Grader


@dataclass
class LlmRun:
    """The critique sample's grades and time."""

    seconds: list[float] = field(default_factory=list)
    failed: int = 0
    cached: int = 0
    unfinished: int = 0


def engine_version() -> str:
    """A digest of the grading code and prompts: a cached critique is reused only by the same engine."""
    from bot.config import REPO_ROOT

    files = sorted((REPO_ROOT / "bot/core/grading").glob("*.py"))
    files += sorted((REPO_ROOT / "prompts").glob("critique_*.md"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def cache_key(model: str, version: str, row: Row) -> str:
    """What a cached critique depends on: model, engine version, entry, answer and its rubric score."""
    payload = json.dumps([model, version, row.answer.entry_id, row.answer.text, row.grade.score])
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def read_cache(path: Path) -> dict[str, dict[str, Any]]:
    """The JSONL cache of earlier critique runs (a torn last line is ignored)."""
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        out[item["key"]] = item
    return out


def critique_sample(grader: Grader, bank: dict[str, Entry], rows: Sequence[Row], cache: Path, budget_s: float | None,
                    log: Callable[[str], None]) -> LlmRun:
    """Grade each row with the critique (in question order, so the prompt prefix is reused); cached per answer.

    With a time budget the sample stops early; the answers not reached keep llm_score None and are reported."""
    run, done = LlmRun(), read_cache(cache)
    model, version = getattr(grader.llm, "name", "model"), engine_version()
    cache.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for index, row in enumerate(rows, 1):
        key = cache_key(model, version, row)
        if key in done:
            row.llm_score, row.contradictions = done[key]["score"], done[key]["contradictions"]
            run.cached += 1
            continue
        if budget_s is not None and time.perf_counter() - started > budget_s:
            run.unfinished += 1
            continue
        begun = time.perf_counter()
        graded = grader.grade(bank[row.answer.entry_id], row.answer.text, use_llm=True)
        run.seconds.append(time.perf_counter() - begun)
        run.failed += int(not graded.llm and not graded.flagged)
        row.llm_score, row.contradictions = graded.score, len(graded.contradictions)
        with cache.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"key": key, "qid": row.answer.qid, "score": graded.score,
                                     "rubric_score": row.grade.score, "contradictions": row.contradictions,
                                     "llm": graded.llm, "seconds": round(run.seconds[-1], 2),
                                     "quotes": [c.quote for c in graded.contradictions]}) + "\n")
        log(f"  critique {index}/{len(rows)}: {run.seconds[-1]:.1f} s, score {row.grade.score} -> {graded.score}")
    return run


def make_llm() -> Any:
    """The packaged 1.5B model through llama.cpp, on every core."""
    from bot.config import Settings
    from bot.core.llm.llama import LlamaCppLLM
    from bot.core.llm.modelfile import resolve_model_path

    return LlamaCppLLM(resolve_model_path(Settings()), n_threads=os.cpu_count() or 1)


def llm_figures(rows: Sequence[Row], folds: np.ndarray, run: LlmRun, model: str) -> dict[str, Any]:
    """The sample graded both ways: the rubric score and the score after verified contradictions.

    RMSE uses the rubric-only map of the other folds (fitted on all their answers), applied to both scores."""
    human_all = np.array([r.answer.grade for r in rows])
    maps = fold_maps(np.array([r.grade.score for r in rows], float), human_all, folds)
    picked = [i for i, r in enumerate(rows) if r.llm_score is not None]
    human = human_all[picked]
    rubric = np.array([rows[i].grade.score for i in picked], float)
    critiqued = np.array([rows[i].llm_score or 0 for i in picked], float)

    def mapped(values: np.ndarray) -> np.ndarray:
        return np.clip([maps[folds[i]][0] * v + maps[folds[i]][1] for i, v in zip(picked, values, strict=True)], 0, 5)

    lowered = human[critiqued < rubric]
    return {"n": len(picked), "model": model, "questions": len({rows[i].answer.qid for i in picked}),
            "rubric_only": figures(rubric, mapped(rubric), human),
            "with_critique": figures(critiqued, mapped(critiqued), human),
            "scores_lowered": int(len(lowered)), "mean_human_grade_of_lowered": round(float(lowered.mean()), 3)
            if len(lowered) else None, "mean_human_grade_of_sample": round(float(human.mean()), 3) if len(human)
            else None, "seconds_per_answer": round(float(np.mean(run.seconds)), 2) if run.seconds else None,
            "graded_now": len(run.seconds), "from_cache": run.cached, "critique_failed": run.failed,
            "not_reached": run.unfinished, "complete": run.unfinished == 0}
