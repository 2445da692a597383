"""The trained pair classifier (benchmarks/pair_train.py) measured as the verifier was (benchmarks/verifier_eval.py).

Usage: python -m benchmarks.pair_eval [--model DIR] [--rows FILE] [--threads N]
Same pairs, labels and leave-one-set-out thresholds as verifier_eval: per dev set the AUC of P(opposite) (the labeled
false claims against every matched pair of the strong and partial answers), then at a threshold chosen so that no
right-answer pair of the OTHER labeled sets is flagged: wrong answers caught (alone and with the rules), right answers
flagged, and the deck's 81 reference answers flagged; a second threshold also keeps every reference pair unflagged.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scoring_targets import REPO, grading_embedder  # noqa: E402
from benchmarks.verifier_eval import auc, collect  # noqa: E402
from bot.core.bank import load_bank  # noqa: E402
from bot.core.grading.grader import Grader  # noqa: E402

MODEL_DIR = REPO / "models" / "pair-classifier"   # ignored by git (/models/)
MAX_LENGTH = 80   # word pieces of point + sentence: a matched answer sentence rarely runs longer
ROWS = Path("/tmp/pair_eval_rows.json")


def rows(path: Path) -> list[dict[str, Any]]:
    """The matched pairs of every labeled answer and deck reference (cached: the rubric's matching is fixed)."""
    if path.exists():
        return list(json.loads(path.read_text()))
    embedder = grading_embedder(Path("/tmp/scoring_emb_cache.pkl"))
    out = collect(Grader(embedder), load_bank(REPO / "knowledge"), 81)
    embedder.save()
    path.write_text(json.dumps(out))
    return out


def score_pairs(model_dir: Path, pairs: Sequence[tuple[str, str]], threads: int) -> tuple[list[float], float]:
    """P(opposite) for each (point, sentence) pair, and the per-pair milliseconds (batched by answer-sized groups)."""
    import torch
    from sentence_transformers import CrossEncoder

    torch.set_num_threads(threads)
    model = CrossEncoder(str(model_dir), device="cpu", max_length=MAX_LENGTH)
    start = time.perf_counter()
    out: list[float] = []
    for i in range(0, len(pairs), 4):   # about an answer's matched pairs: the product scores one answer at a time
        out += [float(x) for x in model.predict(list(pairs[i:i + 4]), show_progress_bar=False)]
    return out, 1000 * (time.perf_counter() - start) / max(1, len(pairs))


def threshold(right: list[dict[str, Any]], p_opp: Callable[[dict[str, Any]], float]) -> float:
    """The highest P(opposite) of any right-answer pair: above it nothing of those answers is flagged."""
    return max((p_opp(p) for r in right for p in r["pairs"]), default=1.0)


def report(rows: list[dict[str, Any]], p_opp: Callable[[dict[str, Any]], float]) -> dict[str, Any]:
    """Per set: AUC, the leave-one-set-out threshold, wrong caught (rules / model / either), right and refs flagged."""
    names = sorted({r["set"] for r in rows} - {"refs"})
    refs = [r for r in rows if r["set"] == "refs"]
    right = [r for r in rows if r["quality"] in ("strong", "partial")]
    out: dict[str, Any] = {}
    print(f"{'set':6} {'AUC':>5}  {'thr (others) -> wrong rules/model/either, right flagged, refs flagged':70}"
          "  thr (others+refs) -> same")
    for name in [*names, "all"]:
        here = [r for r in rows if r["set"] == name or (name == "all" and r["set"] != "refs")]
        others = [r for r in right if r["set"] != name] if name != "all" else right
        pos = [p_opp(p) for r in here for p in r.get("positives", [])]
        neg = [p_opp(p) for r in here if r["quality"] != "wrong" for p in r["pairs"]]
        wrong = [r for r in here if r["quality"] == "wrong"]
        good = [r for r in here if r["quality"] in ("strong", "partial")]
        line = f"{name:6} {auc(pos, neg):5.3f}"
        out[name] = {"auc": auc(pos, neg), "pos": len(pos), "neg": len(neg)}
        for tag, thr in (("others", threshold(others, p_opp)), ("others+refs", threshold(others + refs, p_opp))):
            hit = lambda r: any(p_opp(p) > thr for p in r["pairs"])  # noqa: B023,E731
            caught = [hit(r) for r in wrong]
            fig = {"thr": thr, "wrong": len(wrong), "rules": sum(r["rules"] for r in wrong), "model": sum(caught),
                   "either": sum(r["rules"] or c for r, c in zip(wrong, caught, strict=True)),
                   "right": len(good), "right_flagged": sum(map(hit, good)), "refs_flagged": sum(map(hit, refs))}
            out[name][tag] = fig
            line += (f"  {thr:.4f} -> {fig['rules']}/{fig['model']}/{fig['either']} of {fig['wrong']}, "
                     f"{fig['right_flagged']} of {fig['right']}, {fig['refs_flagged']} of {len(refs)}")
        print(line)
    negs = sorted(((p_opp(p), p["sentence"][:70], r["id"]) for r in right + refs for p in r["pairs"]), reverse=True)
    print("highest right-answer pairs:", *(f"  {v:.3f} {s} [{i}]" for v, s, i in negs[:5]), sep="\n")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Score every pair with the trained classifier and print the figures."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--model", type=Path, default=MODEL_DIR)
    ap.add_argument("--rows", type=Path, default=ROWS)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    args = ap.parse_args(list(argv) if argv is not None else None)
    data = rows(args.rows)
    pairs = list(dict.fromkeys((p["point"], p["sentence"]) for r in data for p in r["pairs"] + r.get("positives", [])))
    scores, ms = score_pairs(args.model, pairs, args.threads)
    table = dict(zip(pairs, scores, strict=True))
    counts = sorted(len(r["pairs"]) for r in data)
    print(f"{len(pairs)} pairs, {ms:.1f} ms per pair ({args.threads} thread(s), load average "
          f"{os.getloadavg()[0]:.1f}); matched pairs per answer p50 {counts[len(counts) // 2]}, max {counts[-1]}")
    figures = report(data, lambda p: table[(p["point"], p["sentence"])])
    if args.out:
        args.out.write_text(json.dumps({"ms_per_pair": ms, "sets": figures}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
