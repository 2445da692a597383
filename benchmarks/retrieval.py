"""Retrieval recall of paraphrased queries, with the product's index (Chroma + mpnet + BM25 + crowding, as `ask` ranks).

Usage: python -m benchmarks.retrieval [--model FOLDER] FILE.yaml [FILE.yaml ...]   (each a list of {id, query})
Prints recall@1 and recall@3 per file and the misses, the model's load time, the warm query's p50 and the peak RSS;
the target of issue 14 is recall@1 >= 0.95. --model measures another sentence-transformers folder (e.g. MiniLM's).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.bank import load_bank  # noqa: E402
from bot.core.embedder import retrieval_embedder  # noqa: E402
from bot.core.index import ChromaIndex  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main(argv: Iterable[str] | None = None) -> int:
    """Index the deck in a scratch folder, then rank every query of every file."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", help="a sentence-transformers folder instead of the product's model")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(list(argv) if argv is not None else None)
    bank = load_bank(REPO / "knowledge")
    embedder = retrieval_embedder(args.model)
    started = time.perf_counter()
    embedder.load()
    print(f"model {embedder.name}: loaded in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        index = ChromaIndex(embedder, path=Path(folder))
        report = index.sync(bank)
        print(f"cold index of {len(bank)} entries: {report.seconds:.1f} s ({report.embedded_texts} texts)")
        took: list[float] = []
        for file in args.files:
            cases = yaml.safe_load(file.read_text(encoding="utf-8"))
            ranked = []
            for c in cases:
                begun = time.perf_counter()
                ranked.append([h.entry.id for h in index.search(c["query"], k=3)])
                took.append(time.perf_counter() - begun)
            top1 = sum(r[0] == c["id"] for r, c in zip(ranked, cases, strict=True)) / len(cases)
            top3 = sum(c["id"] in r for r, c in zip(ranked, cases, strict=True)) / len(cases)
            print(f"{file}: recall@1 {top1:.3f}, recall@3 {top3:.3f} over {len(cases)} queries")
            for r, c in zip(ranked, cases, strict=True):
                if r[0] != c["id"]:
                    print(f"  miss: {c['query']!r} -> {r} (wanted {c['id']})")
        index.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"search p50 {1000 * statistics.median(took):.1f} ms over {len(took)} queries; peak RSS {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
