"""Retrieval recall of paraphrased queries, with the product's index (Chroma + MiniLM + BM25, as `ask` ranks).

Usage: python -m benchmarks.retrieval FILE.yaml [FILE.yaml ...]   (each a list of {id, query})
Prints recall@1 and recall@3 per file and the misses; the target of issue 14 is recall@1 >= 0.95.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.bank import load_bank  # noqa: E402
from bot.core.embedder import SentenceEmbedder  # noqa: E402
from bot.core.index import ChromaIndex  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def main(argv: Iterable[str] | None = None) -> int:
    """Index the deck in a scratch folder, then rank every query of every file."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(list(argv) if argv is not None else None)
    bank = load_bank(REPO / "knowledge")
    with tempfile.TemporaryDirectory() as folder:
        index = ChromaIndex(SentenceEmbedder(), path=Path(folder))
        index.sync(bank)
        for file in args.files:
            cases = yaml.safe_load(file.read_text(encoding="utf-8"))
            ranked = [[h.entry.id for h in index.search(c["query"], k=3)] for c in cases]
            top1 = sum(r[0] == c["id"] for r, c in zip(ranked, cases, strict=True)) / len(cases)
            top3 = sum(c["id"] in r for r, c in zip(ranked, cases, strict=True)) / len(cases)
            print(f"{file}: recall@1 {top1:.3f}, recall@3 {top3:.3f} over {len(cases)} queries")
            for r, c in zip(ranked, cases, strict=True):
                if r[0] != c["id"]:
                    print(f"  miss: {c['query']!r} -> {r} (wanted {c['id']})")
        index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
