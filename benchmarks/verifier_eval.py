"""The local model as a claim verifier, measured against the rule checks on the labeled subtle-error sets.

Usage: python -m benchmarks.verifier_eval [--model 1.5b|0.5b] [--order fact_first|sentence_first|both]
                                          [--sets ours,part1,e3,e4] [--refs N] [--cache FILE]
Pairs: each answer sentence against its best-matched key point (plain cosine >= PAIR_FLOOR: the pairs the rubric
matched, the only ones the product would verify); positives are the wrong answers' verbatim false claims against
the point they contradict. Per set: AUC of P(opposite) (positives vs every right-answer pair), then answer level at a
threshold chosen on the OTHER sets (and the deck's reference answers) so that no right-answer pair there is
flagged: wrong answers caught, right answers flagged, against the rule checks; per-pair ms beside the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scoring_targets import DATA, REPO, grading_embedder, load_triples  # noqa: E402
from bot.core.bank import load_bank  # noqa: E402
from bot.core.grading.checks import PAIR_FLOOR  # noqa: E402
from bot.core.grading.grader import Grader  # noqa: E402

SETS = {"ours": DATA / "subtle_errors.yaml", "part1": Path("/work/evalsets/subtle_errors_heldout.yaml"),
        "e3": Path("/work/evalsets3/subtle_errors.yaml"), "e4": Path("/work/evalsets4/subtle_errors.yaml")}


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def is_claim(sentence: str, claims: Sequence[str]) -> bool:
    """Whether an answer sentence carries one of the verbatim false claims."""
    s = _norm(sentence)
    return any(c and (c in s or (len(s) > 20 and s in c)) for c in map(_norm, claims))


def labels(path: Path) -> dict[str, tuple[list[str], int | None]]:
    """question id -> (false claims, contradicted point) of the set's wrong answers."""
    out = {}
    for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        for a in item.get("answers", []):
            if a.get("quality") == "wrong":
                out[item["question_id"]] = (list(a.get("false_claims") or []), a.get("contradicts"))
    return out


def matched_pairs(grader: Grader, entry: Any, answer: str) -> tuple[list[tuple[int, str, int]], Any]:
    """(sentence index, sentence, best point) for each sentence whose best point is at least PAIR_FLOOR close."""
    grade = grader.rubric_grade(entry, answer)
    result = grade.result
    if result is None or not result.by_sentence:
        return [], grade
    out = []
    for s, sentence in enumerate(grade.sentences[: len(result.by_sentence[0])]):
        sims = [row[s] for row in result.by_sentence]
        best = max(range(len(sims)), key=sims.__getitem__)
        if sims[best] >= PAIR_FLOOR:
            out.append((s, sentence, best))
    return out, grade


def collect(grader: Grader, deck: Any, refs: int) -> list[dict[str, Any]]:
    """Every answer to verify, with its pairs and the rule checks' verdict."""
    rows: list[dict[str, Any]] = []
    for name, path in SETS.items():
        lab = labels(path) if path.exists() else {}
        for t in load_triples(path, deck, name):
            for quality in ("strong", "partial", "wrong"):
                text = getattr(t, quality)
                pairs, grade = matched_pairs(grader, t.entry, text)
                row: dict[str, Any] = {
                    "set": name, "id": t.entry.id, "quality": quality, "rules": bool(grade.contradictions),
                    "pairs": [{"sentence": s, "point": t.entry.points[p], "p": p, "pos": False} for _, s, p in pairs]}
                if quality == "wrong" and t.entry.id in lab:
                    claims, point = lab[t.entry.id]
                    for pair in row["pairs"]:
                        pair["claim"] = is_claim(pair["sentence"], claims)
                    if point is not None and 0 <= point < len(t.entry.points):
                        # the labeled positives, whether or not the rubric matched them to that point
                        row["positives"] = [{"sentence": s, "point": t.entry.points[point], "p": point, "pos": True}
                                            for s in grade.sentences if is_claim(s, claims)]
                rows.append(row)
    for entry in list(deck.entries.values())[:refs]:
        pairs, grade = matched_pairs(grader, entry, entry.answer)
        rows.append({"set": "refs", "id": entry.id, "quality": "reference", "rules": bool(grade.contradictions),
                     "pairs": [{"sentence": s, "point": entry.points[p], "p": p, "pos": False} for _, s, p in pairs]})
    return rows


def priority(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pairs in the order to judge them: the labeled sets question by question (positives, wrong, right answers),
    the reference answers, then our own set: a run cut short still has whole questions of every labeled set."""
    order = {"part1": 0, "e3": 0, "e4": 0, "refs": 1, "ours": 2}
    by_q: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        by_q.setdefault((r["set"], r["id"]), []).append(r)
    groups = sorted(by_q.items(), key=lambda kv: (order.get(kv[0][0], 3), list(by_q).index(kv[0]) % 40))
    return [p for _, rs in groups for r in rs for p in r.get("positives", []) + r["pairs"]]


def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """Probability that a positive outranks a negative."""
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--model", default="1.5b")
    ap.add_argument("--order", default="fact_first", choices=("fact_first", "sentence_first"))
    ap.add_argument("--refs", type=int, default=81)
    ap.add_argument("--sets", default="ours,part1,e3,e4")
    ap.add_argument("--cache", type=Path, default=REPO / "benchmarks" / "results" / "verifier_cache.json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget", type=float, default=3000.0, help="stop judging after this many seconds")
    args = ap.parse_args(list(argv) if argv is not None else None)
    for name in list(SETS):
        if name not in args.sets.split(","):
            SETS.pop(name)
    embedder = grading_embedder(Path("/tmp/scoring_emb_cache.pkl"))
    grader = Grader(embedder)
    rows = collect(grader, load_bank(REPO / "knowledge"), args.refs)
    embedder.save()
    cache: dict[str, float] = json.loads(args.cache.read_text()) if args.cache.exists() else {}
    key = lambda pair: f"{args.model}|{args.order}|{pair['point']}|{pair['sentence']}"  # noqa: E731
    todo = [k for k in dict.fromkeys(key(p) for p in priority(rows)) if k not in cache]
    print(f"{len(todo)} pairs to judge", flush=True)
    spent = 0.0
    if todo and args.budget > 0:
        from benchmarks.verifier_model import LlamaVerifier
        from bot.config import Settings
        from bot.core.llm.modelfile import resolve_model_path

        settings = Settings(COACH_MODEL=args.model)  # type: ignore[call-arg]
        verifier = LlamaVerifier(resolve_model_path(settings), n_threads=args.threads, order=args.order)
        verifier.prewarm()
        start = time.perf_counter()
        for i, k in enumerate(todo):
            if time.perf_counter() - start > args.budget:
                todo = todo[:i]
                break
            _, _, point, sentence = k.split("|", 3)
            t0 = time.perf_counter()
            cache[k] = verifier.judge([(sentence, point)])[0].opposite
            spent += time.perf_counter() - t0
            if i % 50 == 49:
                args.cache.write_text(json.dumps(cache))
                print(f"  {i + 1}/{len(todo)} {1000 * spent / (i + 1):.0f} ms/pair load {os.getloadavg()[0]:.1f}",
                      flush=True)
        args.cache.write_text(json.dumps(cache))
        print(f"per pair {1000 * spent / max(1, len(todo)):.0f} ms over {len(todo)} (load average "
              f"{os.getloadavg()[0]:.1f})")
    done = [r for r in rows if all(key(p) in cache for p in r["pairs"] + r.get("positives", []))]
    print(f"{len(done)} of {len(rows)} answers fully judged")
    report(done, lambda pair: cache[key(pair)])
    return 0


def report(rows: list[dict[str, Any]], p_opp: Any) -> None:
    """AUC per set; answer-level figures at a threshold chosen on the other sets."""
    names = sorted({r["set"] for r in rows} - {"refs"})
    right = [r for r in rows if r["quality"] != "wrong"]
    print(f"{'set':6} {'AUC':>5} {'thr':>6} {'wrong caught: rules/verif/union':>32} {'right flagged: rules/verif':>27}")
    for name in [*names, "all"]:
        here = [r for r in rows if r["set"] == name] if name != "all" else [r for r in rows if r["set"] != "refs"]
        others = [r for r in right if r["set"] not in (name, )] if name != "all" else right
        thr = max((p_opp(p) for r in others for p in r["pairs"]), default=1.0)
        pos = [p_opp(p) for r in here for p in r.get("positives", [])]
        neg = [p_opp(p) for r in here if r["quality"] != "wrong" for p in r["pairs"]]
        wrong = [r for r in here if r["quality"] == "wrong"]
        good = [r for r in here if r["quality"] in ("strong", "partial")]
        caught = [any(p_opp(p) > thr for p in r["pairs"]) for r in wrong]
        on_claim = [any(p_opp(p) > thr and p.get("claim") for p in r["pairs"]) for r in wrong]
        flagged = sum(any(p_opp(p) > thr for p in r["pairs"]) for r in good)
        print(f"{name:6} {auc(pos, neg):5.3f} {thr:6.4f} "
              f"{sum(r['rules'] for r in wrong):>10}/{sum(caught)} ({sum(on_claim)} on a claim)/"
              f"{sum(r['rules'] or c for r, c in zip(wrong, caught, strict=True))} of {len(wrong):<3} "
              f"{sum(r['rules'] for r in good):>12}/{flagged} of {len(good)}"
              f"   pos {len(pos)} neg {len(neg)}")
    counts = sorted(len(r["pairs"]) for r in rows)
    print(f"matched pairs per answer: p50 {counts[len(counts) // 2]}, max {counts[-1]} (answer -> score adds p50 x "
          "the per-pair time)")
    negs = sorted(((p_opp(p), p["sentence"][:70], r["id"]) for r in right for p in r["pairs"]), reverse=True)[:5]
    print("highest right-answer pairs:", *(f"  {v:.3f} {s} [{i}]" for v, s, i in negs), sep="\n")


if __name__ == "__main__":
    raise SystemExit(main())
