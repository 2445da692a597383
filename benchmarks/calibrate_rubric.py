"""Calibrate the rubric on the labeled answers: point-level F1 per threshold, and the off-topic cut.

Usage: python benchmarks/calibrate_rubric.py [--deck knowledge/] [--labeled tests/data/labeled_answers.yaml]
Prints the figures that bot/core/rubric.py's THRESHOLD, OFF_TOPIC and ON_TOPIC were chosen from.
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
from bot.core.grading.guards import screen  # noqa: E402
from bot.core.grading.rubric import Rubric  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIELDS = set(Entry.model_fields)


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


def collect(rubric: Rubric, entries: dict[str, Entry], labeled: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per graded answer: its quality, labels, point similarities and relevance."""
    rows = []
    for item in labeled:
        entry = entries[item["question_id"]]
        for answer in item["answers"]:
            result = rubric.grade(entry, screen(answer["text"]).sentences)
            rows.append({"question": entry.id, "quality": answer["quality"],
                         "covered": set(answer.get("covered") or ()), "sims": [p.similarity for p in result.points],
                         "relevance": result.relevance, "score": result.score})
    return rows


def pairwise(rows: list[dict[str, Any]], better: str, worse: str) -> float:
    """Share of same-question (better, worse) pairs where the better answer scores strictly higher."""
    wins = total = 0
    for a in rows:
        for b in rows:
            if a["question"] == b["question"] and a["quality"] == better and b["quality"] == worse:
                wins, total = wins + (a["score"] > b["score"]), total + 1
    return wins / max(1, total)


def point_scores(rows: list[dict[str, Any]], threshold: float, qualities: tuple[str, ...]) -> tuple[float, float]:
    """(F1, accuracy) of 'covered' at this threshold over the answers of these qualities."""
    tp = fp = fn = tn = 0
    for row in rows:
        if row["quality"] not in qualities:
            continue
        for index, sim in enumerate(row["sims"]):
            label, guess = index in row["covered"], sim >= threshold
            tp, fp = tp + (label and guess), fp + (guess and not label)
            fn, tn = fn + (label and not guess), tn + (not label and not guess)
    total = tp + fp + fn + tn
    return (2 * tp / max(1, 2 * tp + fp + fn), (tp + tn) / max(1, total))


def main() -> None:
    """Print the calibration tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deck", type=Path, nargs="+", default=[REPO / "knowledge"])
    parser.add_argument("--labeled", type=Path, nargs="+", default=[REPO / "tests/data/labeled_answers.yaml"])
    args = parser.parse_args()
    rows = collect(Rubric(SentenceEmbedder()), load_entries(args.deck), load_labeled(args.labeled))
    calibration = ("strong", "partial")
    print(f"{len(rows)} answers; point labels of {', '.join(calibration)} answers (wrong ones in the last column)")
    print("threshold   F1     accuracy   F1 incl. wrong")
    best = (0.0, 0.0)
    for threshold in np.arange(0.38, 0.60, 0.01):
        f1, accuracy = point_scores(rows, threshold, calibration)
        f1_all, _ = point_scores(rows, threshold, (*calibration, "wrong"))
        best = max(best, (f1, round(float(threshold), 2)))
        print(f"  {threshold:.2f}     {f1:.3f}  {accuracy:.3f}      {f1_all:.3f}")
    print(f"best threshold {best[1]:.2f} (F1 {best[0]:.3f})")
    print("pairwise order of the rubric scores with the current constants:")
    for better, worse in (("strong", "partial"), ("partial", "off_topic"), ("strong", "wrong"), ("partial", "wrong")):
        print(f"  {better} > {worse}: {pairwise(rows, better, worse):.3f}")
    print("relevance by quality (min / median / max):")
    for quality in ("strong", "partial", "wrong", "off_topic"):
        values = [r["relevance"] for r in rows if r["quality"] == quality]
        if values:
            print(f"  {quality:10} {min(values):.3f} / {float(np.median(values)):.3f} / {max(values):.3f}")


if __name__ == "__main__":
    main()
