"""Calibrate the rubric on our labeled answers: point-level F1 of 'covered', and the ramp of many-point rubrics.

Usage: python benchmarks/calibrate_rubric.py [--deck knowledge/] [--labeled tests/data/labeled_answers.yaml]
Prints the figures that bot/core/grading/rubric.py's COVERED_AT, THRESHOLD and BAND were chosen from (on the labeled
answers of tests/data/labeled_answers.yaml and the strong and partial answers of tests/data/subtle_errors.yaml;
THRESHOLD_FEW and BAND_FEW come from the UNT set, benchmarks/grading_validity.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.bank import Entry, load_bank  # noqa: E402
from bot.core.embedder import SentenceEmbedder  # noqa: E402
from bot.core.grading import rubric as R  # noqa: E402
from bot.core.grading.guards import screen  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIELDS = set(Entry.model_fields)
THRESHOLDS = (0.55, 0.6, 0.65, 0.7, 0.75)
BANDS = (0.15, 0.25, 0.35, 0.45)


def load_entries(paths: list[Path]) -> dict[str, Entry]:
    """Entries of a knowledge folder, deck files, or plain YAML lists of entries."""
    entries: dict[str, Entry] = {}
    for path in paths:
        if path.is_dir():
            entries.update(load_bank(path).entries)
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        items = data["questions"] if isinstance(data, dict) else data
        for item in items:
            entry = Entry.model_validate({k: v for k, v in item.items() if k in FIELDS})
            entries[entry.id] = entry
    return entries


def load_labeled(paths: list[Path]) -> list[dict[str, Any]]:
    """Every labeled question: {question_id, answers: [{quality, text, covered}]}."""
    out: list[dict[str, Any]] = []
    for path in paths:
        out.extend(yaml.safe_load(path.read_text(encoding="utf-8")))
    return out


def collect(rubric: R.Rubric, entries: dict[str, Entry], labeled: list[dict[str, Any]],
            subtle: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per graded answer: question, quality, labels and point similarities."""
    rows = []
    items = [(i["question_id"], a["quality"], a["text"], set(a.get("covered") or ())) for i in labeled
             for a in i["answers"]]
    items += [(i["question_id"], f"subtle_{q}", i[q], None) for i in subtle for q in ("strong", "partial")]
    for qid, quality, text, covered in items:
        result = rubric.grade(entries[qid], screen(text).sentences)
        rows.append({"question": qid, "quality": quality, "covered": covered,
                     "sims": np.array([p.similarity for p in result.points])})
    for entry in entries.values():
        result = rubric.grade(entry, screen(entry.answer).sentences)
        rows.append({"question": entry.id, "quality": "reference", "covered": None,
                     "sims": np.array([p.similarity for p in result.points])})
    return rows


def point_f1(rows: list[dict[str, Any]], cut: float) -> tuple[float, float]:
    """(F1, accuracy) of 'covered' at this similarity over the labeled strong and partial answers."""
    tp = fp = fn = tn = 0
    for row in rows:
        if row["quality"] not in ("strong", "partial"):
            continue
        for index, sim in enumerate(row["sims"]):
            label, guess = index in row["covered"], sim >= cut
            tp, fp = tp + (label and guess), fp + (guess and not label)
            fn, tn = fn + (label and not guess), tn + (not label and not guess)
    return 2 * tp / max(1, 2 * tp + fp + fn), (tp + tn) / max(1, tp + fp + fn + tn)


def scores(rows: list[dict[str, Any]], threshold: float, band: float) -> dict[str, list[float]]:
    """Rubric scores (no guards, no contradiction check) by quality with this ramp."""
    out: dict[str, list[float]] = {}
    for row in rows:
        value = 100 * float(np.mean([R.credit(float(s), band, threshold) for s in row["sims"]]))
        out.setdefault(row["quality"], []).append(value)
    return out


def main() -> None:
    """Print the calibration tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deck", type=Path, nargs="+", default=[REPO / "knowledge"])
    parser.add_argument("--labeled", type=Path, nargs="+", default=[REPO / "tests/data/labeled_answers.yaml"])
    parser.add_argument("--subtle", type=Path, default=REPO / "tests/data/subtle_errors.yaml")
    args = parser.parse_args()
    subtle = yaml.safe_load(args.subtle.read_text(encoding="utf-8")) if args.subtle.exists() else []
    rows = collect(R.Rubric(SentenceEmbedder()), load_entries(args.deck), load_labeled(args.labeled), subtle)
    print("covered at   F1     accuracy   (point labels of the labeled strong and partial answers)")
    best = max((point_f1(rows, c)[0], c) for c in np.arange(0.40, 0.76, 0.05))
    for cut in np.arange(0.40, 0.76, 0.05):
        f1, accuracy = point_f1(rows, cut)
        print(f"  {cut:.2f}       {f1:.3f}  {accuracy:.3f}")
    print(f"best COVERED_AT {best[1]:.2f} (F1 {best[0]:.3f}); shipped {R.COVERED_AT}")
    print("ramp of rubrics with 3+ points: mean score by quality (reference: minimum), off-topic: maximum")
    print("  threshold band  reference strong partial s_strong s_partial wrong off_topic")
    for threshold in THRESHOLDS:
        for band in BANDS:
            by = scores(rows, threshold, band)
            print(f"  {threshold:.2f}      {band:.2f}  {min(by['reference']):6.1f}   {np.mean(by['strong']):5.1f}  "
                  f"{np.mean(by['partial']):5.1f}   {np.mean(by.get('subtle_strong', [0])):5.1f}    "
                  f"{np.mean(by.get('subtle_partial', [0])):5.1f}   {np.mean(by['wrong']):5.1f}  "
                  f"{max(by['off_topic']):5.1f}")
    print(f"shipped THRESHOLD {R.THRESHOLD}, BAND {R.BAND}: the targets are reference >= 90, strong >= 80, "
          "one-line partial 25-60, off-topic <= 15")


if __name__ == "__main__":
    main()
