"""The scale's targets on our own sets: deck sanity, calibration, subtle errors, labeled order, user decks.

Usage: python -m benchmarks.scoring_targets [--heldout [--dir FOLDER]] [--json FILE] [--show]
Rubric-only, the product's path (Grader.rubric_grade). Prints every figure of issue 14 that does not need UNT:
  sanity        every deck entry: its reference answer >= 90 and never flagged; the question echoed back <= 15;
                a one-word answer naming the topic <= 15 (the same on the user deck without key points)
  calibration   strong answers average >= 80; one-line partial answers average 25-60; confidently wrong answers
                <= 30 in >= 80 % of questions
  subtle        wrong < partial in >= 85 % of questions, wrong < strong in all; strong or partial flagged <= 2 %
  labeled       pairwise order of tests/data/labeled_answers.yaml >= 0.95
With --heldout the same figures on tests/data/heldout/ (the second part, looked at once).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.core.bank import Bank, Entry, load_bank  # noqa: E402
from bot.core.grading.grader import Grade, Grader  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
HELDOUT = DATA / "heldout"


@dataclass(frozen=True)
class Triple:
    """One question's strong, one-line partial and confidently wrong answers."""

    entry: Entry
    strong: str
    partial: str
    wrong: str
    kind: str = ""
    source: str = ""


def topic_word(entry: Entry) -> list[str]:
    """One-word (or one-term) answers that name the topic: the entry's topic tags, the question's terms and nouns."""
    from bot.core.grading.parse import question_terms

    return list(dict.fromkeys([*(t.replace("-", " ") for t in entry.topics), *question_terms(entry.question)]))


def sanity(grader: Grader, bank: Bank) -> dict[str, Any]:
    """Reference answer, echoed question and one-word topic answer of every entry."""
    rows: list[dict[str, Any]] = []
    for entry in bank.entries.values():
        ref = grader.rubric_grade(entry, entry.answer)
        echo = grader.rubric_grade(entry, entry.question)
        words = {w: grader.rubric_grade(entry, w.capitalize() + ".").score for w in topic_word(entry)}
        rows.append({"id": entry.id, "reference": ref.score, "flagged": [c.quote for c in ref.contradictions],
                     "echo": echo.score, "one_word": words})
    worst_word = [max(r["one_word"].values()) for r in rows]
    return {"entries": len(rows),
            "reference_min": min(r["reference"] for r in rows),
            "reference_below_90": [(r["id"], r["reference"]) for r in rows if r["reference"] < 90],
            "reference_flagged": [(r["id"], r["flagged"]) for r in rows if r["flagged"]],
            "echo_max": max(r["echo"] for r in rows),
            "echo_above_15": [(r["id"], r["echo"]) for r in rows if r["echo"] > 15],
            "one_word_max": max(worst_word),
            "one_word_above_15": [(r["id"], r["one_word"]) for r in rows if max(r["one_word"].values()) > 15],
            "ok": all(r["reference"] >= 90 and not r["flagged"] and r["echo"] <= 15 for r in rows)
            and max(worst_word) <= 15}


def graded_triples(grader: Grader, triples: Sequence[Triple]) -> list[dict[str, Any]]:
    """Each triple graded: scores and contradiction flags."""
    out = []
    for t in triples:
        grades: dict[str, Grade] = {k: grader.rubric_grade(t.entry, getattr(t, k))
                                    for k in ("strong", "partial", "wrong")}
        out.append({"id": t.entry.id, "kind": t.kind, "source": t.source,
                    **{k: g.score for k, g in grades.items()},
                    **{f"{k}_flags": [c.quote for c in g.contradictions] for k, g in grades.items()}})
    return out


def triple_figures(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Calibration and order figures of graded triples."""
    n = len(rows)
    if not n:
        return {"n": 0}
    flagged = sum(bool(r["strong_flags"]) + bool(r["partial_flags"]) for r in rows)
    kinds: dict[str, list[int]] = {}
    for r in rows:
        kinds.setdefault(r["kind"] or "-", []).append(int(r["wrong"] < r["partial"]))
    return {"n": n,
            "strong_mean": round(statistics.mean(r["strong"] for r in rows), 1),
            "partial_mean": round(statistics.mean(r["partial"] for r in rows), 1),
            "wrong_mean": round(statistics.mean(r["wrong"] for r in rows), 1),
            "wrong_at_most_30": round(sum(r["wrong"] <= 30 for r in rows) / n, 3),
            "wrong_below_partial": round(sum(r["wrong"] < r["partial"] for r in rows) / n, 3),
            "wrong_below_strong": round(sum(r["wrong"] < r["strong"] for r in rows) / n, 3),
            "partial_below_strong": round(sum(r["partial"] < r["strong"] for r in rows) / n, 3),
            "wrong_flagged": round(sum(bool(r["wrong_flags"]) for r in rows) / n, 3),
            "strong_or_partial_flagged": round(flagged / (2 * n), 3),
            "wrong_below_partial_by_kind": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(kinds.items())}}


def load_triples(path: Path, bank: Bank, source: str) -> list[Triple]:
    """Triples from a YAML list of {question_id, strong, partial, wrong, kind}, or of {question_id, answers:
    [{quality, text, kind}]} (the held-out sets' format)."""
    if not path.exists():
        return []
    out = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        if item["question_id"] not in bank.entries:
            continue
        if "answers" in item:
            by = {a["quality"]: a for a in item["answers"]}
            item = {"strong": by["strong"]["text"], "partial": by["partial"]["text"], "wrong": by["wrong"]["text"],
                    "kind": by["wrong"].get("kind", "")} | {"question_id": item["question_id"]}
        out.append(Triple(bank.get(item["question_id"]), item["strong"], item["partial"], item["wrong"],
                          item.get("kind", ""), source))
    return out


def given_sanity(grader: Grader, bank: Bank, path: Path) -> dict[str, Any]:
    """The echo and one-word answers a held-out set gives per question (besides our own)."""
    rows: list[dict[str, Any]] = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        entry = bank.get(item["question_id"])
        if "answers" in item:   # the later parts' format: [{quality, text}]
            item = item | {a["quality"]: a["text"] for a in item["answers"]}
        rows.append({"id": entry.id, "echo": grader.rubric_grade(entry, item["echo"]).score,
                     "one_word": grader.rubric_grade(entry, item["one_word"]).score})
    return {"n": len(rows), "echo_max": max(r["echo"] for r in rows), "one_word_max": max(r["one_word"] for r in rows),
            "above_15": [r for r in rows if max(r["echo"], r["one_word"]) > 15]}


def labeled_triples(bank: Bank) -> list[Triple]:
    """labeled_answers.yaml as triples (the first partial answer of each question is its one-line one, if any)."""
    out = []
    for item in yaml.safe_load((DATA / "labeled_answers.yaml").read_text(encoding="utf-8")):
        by: dict[str, list[str]] = {}
        for a in item["answers"]:
            by.setdefault(a["quality"], []).append(a["text"])
        partial = min(by["partial"], key=len)
        out.append(Triple(bank.get(item["question_id"]), by["strong"][0], partial, by["wrong"][0], "", "labeled"))
    return out


def contradiction_triples(bank: Bank) -> list[Triple]:
    """contradiction_answers.yaml as triples."""
    return load_triples(DATA / "contradiction_answers.yaml", bank, "contradiction_answers")


def pairwise_labeled(grader: Grader, bank: Bank) -> dict[str, float]:
    """Pairwise order of the labeled answers' qualities, as tests/test_grading_labeled.py measures it."""
    scores: dict[str, dict[str, list[int]]] = {}
    for item in yaml.safe_load((DATA / "labeled_answers.yaml").read_text(encoding="utf-8")):
        entry = bank.get(item["question_id"])
        for a in item["answers"]:
            scores.setdefault(entry.id, {}).setdefault(a["quality"], []).append(grader.rubric_grade(entry,
                                                                                                    a["text"]).score)
    out = {}
    for better, worse in (("strong", "partial"), ("partial", "off_topic"), ("strong", "off_topic"),
                          ("strong", "wrong"), ("partial", "wrong")):
        wins = total = 0
        for by in scores.values():
            for a in by.get(better, []):
                for b in by.get(worse, []):
                    wins, total = wins + (a > b), total + 1
        out[f"{better}>{worse}"] = round(wins / max(1, total), 3)
    off = [s for by in scores.values() for s in by.get("off_topic", [])]
    out["off_topic_max"] = max(off) if off else 0
    return out


def user_deck_sets(folder: Path, answers: Path) -> tuple[Bank | None, list[Triple]]:
    """A user deck without key points and its answers."""
    if not folder.exists():
        return None, []
    bank = load_bank(folder)
    return bank, load_triples(answers, bank, folder.name)


def _named(folder: Path, name: str, ext: str = ".yaml") -> Path:
    """A held-out set's file: `name_heldout.yaml` (the first part's names) or `name.yaml` (later parts')."""
    suffixed = folder / f"{name}_heldout{ext}"
    return suffixed if suffixed.exists() else folder / f"{name}{ext}"


def run(grader: Grader, heldout: bool = False, folder: Path = HELDOUT) -> dict[str, Any]:
    """Every figure, on our own sets (or on a held-out part: tests/data/heldout/ unless another folder is given)."""
    deck = load_bank(REPO / "knowledge")
    result: dict[str, Any] = {}
    if heldout:
        subtle = load_triples(_named(folder, "subtle_errors"), deck, "subtle_heldout")
        user_bank, user = user_deck_sets(_named(folder, "user_deck", ""), _named(folder, "user_deck_answers"))
        rows = graded_triples(grader, subtle)
        result["subtle"] = triple_figures(rows)
        result["rows"] = rows
    else:
        subtle = load_triples(DATA / "subtle_errors.yaml", deck, "subtle")
        user_bank, user = user_deck_sets(DATA / "user_deck", DATA / "user_deck_answers.yaml")
        result["sanity_deck"] = sanity(grader, deck)
        result["labeled"] = pairwise_labeled(grader, deck)
        rows = graded_triples(grader, subtle)
        result["subtle"] = triple_figures(rows)
        rows_all = rows + graded_triples(grader, labeled_triples(deck) + contradiction_triples(deck))
        result["calibration_deck"] = triple_figures(rows_all)
        result["rows"] = rows_all
    if user_bank is not None:
        result["sanity_user_deck"] = sanity(grader, user_bank)
        if heldout:
            result["given_echo_one_word"] = given_sanity(grader, user_bank, _named(folder, "user_deck_answers"))
        user_rows = graded_triples(grader, user)
        result["user_deck"] = triple_figures(user_rows)
        result["user_rows"] = user_rows
    return result


def _print(result: dict[str, Any], show: bool) -> None:
    """Figures as text."""
    for key, value in result.items():
        if key.endswith("rows"):
            if show:
                for r in value:
                    print(f"  {r['id'][:34]:34} {r['kind'][:6]:6} S {r['strong']:3} P {r['partial']:3} "
                          f"W {r['wrong']:3}  flags S{len(r['strong_flags'])} P{len(r['partial_flags'])} "
                          f"W{len(r['wrong_flags'])} {r['partial_flags'] or r['strong_flags'] or ''}")
            continue
        print(f"{key}: {json.dumps(value, ensure_ascii=False)}")


class DiskCachedEmbedder:
    """An embedder whose vectors are kept in a pickle between runs (for iterating on the scoring; same vectors)."""

    def __init__(self, inner: Any, path: Path | None) -> None:
        import pickle

        self.inner, self.path, self.name, self.dim = inner, path, inner.name, inner.dim
        self.vectors: dict[str | tuple[str, str], Any] = \
            pickle.loads(path.read_bytes()) if path is not None and path.exists() else {}
        self.new = 0

    def embed(self, texts: Sequence[str]) -> Any:
        """Vectors from the cache, the missing ones embedded now."""
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.inner.embed(missing), strict=True))
            self.new += len(missing)
        return np.stack([self.vectors[t] for t in texts]) if texts else self.inner.embed([])

    def encode(self, texts: Sequence[str]) -> Any:
        """Encodings from the cache, the missing ones encoded now."""
        missing = [t for t in dict.fromkeys(texts) if ("enc", t) not in self.vectors]
        if missing:
            self.vectors.update(zip((("enc", t) for t in missing), self.inner.encode(missing), strict=True))
            self.new += len(missing)
        return [self.vectors[("enc", t)] for t in texts]

    def save(self) -> None:
        """Write the cache when anything was added."""
        import pickle

        if self.new and self.path is not None:
            self.path.write_bytes(pickle.dumps(self.vectors))


def grading_embedder(cache: Path | None) -> DiskCachedEmbedder:
    """The grader's embedder; with `cache`, its vectors are kept in that pickle between runs (call save())."""
    from bot.core.embedder import SentenceEmbedder

    return DiskCachedEmbedder(SentenceEmbedder(), cache)


def main(argv: Iterable[str] | None = None) -> int:
    """Grade and print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--heldout", action="store_true", help="the held-out second part (tests/data/heldout/)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--dir", type=Path, default=HELDOUT, help="with --heldout: the held-out part's folder")
    parser.add_argument("--show", action="store_true", help="print every graded triple")
    parser.add_argument("--cache", type=Path, default=None, help="keep embeddings in this pickle between runs")
    args = parser.parse_args(list(argv) if argv is not None else None)
    embedder = grading_embedder(args.cache)
    result = run(Grader(embedder), args.heldout, args.dir)
    embedder.save()
    _print(result, args.show)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
