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
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import machine  # noqa: E402
from benchmarks.unt import StudentAnswer, UntSet, load_unt  # noqa: E402
from benchmarks.validity_critique import critique_sample, llm_figures, make_llm  # noqa: E402
from benchmarks.validity_grading import BLOCKED, BatchedEmbedder, Row, grade_all, rescored, rubric_texts  # noqa: E402
from benchmarks.validity_stats import cross_validated, figures, pearson, spearman  # noqa: E402
from bot.core.embedder import SentenceEmbedder  # noqa: E402
from bot.core.grading import rubric  # noqa: E402
from bot.core.grading.grader import Grader  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 20240611
LLM_SAMPLE = 300
QUICK_ASSIGNMENT = 1
# Pearson r on all answers as the papers report it (README of the set; check against the papers before quoting).
PUBLISHED = {"Mohler, Bunescu & Mihalcea 2011 (best system)": 0.52, "Sultan, Salazar & Sumner 2016": 0.59}
# The rubric's constants are chosen again on the other folds from these grids (the shipped values among them).
THRESHOLDS_FEW = (0.6, 0.65, 0.7, 0.75, 0.8)
BANDS_FEW = (0.45, 0.6, 0.75, 0.9, 1.05)


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
    before = np.array([r.grade.result.score if r.grade.result is not None and r.grade.guard not in BLOCKED
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
