"""In-process figures of the engine without the model: index sync, `ask` retrieval, rubric-only grading."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import labeled_pairs, paraphrase_queries, summary
from benchmarks.grading_speed import rubric_latency
from bot.core.bank import Bank
from bot.core.embedder import Embedder
from bot.core.grading.grader import Grader
from bot.core.index import ChromaIndex
from bot.core.runtime import Runtime


def _sync_seconds(embedder: Embedder, bank: Bank, folder: Path) -> tuple[float, float]:
    """(cold sync of an empty folder, then an unchanged re-sync by a fresh index on the same folder)."""
    index = ChromaIndex(embedder, path=folder)
    cold = index.sync(bank)
    assert cold.embedded_texts > 0, "the cold sync embedded nothing"
    index.close()
    again = ChromaIndex(embedder, path=folder)
    started = time.perf_counter()
    unchanged = again.sync(bank)
    seconds = time.perf_counter() - started
    assert unchanged.embedded_texts == 0, "the unchanged re-index embedded texts"
    again.close()
    return cold.seconds, seconds


def index_sync(runtime: Runtime, runs: int) -> dict[str, Any]:
    """Median of `runs` cold index builds of the deck and of unchanged re-indexes (embedder already loaded).

    The first run is the runtime's own index (kept for the retrieval figure); the others use scratch folders.
    """
    embedder, bank = runtime.retrieval_embedder, runtime.bank
    runtime.index()
    assert runtime.last_sync is not None and runtime.last_sync.embedded_texts > 0, "the cold sync embedded nothing"
    started = time.perf_counter()
    assert not runtime.reindex().embedded_texts, "the unchanged re-index embedded texts"
    cold, unchanged = [runtime.last_sync.seconds], [time.perf_counter() - started]
    for _ in range(runs - 1):
        folder = Path(tempfile.mkdtemp(prefix="coach-bench-chroma-"))
        try:
            c, u = _sync_seconds(embedder, bank, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        cold.append(c)
        unchanged.append(u)
    return {"entries": len(bank), "cold_median_s": round(statistics.median(cold), 3),
            "unchanged_median_s": round(statistics.median(unchanged), 4),
            "cold_runs_s": [round(x, 3) for x in cold], "unchanged_runs_s": [round(x, 4) for x in unchanged]}


def retrieval(index: ChromaIndex, count: int) -> dict[str, Any]:
    """Milliseconds per warm `ask` search (k=3) over `count` paraphrased queries, cycled."""
    queries = paraphrase_queries()
    for query in queries[:5]:
        index.search(query, k=3)
    times = []
    for i in range(count):
        started = time.perf_counter()
        index.search(queries[i % len(queries)], k=3)
        times.append((time.perf_counter() - started) * 1000)
    return summary(times, digits=2)


def rubric(grader: Grader, bank: Bank, count: int) -> dict[str, Any]:
    """Milliseconds per warm rubric-only grade of the labeled answers."""
    return rubric_latency(grader, labeled_pairs(bank), count)
