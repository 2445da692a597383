"""`python -m benchmarks [--quick] [--out FILE]`: every speed figure of the coach, a table, and a JSON file.

The full run uses the default packaged model (COACH_MODEL=1.5b); --quick uses the small one with a few iterations
(a smoke test for CI). Targets are reported, not asserted: every comparison is a ratio measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import critique, engine, terminal
from benchmarks.common import REPO, machine, model_info, scratch_data_dir, summary
from benchmarks.report import table

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Plan:
    """How many iterations of each figure."""

    model: str
    launch_runs: int
    index_runs: int
    queries: int
    grades: int
    answers: int
    users: int
    rss_runs: int


FULL = Plan("1.5b", launch_runs=5, index_runs=3, queries=200, grades=200, answers=20, users=20, rss_runs=3)
QUICK = Plan("0.5b", launch_runs=1, index_runs=1, queries=20, grades=20, answers=2, users=3, rss_runs=1)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}", file=sys.stderr, flush=True)


def model_path(choice: str) -> Path:
    """The packaged model file (assembled in ./data/models if it is not yet)."""
    from bot.config import Settings
    from bot.core.llm.modelfile import resolve_model_path

    return resolve_model_path(Settings(COACH_DATA_DIR=REPO / "data", COACH_MODEL=choice))


def launch_figures(plan: Plan, path: Path) -> dict[str, Any]:
    """Launch → first question, whole processes."""
    _log(f"launch → first question, {plan.launch_runs} runs with and without --no-llm")
    return {"launch": terminal.launch(path, plan.model, plan.launch_runs)}


def memory_figures(plan: Plan, path: Path) -> dict[str, Any]:
    """Peak RSS of the terminal interview with the model used, in every one of several runs (last: it needs the
    machine to itself)."""
    runs = []
    for number in range(plan.rss_runs):
        _log(f"peak RSS of the terminal interview answering one question, run {number + 1} of {plan.rss_runs}")
        runs.append(terminal.peak_rss(path, plan.model, _bank()))
    worst = max(runs, key=lambda r: r["peak_rss_bytes"])
    return {"memory": worst | {"runs_gb": [r["peak_rss_gb"] for r in runs]}}


def engine_figures(plan: Plan, runtime: Any) -> dict[str, Any]:
    """Index sync, retrieval and rubric grading, warm, in this process."""
    started = time.perf_counter()
    runtime.embedder.load()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    runtime.retrieval_embedder.load()   # the index's model (all-mpnet-base-v2), loaded where retrieval runs
    retrieval_load_s = time.perf_counter() - started
    _log(f"embedders loaded in {load_s:.1f} s + {retrieval_load_s:.1f} s; index sync, {plan.index_runs} runs")
    index = engine.index_sync(runtime, plan.index_runs)
    _log(f"ask retrieval, {plan.queries} queries; rubric grade, {plan.grades} answers")
    return {"embedder_load_s": round(load_s, 2), "retrieval_embedder_load_s": round(retrieval_load_s, 2),
            "index": index,
            "retrieval_ms": engine.retrieval(runtime.index(), plan.queries),
            "rubric_ms": engine.rubric(runtime.grader, runtime.bank, plan.grades)}


def model_figures(plan: Plan, runtime: Any) -> dict[str, Any]:
    """The coach's critique path against llama-cpp-python, then the crowd."""
    from bot.core.llm.worker import LLMWorker

    started = time.perf_counter()
    worker = runtime.llm.get()
    assert isinstance(worker, LLMWorker), "the benchmark needs the in-process llama.cpp model"
    described = dict(worker.llm.describe())  # type: ignore[attr-defined]
    _log(f"model loaded in {time.perf_counter() - started:.1f} s; {offload_line(described)}")
    _log(f"{plan.answers} answers: whole, then typed line by line, then raw llama-cpp-python")
    runs, raw = critique.single_stream(runtime, worker, plan.answers)
    _log(f"{plan.users} users answering at once ({described.get('parallel')} decoded together)")
    crowd = critique.crowd(runtime, worker, plan.users)
    return {"coach": runs, "raw": raw, "crowd": crowd, "llm": described}


def offload_line(described: dict[str, Any]) -> str:
    """Where the model runs: the GPU offload, or the CPU."""
    if described.get("gpu_offload_supported") and described.get("layers_offloaded"):
        return (f"GPU offload: {described['layers_offloaded']} of {described['n_layers'] + 1} layers "
                f"(COACH_N_GPU_LAYERS={described['n_gpu_layers']})")
    build = "this llama-cpp-python build can offload" if described.get("gpu_offload_supported") else \
        "this llama-cpp-python build has no GPU offload"
    return (f"CPU only, {described.get('n_threads')} threads ({build}; "
            f"COACH_N_GPU_LAYERS={described.get('n_gpu_layers')})")


def derive(parts: dict[str, Any]) -> dict[str, Any]:
    """The reported figures (seconds unless named _ms), with the ratios measured in this run."""
    runs, raw, crowd = parts["coach"], parts["raw"], parts["crowd"]
    coach = [t for t in runs if not t.typed]
    typed = [t for t in runs if t.typed]
    good = [t for t in coach if t.by_model]
    single_s = statistics.mean(t.critique for t in coach)
    tps_coach = statistics.median(t.tokens_per_s for t in runs if t.by_model) if good else 0.0
    tps_raw = statistics.median(r["tps"] for r in raw)
    throughput_single = 1 / single_s
    return {
        "launch_no_llm_s": summary(parts["launch"]["no_llm"]["runs_s"], 3),
        "launch_with_llm_s": summary(parts["launch"]["with_llm"]["runs_s"], 3),
        "launch_cpu_s": {k: v["cpu_median_s"] for k, v in parts["launch"].items()},
        "index_cold_s": parts["index"]["cold_median_s"], "index_unchanged_s": parts["index"]["unchanged_median_s"],
        "ask_retrieval_ms": parts["retrieval_ms"], "rubric_grade_ms": parts["rubric_ms"],
        "prewarm_s": summary([t.prewarm for t in coach], 3),
        "answer_to_score_s": summary([t.score for t in coach], 4),
        "answer_to_first_token_s": summary([t.first_token for t in good], 3),
        "answer_to_first_token_typed_s": summary([t.first_token for t in typed if t.by_model], 3),
        "answer_to_critique_s": summary([t.critique for t in coach], 3),
        "answer_to_critique_typed_s": summary([t.critique for t in typed], 3),
        "evaluated_after_answer_tokens": summary([t.extra.get("evaluated_tokens", 0) for t in coach], 1),
        "evaluated_after_answer_typed_tokens": summary([t.extra.get("evaluated_tokens", 0) for t in typed], 1),
        "output_tokens": summary([t.generated for t in good], 1),
        "llm": parts["llm"], "offload": offload_line(parts["llm"]),
        "critiques_by_model": f"{len(good)}/{len(coach)}",
        "raw_ttft_s": summary([r["ttft"] for r in raw], 3), "raw_total_s": summary([r["total"] for r in raw], 3),
        "tokens_per_s_coach": round(tps_coach, 2), "tokens_per_s_raw": round(tps_raw, 2),
        "tokens_per_s_ratio": round(tps_coach / tps_raw, 3) if tps_raw else 0.0,
        "crowd": crowd, "single_stream_throughput_per_s": round(throughput_single, 4),
        # The same answers one at a time, then all at once: like for like (the mean of the single-stream answers
        # above is kept beside it, as before).
        "crowd_throughput_ratio": crowd["ratio_same_answers"],
        "crowd_throughput_ratio_vs_mean_single": round(crowd["throughput_per_s"] / throughput_single, 3),
        "peak_rss_gb": parts["memory"]["peak_rss_gb"], "peak_rss_runs_gb": parts["memory"]["runs_gb"],
        "memory": parts["memory"],
    }


def run(plan: Plan, quick: bool, out: Path) -> dict[str, Any]:
    """Measure everything; the JSON document (the raw parts are also saved after each phase, in case of a stop)."""
    from bot.config import Settings
    from bot.core.llm.worker import LLMWorker
    from bot.core.runtime import Runtime

    began = machine()
    path = model_path(plan.model)
    _log(f"model {path.name}, {began['cores']} cores, {began['cpu_model']}")
    parts = launch_figures(plan, path)
    _save(out.with_suffix(".partial.json"), parts)
    data_dir = scratch_data_dir(path)
    runtime = Runtime(Settings(COACH_DATA_DIR=data_dir, COACH_MODEL=plan.model), use_llm=True)
    assert runtime.llm is not None  # use_llm=True
    try:
        runtime.llm.start()  # the model loads while the embedder figures run, as in the terminal
        parts |= engine_figures(plan, runtime)
        _save(out.with_suffix(".partial.json"), parts)
        parts |= model_figures(plan, runtime)
        _save(out.with_suffix(".partial.json"), parts)
    finally:
        runtime.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    if runtime.llm.ready:
        worker = runtime.llm.get()
        assert isinstance(worker, LLMWorker)  # the in-process model of plan.model is served by one worker
        worker.close(wait=True)  # the worker stops; the model stays mapped until exit
    parts |= memory_figures(plan, path)
    return {"quick": quick, "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine_start": began, "machine_end": machine(), "model": model_info(path),
            "plan": plan.__dict__, "figures": derive(parts)}


def run_critique_only(plan: Plan) -> dict[str, Any]:
    """Only the model's figures (answer → first prose, → whole critique, tokens/s against raw llama-cpp-python, and
    the crowd when --users > 0): what a critique change moves, in minutes rather than the whole run's hour."""
    from bot.config import Settings
    from bot.core.embedder import SentenceEmbedder
    from bot.core.llm.worker import LLMWorker
    from bot.core.runtime import Runtime

    began = machine()
    path = model_path(plan.model)
    data_dir = scratch_data_dir(path)
    runtime = Runtime(Settings(COACH_DATA_DIR=data_dir, COACH_MODEL=plan.model), use_llm=True)
    try:
        assert runtime.llm is not None, "the benchmark needs the language model"
        runtime.llm.start()
        embedder = runtime.embedder
        if isinstance(embedder, SentenceEmbedder):   # load it now, so that its start is not in the figures
            embedder.load()
        runtime.index()
        worker = runtime.llm.get()
        assert isinstance(worker, LLMWorker), "the benchmark needs the in-process llama.cpp model"
        _log(f"{plan.answers} answers: whole, then typed line by line, then raw llama-cpp-python")
        runs, raw = critique.single_stream(runtime, worker, plan.answers)
        crowd = critique.crowd(runtime, worker, plan.users) if plan.users else None
        described = dict(worker.llm.describe())  # type: ignore[attr-defined]
    finally:
        runtime.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    coach = [t for t in runs if not t.typed]
    typed = [t for t in runs if t.typed]
    tps_coach = statistics.median([t.tokens_per_s for t in runs if t.by_model] or [0.0])
    tps_raw = statistics.median(r["tps"] for r in raw)
    single_s = statistics.mean(t.critique for t in coach)
    figures = {
        "answer_to_first_token_s": summary([t.first_token for t in coach if t.by_model], 3),
        "answer_to_first_token_typed_s": summary([t.first_token for t in typed if t.by_model], 3),
        "answer_to_critique_s": summary([t.critique for t in coach], 3),
        "answer_to_critique_typed_s": summary([t.critique for t in typed], 3),
        "raw_ttft_s": summary([r["ttft"] for r in raw], 3), "raw_total_s": summary([r["total"] for r in raw], 3),
        "tokens_per_s_coach": round(tps_coach, 2), "tokens_per_s_raw": round(tps_raw, 2),
        "tokens_per_s_ratio": round(tps_coach / tps_raw, 3) if tps_raw else 0.0,
        "critiques_by_model": f"{sum(t.by_model for t in coach)}/{len(coach)}", "offload": offload_line(described),
    }
    if crowd is not None:
        figures |= {"crowd": crowd, "crowd_throughput_ratio": crowd["ratio_same_answers"],
                    "crowd_throughput_ratio_vs_mean_single": round(crowd["throughput_per_s"] * single_s, 3)}
    return {"machine_start": began, "machine_end": machine(), "model": model_info(path), "plan": plan.__dict__,
            "figures": figures}


def _save(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=_plain) + "\n", encoding="utf-8")


def _bank() -> Any:
    from bot.core.bank import load_bank

    return load_bank(REPO / "knowledge")


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few iterations with the small model (CI smoke test)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file (default benchmarks/results/latest.json)")
    for name in ("answers", "users", "launch_runs", "index_runs", "queries", "grades", "rss_runs"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=None, help="override the plan's count")
    parser.add_argument("--critique-only", action="store_true",
                        help="only the critique's speed figures (answers, raw llama-cpp-python, crowd if --users)")
    parser.add_argument("--no-flash-attn", action="store_true",
                        help="load the model without flash attention (the figures before it was turned on)")
    args = parser.parse_args(argv)
    if args.no_flash_attn:
        from bot.core.llm import cpp

        cpp.FLASH_ATTN = False
    plan = QUICK if args.quick else FULL
    plan = replace(plan, **{k: v for k, v in vars(args).items() if k in plan.__dict__ and v is not None})
    if args.critique_only:
        result = run_critique_only(plan)
        out = args.out or RESULTS / "critique-only.json"
        _save(out, result)
        print(json.dumps(result["figures"], indent=1, default=_plain))
        print(f"load average {result['machine_start']['load_average']} → {result['machine_end']['load_average']}; "
              f"written: {out}")
        sys.stdout.flush()
        os._exit(0)
    out = args.out or RESULTS / ("latest-quick.json" if args.quick else "latest.json")
    result = run(plan, args.quick, out)
    result["table"] = table(result["figures"])
    print(render(result))
    _save(out, result)
    out.with_suffix(".partial.json").unlink(missing_ok=True)
    print(f"written: {out}")
    os._exit(0)  # llama.cpp and torch threads may abort the interpreter's shutdown; everything is written


def _plain(value: Any) -> Any:
    return value.__dict__ if hasattr(value, "__dict__") else str(value)


def render(result: dict[str, Any]) -> str:
    """The table with the machine and the model."""
    m, mod = result["machine_end"], result["model"]
    lines = [f"machine: {m['cores']} cores, {m['cpu_model']}; load average at start "
             f"{result['machine_start']['load_average']}, at end {m['load_average']}",
             f"model: {mod['name']} ({mod['mib']} MiB); {result['figures'].get('offload', '')}", "",
             "| figure | result | target | met |", "|---|---|---|---|"]
    lines += [f"| {r['figure']} | {r['result']} | {r['target']} | {r['met']} |" for r in result["table"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
