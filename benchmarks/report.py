"""The table of figures against the targets of issues #7 and #16 (reported, never asserted)."""

from __future__ import annotations

from typing import Any

# Every key of the `figures` object of latest.json (the smoke test checks them all).
FIGURES = ("launch_no_llm_s", "launch_with_llm_s", "launch_cpu_s", "index_cold_s", "index_unchanged_s",
           "ask_retrieval_ms", "rubric_grade_ms", "prewarm_s", "answer_to_score_s", "answer_to_first_token_s",
           "answer_to_first_token_typed_s", "answer_to_critique_s", "answer_to_critique_typed_s",
           "evaluated_after_answer_tokens", "evaluated_after_answer_typed_tokens", "output_tokens", "offload",
           "critiques_by_model", "raw_ttft_s", "raw_total_s", "tokens_per_s_coach", "tokens_per_s_raw",
           "tokens_per_s_ratio", "crowd", "single_stream_throughput_per_s", "crowd_throughput_ratio", "peak_rss_gb",
           "peak_rss_runs_gb", "memory")


def _p(fig: dict[str, Any], unit: str, digits: int = 2) -> str:
    return f"p50 {fig['p50']:.{digits}f} {unit}, p95 {fig['p95']:.{digits}f} {unit} (n={fig['n']})"


def _row(figure: str, result: str, target: str, met: bool | None) -> dict[str, Any]:
    return {"figure": figure, "result": result, "target": target,
            "met": "—" if met is None else ("yes" if met else "NO")}


def table(f: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows: figure, result, target, met."""
    crowd = f["crowd"]
    return [
        _row("launch → first question, --no-llm", f"median {f['launch_no_llm_s']['p50']:.2f} s "
             f"(CPU {f['launch_cpu_s']['no_llm']:.2f} s)", "≤ 1.0 s",
             f["launch_no_llm_s"]["p50"] <= 1.0),
        _row("launch → first question, with model", f"median {f['launch_with_llm_s']['p50']:.2f} s "
             f"(CPU {f['launch_cpu_s']['with_llm']:.2f} s)", "≤ 1.0 s",
             f["launch_with_llm_s"]["p50"] <= 1.0),
        _row("cold index of the deck", f"median {f['index_cold_s']:.2f} s", "≤ 5 s", f["index_cold_s"] <= 5),
        _row("unchanged re-index", f"median {f['index_unchanged_s']:.3f} s", "≤ 0.5 s", f["index_unchanged_s"] <= 0.5),
        _row("`ask` retrieval, warm", _p(f["ask_retrieval_ms"], "ms", 1), "p50 ≤ 25 ms",
             f["ask_retrieval_ms"]["p50"] <= 25),
        _row("rubric-only grade, warm", _p(f["rubric_grade_ms"], "ms", 1), "p50 ≤ 60 ms",
             f["rubric_grade_ms"]["p50"] <= 60),
        _row("answer → score shown", _p(f["answer_to_score_s"], "s", 3), "p50 ≤ 0.1 s",
             f["answer_to_score_s"]["p50"] <= 0.1),
        _row("answer → first character of prose, prefix prewarmed, whole answer at once (Discord, Slack)",
             _p(f["answer_to_first_token_s"], "s") + f"; raw llama-cpp-python (cold) p50 {f['raw_ttft_s']['p50']:.2f} s"
             f"; tokens evaluated after the answer p50 {f['evaluated_after_answer_tokens']['p50']:.0f}",
             "p50 ≤ 1.0 s", 0 < f["answer_to_first_token_s"]["p50"] <= 1.0),
        _row("answer → first character of prose, terminal (answer evaluated line by line as typed)",
             _p(f["answer_to_first_token_typed_s"], "s") + "; tokens evaluated after the answer p50 "
             f"{f['evaluated_after_answer_typed_tokens']['p50']:.0f}", "p50 ≤ 1.0 s",
             0 < f["answer_to_first_token_typed_s"]["p50"] <= 1.0),
        _row("answer → whole critique (whole answer / typed)", _p(f["answer_to_critique_s"], "s") +
             f" / p50 {f['answer_to_critique_typed_s']['p50']:.2f} s; by model {f['critiques_by_model']}; "
             f"output p50 {f['output_tokens']['p50']:.0f} tokens; raw llama-cpp-python (cold) "
             f"p50 {f['raw_total_s']['p50']:.2f} s", "p50 ≤ 5 s", 0 < f["answer_to_critique_s"]["p50"] <= 5),
        _row("same prompt, raw llama-cpp-python, cold, unconstrained: first token", _p(f["raw_ttft_s"], "s"),
             "baseline", None),
        _row("same prompt, raw llama-cpp-python, cold, unconstrained: whole", _p(f["raw_total_s"], "s"), "baseline",
             None),
        _row("generation tokens/s, coach ÷ raw llama-cpp-python unconstrained",
             f"{f['tokens_per_s_coach']:.1f} ÷ {f['tokens_per_s_raw']:.1f} = {f['tokens_per_s_ratio']:.2f}", "≥ 0.9",
             f["tokens_per_s_ratio"] >= 0.9),
        _row(f"{crowd['users']} users at once: lost answers", f"{crowd['lost_answers']} lost "
             f"({crowd['attempts_stored']}/{crowd['answers_sent']} stored, {len(crowd['errors'])} errors)", "0 lost",
             crowd["lost_answers"] == 0 and not crowd["errors"]),
        _row(f"{crowd['users']} users at once: throughput vs single stream",
             f"{crowd['total_s']:.1f} s total (the same answers one at a time: "
             f"{crowd.get('one_at_a_time_s', 0):.1f} s), "
             f"per user {_p(crowd['per_user_s'], 's', 1)}; "
             f"{crowd.get('parallel', 1)} decoded together; ratio {f['crowd_throughput_ratio']:.2f}", "≥ 1.0×",
             f["crowd_throughput_ratio"] >= 1.0),
        _row("peak RSS, terminal interview with the model used, every run", f"max {f['peak_rss_gb']:.2f} GB "
             f"(runs: {', '.join(f'{x:.2f}' for x in f['peak_rss_runs_gb'])} GB)", "≤ 2.8 GB in every run",
             f["peak_rss_gb"] <= 2.8),
        _row("where the model runs", f["offload"], "—", None),
    ]
