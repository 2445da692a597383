"""Grading validity: the coach's scores against the human grades of the UNT short-answer set.

Run: python -m benchmarks.grading_validity [--quick] [--no-llm] [--llm-sample N] [--out FILE]
Every answer is graded rubric-only, exactly as the product grades it (Grader.rubric_grade); a fixed random sample
also with the local model's critique. Prints Pearson and Spearman correlation with the average human grade, RMSE
after a linear map to 0-5, and the figures per assignment; writes benchmarks/results/grading_validity.json.
Nothing is fitted on the fold it is scored on: the linear map behind RMSE is fitted on the other folds, and the
rubric's two constants that this set informs (THRESHOLD_FEW and BAND_FEW) are chosen again on the other 11
assignments for each held-out one; the figures say whether every fold chose the shipped values (then the shipped
score is the cross-validated one). --quick grades one assignment, rubric-only, and cross-validates by question.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine  # noqa: E402
from benchmarks.unt import StudentAnswer, UntSet, load_unt  # noqa: E402
from bot.core.bank import Entry  # noqa: E402
from bot.core.embedder import Embedder, Encoded, SentenceEmbedder  # noqa: E402
from bot.core.grading import rubric  # noqa: E402
from bot.core.grading.grader import CONTRADICTION_PENALTY, Grade, Grader  # noqa: E402
from bot.core.grading.guards import screen  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 20240611
LLM_SAMPLE = 300
QUICK_ASSIGNMENT = 1
# Pearson r on all answers as the papers report it (README of the set; check against the papers before quoting).
PUBLISHED = {"Mohler, Bunescu & Mihalcea 2011 (best system)": 0.52, "Sultan, Salazar & Sumner 2016": 0.59}
# The rubric's constants are chosen again on the other folds from these grids (the shipped values among them).
THRESHOLDS_FEW = (0.6, 0.65, 0.7, 0.75, 0.8)
BANDS_FEW = (0.45, 0.6, 0.75, 0.9, 1.05)
_BLOCKED = ("empty", "dont_know", "gibberish", "echo", "off_topic")


# -- statistics (numpy only) ---------------------------------------------------------------------------------------


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation (0 when either side is constant)."""
    a, b = np.asarray(x, float), np.asarray(y, float)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def ranks(x: Sequence[float]) -> np.ndarray:
    """Ranks with ties averaged."""
    values = np.asarray(x, float)
    order = values.argsort(kind="stable")
    out = np.empty(len(values))
    out[order] = np.arange(len(values), dtype=float)
    for value in np.unique(values):
        tied = values == value
        out[tied] = out[tied].mean()
    return out


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation."""
    return pearson(ranks(x), ranks(y))


def fit_linear(features: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares weights, the intercept last."""
    design = np.column_stack([features, np.ones(len(features))])
    return np.linalg.lstsq(design, target, rcond=None)[0]


def cross_validated(features: np.ndarray, target: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Each fold predicted by a linear map fitted on the other folds only, clipped to 0-5."""
    features = features.reshape(len(target), -1)
    out = np.zeros(len(target))
    for fold in np.unique(folds):
        test = folds == fold
        weights = fit_linear(features[~test], target[~test])
        out[test] = np.column_stack([features[test], np.ones(int(test.sum()))]) @ weights
    return np.clip(out, 0.0, 5.0)


def rmse(predicted: np.ndarray, target: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((predicted - target) ** 2)))


def figures(predicted: Sequence[float], mapped: np.ndarray, human: np.ndarray) -> dict[str, Any]:
    """n, Pearson and Spearman of a prediction, and RMSE of its cross-validated 0-5 map."""
    return {"n": len(human), "pearson": round(pearson(predicted, human), 4),
            "spearman": round(spearman(predicted, human), 4), "rmse": round(rmse(mapped, human), 4)}


# -- embeddings: batched once, then served from memory ----------------------------------------------------------


class BatchedEmbedder:
    """Wraps an embedder: texts encoded in large batches up front, then served from memory (same vectors)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._encoded: dict[str, Encoded] = {}

    def prefetch(self, texts: Sequence[str]) -> None:
        """Encode every text not seen yet, in one call."""
        new = [t for t in dict.fromkeys(texts) if t not in self._encoded]
        if new:
            self._encoded.update(zip(new, self.inner.encode(new), strict=True))

    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        """Encodings from memory (anything unseen is encoded now)."""
        self.prefetch(texts)
        return [self._encoded[t] for t in texts]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence vectors from memory."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([e.vector for e in self.encode(texts)])


def rubric_texts(entries: Sequence[Entry], answers: Sequence[StudentAnswer]) -> list[str]:
    """What the rubric will encode: the points and every answer's sentences (a miss only costs time)."""
    return [p for e in entries for p in e.points] + [s for a in answers for s in screen(a.text).sentences]


# -- grading -----------------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One graded answer."""

    answer: StudentAnswer
    grade: Grade
    seconds: float = 0.0
    llm_score: int | None = None
    contradictions: int = 0

    def similarities(self) -> np.ndarray:
        """Each key point's similarity (0 for a blocked answer)."""
        return np.array([p.similarity for p in self.grade.key_points], float)


def grade_all(grader: Grader, bank: dict[str, Entry], answers: Sequence[StudentAnswer]) -> list[Row]:
    """Rubric-only grades of every answer, timed."""
    rows = []
    for answer in answers:
        entry = bank[answer.entry_id]
        started = time.perf_counter()
        grade = grader.rubric_grade(entry, answer.text)
        rows.append(Row(answer, grade, seconds=time.perf_counter() - started))
    return rows


def rescored(row: Row, threshold_few: float, band_few: float) -> float:
    """The product's score of a row with other constants: same guards, same contradiction penalty."""
    grade = row.grade
    if grade.guard in _BLOCKED or grade.result is None:
        return 0.0
    sims = row.similarities()
    threshold, band = (threshold_few, band_few) if len(sims) <= rubric.FEW_POINTS else (rubric.THRESHOLD, rubric.BAND)
    wrong = {c.point for c in grade.contradictions}
    credits = [0.0 if i in wrong else rubric.credit(float(v), band, threshold) for i, v in enumerate(sims)]
    return float(max(0, rubric.score_of(credits) - CONTRADICTION_PENALTY * len(wrong)))


# -- the model's critique on a fixed sample, cached so a long run can resume ------------------------------------


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


# -- figures ---------------------------------------------------------------------------------------------------


def folds_of(rows: Sequence[Row]) -> tuple[np.ndarray, str]:
    """Folds for cross-validation: assignments, or questions when there is only one assignment."""
    assignments = np.array([r.answer.assignment for r in rows])
    if len(set(assignments.tolist())) > 1:
        return assignments, f"leave-one-assignment-out ({len(set(assignments.tolist()))} folds)"
    questions = np.array([r.answer.qid for r in rows])
    return questions, f"leave-one-question-out ({len(set(questions.tolist()))} folds; one assignment only)"


def score_figures(rows: Sequence[Row], folds: np.ndarray) -> dict[str, Any]:
    """The grader's own score: correlations, and RMSE after a cross-validated linear map to 0-5."""
    human = np.array([r.answer.grade for r in rows])
    score = np.array([r.grade.score for r in rows], float)
    return figures(score, cross_validated(score, human, folds), human)


def contradiction_figures(rows: Sequence[Row], folds: np.ndarray) -> dict[str, Any]:
    """The code's contradiction check on this data: how often it fires, on whom, and the score without it."""
    human = np.array([r.answer.grade for r in rows])
    before = np.array([r.grade.result.score if r.grade.result is not None and r.grade.guard not in _BLOCKED
                       else r.grade.score for r in rows], float)
    flagged = np.array([bool(r.grade.contradictions) for r in rows])
    kinds: dict[str, int] = {}
    for row in rows:
        for c in row.grade.contradictions:
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
    return {"answers_flagged": int(flagged.sum()), "kinds": kinds,
            "mean_human_grade_flagged": round(float(human[flagged].mean()), 3) if flagged.any() else None,
            "mean_human_grade_all": round(float(human.mean()), 3),
            "without_the_check": figures(before, cross_validated(before, human, folds), human),
            "examples": [{"qid": r.answer.qid, "human": r.answer.grade, "quote": c.quote, "kind": c.kind}
                         for r in rows for c in r.grade.contradictions][:40]}


def constants_by_fold(rows: Sequence[Row], folds: np.ndarray) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Each fold scored with the (THRESHOLD_FEW, BAND_FEW) that gives the best Pearson r on the other folds."""
    human = np.array([r.answer.grade for r in rows])
    grid = {(t, b): np.array([rescored(r, t, b) for r in rows]) for t in THRESHOLDS_FEW for b in BANDS_FEW}
    out, chosen = np.zeros(len(rows)), []
    for fold in np.unique(folds):
        train = folds != fold
        best = max(grid, key=lambda k: pearson(grid[k][train], human[train]))
        out[~train] = grid[best][~train]
        chosen.append({"fold": str(fold), "threshold_few": best[0], "band_few": best[1]})
    return out, chosen


def per_assignment(rows: Sequence[Row], predictions: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Pearson and Spearman per assignment of each prediction."""
    human = np.array([r.answer.grade for r in rows])
    assignments = np.array([r.answer.assignment for r in rows])
    out = []
    for number in sorted(set(assignments.tolist())):
        mask = assignments == number
        item: dict[str, Any] = {"assignment": number, "n": int(mask.sum())}
        for name, values in predictions.items():
            item[f"{name}_pearson"] = round(pearson(values[mask], human[mask]), 4)
            item[f"{name}_spearman"] = round(spearman(values[mask], human[mask]), 4)
        out.append(item)
    return out


def fold_maps(scores: np.ndarray, human: np.ndarray, folds: np.ndarray) -> dict[Any, np.ndarray]:
    """Per fold, the linear map score -> grade fitted on every other fold."""
    return {fold: fit_linear(scores[folds != fold].reshape(-1, 1), human[folds != fold]) for fold in np.unique(folds)}


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


def disagreements(rows: Sequence[Row], scores: np.ndarray, mapped: np.ndarray, count: int = 20) -> list[dict[str, Any]]:
    """The answers where the cross-validated 0-5 prediction is furthest from the human grade."""
    order = np.argsort(-np.abs(mapped - np.array([r.answer.grade for r in rows])), kind="stable")[:count]
    return [{"qid": rows[i].answer.qid, "answer": rows[i].answer.text, "human": rows[i].answer.grade,
             "predicted": round(float(mapped[i]), 2), "grader_score": rows[i].grade.score,
             "guard": rows[i].grade.guard, "contradicted": [c.quote for c in rows[i].grade.contradictions]}
            for i in order]


# -- the run ---------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"assignment {QUICK_ASSIGNMENT} only, rubric-only")
    parser.add_argument("--no-llm", action="store_true", help="skip the critique sample")
    parser.add_argument("--llm-sample", type=int, default=LLM_SAMPLE, help="answers graded with the critique")
    parser.add_argument("--data", type=Path, default=None, help="the UNT folder (default ../shared/benchmarks/...)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write")
    parser.add_argument("--llm-minutes", type=float, default=None,
                        help="stop the critique sample after this long (what is done is cached and reported)")
    parser.add_argument("--cache", type=Path, default=None, help="critique cache (JSONL; default under the data dir)")
    return parser.parse_args(argv)


def selected(unt: UntSet, quick: bool) -> list[StudentAnswer]:
    """Every answer, or one assignment's in quick mode."""
    return unt.of_assignment(QUICK_ASSIGNMENT) if quick else list(unt.answers)


def sample_rows(rows: Sequence[Row], size: int) -> list[Row]:
    """A fixed random sample (seeded), grouped by question (the prompt prefix is reused) in a seeded question order,
    so a run stopped early still covers a random set of questions."""
    rng = random.Random(SEED)
    picked = [rows[i] for i in sorted(rng.sample(range(len(rows)), min(size, len(rows))))]
    questions = sorted({r.answer.qid for r in picked})
    rng.shuffle(questions)
    rank = {q: n for n, q in enumerate(questions)}
    return sorted(picked, key=lambda r: rank[r.answer.qid])


def rubric_phase(unt: UntSet, answers: Sequence[StudentAnswer], log: Callable[[str], None]) -> tuple[list[Row],
                                                                                                      dict[str, Any]]:
    """Every answer graded rubric-only; the time of each part (model load excluded)."""
    embedder = BatchedEmbedder(SentenceEmbedder())
    embedder.inner.embed(["warm up"])
    bank = unt.bank.entries
    started = time.perf_counter()
    embedder.prefetch(rubric_texts(list(bank.values()), answers))
    embedded = time.perf_counter() - started
    log(f"encoded {len(embedder._encoded)} texts in {embedded:.1f} s")
    rows = grade_all(Grader(embedder), bank, answers)
    total = time.perf_counter() - started
    grading = sum(r.seconds for r in rows)
    return rows, {"batched_embedding_s": round(embedded, 2), "grader_calls_s": round(grading, 2),
                  "total_s": round(total, 2), "answers_per_s": round(len(rows) / total, 2)}


def latency(unt: UntSet, answers: Sequence[StudentAnswer], count: int) -> dict[str, Any]:
    """Milliseconds per answer with the product's path: one Grader.rubric_grade call each, no batching."""
    grader = Grader(SentenceEmbedder())
    picked = random.Random(SEED).sample(list(answers), min(count, len(answers)))
    grader.rubric_grade(unt.bank.get(picked[0].entry_id), picked[0].text)  # loads the model
    for answer in picked:  # as when the question is shown: the points encoded and parsed
        grader.prepare(unt.bank.get(answer.entry_id))
    times = []
    for answer in picked:
        started = time.perf_counter()
        grader.rubric_grade(unt.bank.get(answer.entry_id), answer.text)
        times.append(1000 * (time.perf_counter() - started))
    return {"n": len(times), "median_ms": round(float(np.median(times)), 1),
            "p95_ms": round(float(np.percentile(times, 95)), 1), "answers_per_s": round(1000 / np.mean(times), 2)}


def report(rows: list[Row], timing: dict[str, Any], quick: bool, llm: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON result."""
    folds, scheme = folds_of(rows)
    human = np.array([r.answer.grade for r in rows])
    grader = np.array([r.grade.score for r in rows], float)
    by_fold, chosen = constants_by_fold(rows, folds)
    shipped = (rubric.THRESHOLD_FEW, rubric.BAND_FEW)
    predictions = {"grader": grader, "constants_by_fold": by_fold}
    return {
        "dataset": {"name": "UNT CS short-answer v2.0 (Mohler & Mihalcea)", "questions": len({r.answer.qid for r in
                    rows}), "answers": len(rows), "assignments": sorted({r.answer.assignment for r in rows})},
        "mode": "quick" if quick else "full", "seed": SEED, "embedder": "all-MiniLM-L6-v2",
        "cross_validation": scheme,
        "calibration": f"the score is the product's (Grader.rubric_grade); the linear map behind RMSE is fitted "
                       f"{scheme}, and THRESHOLD_FEW and BAND_FEW are chosen again on the other folds for each fold",
        "rubric_only": score_figures(rows, folds) | {"timing": timing},
        "contradictions": contradiction_figures(rows, folds),
        "constants_by_fold": {"description": "each fold scored with the (THRESHOLD_FEW, BAND_FEW) that correlate "
                              "best on the other folds", "shipped": list(shipped), "chosen": chosen,
                              "every_fold_chose_the_shipped_values": all((c["threshold_few"], c["band_few"]) == shipped
                                                                         for c in chosen),
                              **figures(by_fold, cross_validated(by_fold, human, folds), human)},
        "per_assignment": per_assignment(rows, predictions), "llm_sample": llm, "published_pearson": PUBLISHED,
        "disagreements": disagreements(rows, grader, cross_validated(grader, human, folds)),
        "machine": machine(),
    }


def print_summary(result: dict[str, Any]) -> None:
    """A short table on standard output."""
    print(f"UNT short-answer, {result['dataset']['answers']} answers ({result['mode']}); "
          f"fitted parts cross-validated {result['cross_validation']}")
    for label, key in (("score as shipped", "rubric_only"), ("constants by fold", "constants_by_fold")):
        item = result[key]
        print(f"  {label:17} r={item['pearson']:.3f}  rho={item['spearman']:.3f}  RMSE={item['rmse']:.3f}")
    folds = result["constants_by_fold"]
    print(f"  every fold chose the shipped THRESHOLD_FEW, BAND_FEW {folds['shipped']}: "
          f"{folds['every_fold_chose_the_shipped_values']}")
    check = result["contradictions"]
    print(f"  contradiction check: {check['answers_flagged']} answers flagged (mean human grade "
          f"{check['mean_human_grade_flagged']} vs {check['mean_human_grade_all']}); r without it "
          f"{check['without_the_check']['pearson']:.3f}")
    timing = result["rubric_only"]["timing"]
    print(f"  {timing['answers_per_s']:.1f} answers/s batched; product path {timing['latency']['median_ms']:.0f} ms "
          "median per answer")
    for item in result["per_assignment"]:
        print(f"  assignment {item['assignment']:>2} n={item['n']:>3}  r={item['grader_pearson']:.3f}")
    if result["llm_sample"]:
        llm = result["llm_sample"]
        print(f"  critique sample n={llm['n']}{'' if llm['complete'] else ' (stopped early)'}: rubric "
              f"r={llm['rubric_only']['pearson']:.3f} -> with critique r={llm['with_critique']['pearson']:.3f}; "
              f"{llm['scores_lowered']} scores lowered")
    print("  published (Pearson): " + "; ".join(f"{k} {v:.2f}" for k, v in result["published_pearson"].items()))


def main(argv: Sequence[str] | None = None) -> int:
    """Run and write the JSON."""
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    unt = load_unt(args.data)
    answers = selected(unt, args.quick)
    rows, timing = rubric_phase(unt, answers, log)
    timing["latency"] = latency(unt, answers, 20 if args.quick else 60)
    llm = None
    if not (args.quick or args.no_llm):
        from bot.config import Settings

        grader = Grader(SentenceEmbedder(), llm=make_llm())
        cache = args.cache or Settings().data_dir / "benchmarks" / "unt_critique.jsonl"
        budget = None if args.llm_minutes is None else 60 * args.llm_minutes
        run = critique_sample(grader, unt.bank.entries, sample_rows(rows, args.llm_sample), cache, budget, log)
        llm = llm_figures(rows, folds_of(rows)[0], run, getattr(grader.llm, "name", "model"))
    result = report(rows, timing, args.quick, llm)
    out = args.out or RESULTS / ("grading_validity_quick.json" if args.quick else "grading_validity.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print_summary(result)
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
