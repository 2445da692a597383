"""Rubric-only grading speed with the real embedder: p50 / p95 over warm grades (entry vectors cached).

Usage: python benchmarks/grading_speed.py [--count 200] [--json]  (also part of `python -m benchmarks`)
The answers are the labeled answers of tests/data/labeled_answers.yaml, cycled; the goal is p50 <= 60 ms.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import REPO, labeled_pairs, summary  # noqa: E402
from bot.core.bank import load_bank  # noqa: E402
from bot.core.grading.grader import Grader  # noqa: E402


def rubric_latency(grader: Grader, pairs: list[tuple[Any, str]], count: int) -> dict[str, Any]:
    """Milliseconds per warm rubric grade over `count` answers (pairs cycled; one warm-up pass first)."""
    for entry, answer in pairs[:count]:  # warm: entry vectors cached, torch's first-call costs paid
        grader.rubric_grade(entry, answer)
    times = []
    for i in range(count):
        entry, answer = pairs[i % len(pairs)]
        start = time.perf_counter()
        grader.rubric_grade(entry, answer)
        times.append((time.perf_counter() - start) * 1000)
    return summary(times, digits=1)


def main() -> None:
    """Grade `count` answers warm and print the latency figures."""
    from bot.core.embedder import SentenceEmbedder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    bank = load_bank(REPO / "knowledge")
    embedder = SentenceEmbedder()
    started = time.perf_counter()
    embedder.load()
    load_s = time.perf_counter() - started
    result = rubric_latency(Grader(embedder), labeled_pairs(bank), args.count)
    result["embedder_load_s"] = round(load_s, 2)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"rubric-only grade, warm, {result['n']} answers: p50 {result['p50']} ms, "
              f"p95 {result['p95']} ms, max {result['max']} ms (embedder load {result['embedder_load_s']} s)")


if __name__ == "__main__":
    main()
