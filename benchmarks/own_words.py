"""Answers in a candidate's own everyday words: wrong ones caught, right ones left alone.

Usage: python -m benchmarks.own_words [--dir FOLDER] [--show] [--cache FILE]

A folder (benchmarks/data/part14/ by default) holds `own_words_wrong.yaml` (a confidently wrong answer per question
that shares no run of 30 characters with the reference: {question_id, kind, text, false_claims}),
`own_words_right.yaml` (a right one: {question_id, text}), optionally `own_words_partial.yaml` (a short right answer
covering one or two key points: {question_id, points, text}, points the 0-based indices it covers), and the part's
`subtle_errors.yaml`, whose one-line partial answers the wrong ones must score below. The subtle-error sets say
their false claims in the reference's own words; a new user says them in theirs, and that is what these figures
measure.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scoring_targets import REPO, grading_embedder  # noqa: E402
from bot.core.bank import load_bank  # noqa: E402
from bot.core.grading.grader import Grader  # noqa: E402

PART = REPO / "benchmarks" / "data" / "part14"


def _items(path: Path) -> list[dict[str, Any]]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8")) or []) if path.exists() else []


def run(grader: Grader, folder: Path, show: bool = False) -> dict[str, Any]:
    """The figures of one folder."""
    deck = load_bank(REPO / "knowledge")
    partial = {item["question_id"]: next(a["text"] for a in item["answers"] if a["quality"] == "partial")
               for item in _items(folder / "subtle_errors.yaml") if item["question_id"] in deck.entries}
    wrong = [w for w in _items(folder / "own_words_wrong.yaml") if w["question_id"] in deck.entries]
    right = [r for r in _items(folder / "own_words_right.yaml") if r["question_id"] in deck.entries]
    caught, low, below = 0, 0, 0
    by_kind: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for item in wrong:
        entry = deck.get(item["question_id"])
        grade = grader.rubric_grade(entry, item["text"])
        hit = bool(grade.contradictions)
        caught += hit
        low += grade.score <= 30
        below += item["question_id"] in partial and grade.score < grader.rubric_grade(entry,
                                                                                      partial[item["question_id"]]).score
        by_kind[item.get("kind", "")][0] += hit
        by_kind[item.get("kind", "")][1] += 1
        if show and not hit:
            print(f"  missed {entry.id} [{item.get('kind')}] {grade.score}: {item['false_claims'][0][:100]}")
    flagged, scores = 0, []
    for item in right:
        grade = grader.rubric_grade(deck.get(item["question_id"]), item["text"])
        flagged += bool(grade.contradictions)
        scores.append(grade.score)
        if grade.contradictions:
            print(f"  flagged right {item['question_id']}: {[(c.kind, c.quote) for c in grade.contradictions]}")
    partials = [p for p in _items(folder / "own_words_partial.yaml") if p["question_id"] in deck.entries]
    part_scores, hits, said, extra, unsaid, part_flagged = [], 0, 0, 0, 0, 0
    for item in partials:
        grade = grader.rubric_grade(deck.get(item["question_id"]), item["text"])
        part_scores.append(grade.score)
        part_flagged += bool(grade.contradictions)
        covered = {i for i, p in enumerate(grade.result.points if grade.result else ()) if p.covered}
        wanted = set(item["points"])
        hits += len(covered & wanted)
        said += len(wanted)
        extra += len(covered - wanted)
        unsaid += len(deck.get(item["question_id"]).points) - len(wanted)
        if show and wanted - covered:
            print(f"  partial {item['question_id']} {grade.score}: not credited {sorted(wanted - covered)}")
    return {"wrong": len(wrong), "caught": caught, "wrong_le_30": low, "wrong_below_partial": below,
            "partial": len(partials), "partial_flagged": part_flagged,
            "partial_mean": round(statistics.mean(part_scores), 1) if part_scores else None,
            "partial_in_band": sum(25 <= s <= 60 for s in part_scores),
            "partial_points_credited": f"{hits}/{said}", "other_points_credited": f"{extra}/{unsaid}",
            "with_partial": sum(1 for w in wrong if w["question_id"] in partial),
            "by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items())},
            "right": len(right), "right_flagged": flagged,
            "right_mean": round(statistics.mean(scores), 1) if scores else None,
            "right_below_60": sum(1 for s in scores if s < 60)}


def main(argv: Iterable[str] | None = None) -> int:
    """Grade and print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", type=Path, default=PART, help="the folder of the own-words files")
    parser.add_argument("--show", action="store_true", help="also list every missed wrong answer")
    parser.add_argument("--cache", type=Path, default=None, help="keep the grader's vectors in this pickle")
    args = parser.parse_args(list(argv) if argv is not None else None)
    embedder = grading_embedder(args.cache)
    figures = run(Grader(embedder), args.dir, args.show)
    embedder.save()
    n = figures["wrong"]
    print(f"own-words wrong answers: caught {figures['caught']}/{n}, scored <= 30 {figures['wrong_le_30']}/{n}, "
          f"below the partial answer {figures['wrong_below_partial']}/{figures['with_partial']}")
    print(f"  by kind: {figures['by_kind']}")
    print(f"own-words right answers: flagged {figures['right_flagged']}/{figures['right']}, mean score "
          f"{figures['right_mean']}, below 60: {figures['right_below_60']}")
    if figures["partial"]:
        print(f"own-words partial answers: flagged {figures['partial_flagged']}/{figures['partial']}, mean score "
              f"{figures['partial_mean']}, in 25-60: {figures['partial_in_band']}; the points they say marked covered "
              f"{figures['partial_points_credited']}, the others {figures['other_points_credited']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
