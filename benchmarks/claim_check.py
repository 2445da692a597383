"""The claim check's precision and reach: right answers it flags, wrong answers it catches, set by set.

Usage: python -m benchmarks.claim_check [--dir FOLDER ...] [--show] [--cache FILE] [--references]

Sets: our subtle errors, the first held-out part, the labeled and contradiction answers, their user decks, the
development parts 10 to 22 (benchmarks/data/), the 243 right answers of benchmarks/data/right_answers.yaml (every deck
entry answered three ways, none contradicting the reference), and every --dir folder in the held-out format. For each:
right answers flagged, wrong answers caught, wrong below partial; then the flags on right answers by kind and every
right answer flagged, quoted. With --references, also every sentence of the deck's references graded alone, and
reordered without changing its claim (an opening phrase moved to the end, a list of three said backwards), and the
deck's longer lists said in other orders (benchmarks/data/list_reorders.yaml: reversed, rotated, an "etc." dropped),
and 243 reference sentences lightly reworded by a helper that never saw the grader (benchmarks/data/rewordings.yaml:
a synonym, an abbreviation or its expansion, a number written another way).
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scoring_targets import (  # noqa: E402
    DATA,
    HELDOUT,
    REPO,
    Triple,
    _named,
    contradiction_triples,
    grading_embedder,
    labeled_triples,
    load_triples,
    user_deck_sets,
)
from bot.core.bank import Bank, Entry, load_bank  # noqa: E402
from bot.core.grading.grader import Grader  # noqa: E402
from bot.core.text import split_sentences  # noqa: E402

DEV = REPO / "benchmarks" / "data"

# An opening phrase before the first comma, and the words that join a sentence to the one before (not moved).
_LEAD = re.compile(r"^(?P<lead>[^,]{8,60}), (?P<rest>.+?)(?P<end>[.!?])$")
_JOINER = re.compile(r"^(?:However|Also|Thus|So|And|But|Or|Yet|Finally|First|Then|Additionally|Furthermore|Moreover|"
                     r"Which|While|Whereas|Because|Although)\b", re.IGNORECASE)
# A list of three items of one or two words each: "images, audio, and text".
_WORD = r"(?!(?:and|like|have|has|are|is|into|or|the|such|as|including)\b)[A-Za-z][\w-]*"
_ITEM = rf"{_WORD}(?: {_WORD})?"
_LIST = re.compile(rf"(?:(?<=[:,] )|(?<=like )|(?<=as )|(?<=the ))({_ITEM}), ({_ITEM}),? and ({_ITEM})(?=[ .,;)])")


def right_answers(path: Path, deck: Bank) -> list[tuple[Entry, str, str]]:
    """(entry, style, text) of every right answer of a right-answers file."""
    out = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        if item["question_id"] in deck.entries:
            out += [(deck.get(item["question_id"]), a.get("style", a["quality"]), a["text"]) for a in item["answers"]]
    return out


def part_sets(name: str, folder: Path, deck: Bank) -> dict[str, list[Triple]]:
    """A held-out-format folder's subtle-error triples and its user deck's, by set name."""
    sets = {name: load_triples(_named(folder, "subtle_errors"), deck, name)}
    answers = _named(folder, "user_deck_answers")
    if answers.exists():
        sets[f"{name}-user"] = user_deck_sets(_named(folder, "user_deck", ""), answers)[1]
    return sets


def measure(grader: Grader, sets: dict[str, list[Triple]], rights: list[tuple[Entry, str, str]],
            show: bool) -> dict[str, Any]:
    """Flags on right answers and catches on wrong ones, per set."""
    rows: dict[str, dict[str, int]] = {}
    by_kind: collections.Counter[str] = collections.Counter()
    flagged: list[dict[str, Any]] = []

    def right(set_name: str, entry: Entry, label: str, text: str) -> None:
        grade = grader.rubric_grade(entry, text)
        rows[set_name]["right"] += 1
        if grade.contradictions:
            rows[set_name]["right_flagged"] += 1
            by_kind.update(c.kind for c in grade.contradictions)
            flagged.append({"set": set_name, "id": entry.id, "answer": label, "score": grade.score,
                            "flags": [(c.kind, c.quote) for c in grade.contradictions]})

    for name, triples in sets.items():
        rows[name] = collections.Counter()
        for t in triples:
            right(name, t.entry, "strong", t.strong)
            right(name, t.entry, "partial", t.partial)
            wrong, partial = grader.rubric_grade(t.entry, t.wrong), grader.rubric_grade(t.entry, t.partial).score
            rows[name]["wrong"] += 1
            rows[name]["caught"] += bool(wrong.contradictions)
            rows[name]["below_partial"] += wrong.score < partial
            if show and not wrong.contradictions:
                print(f"  missed {name} {t.entry.id} {t.kind}: wrong {wrong.score}, partial {partial}")
    rows["right-answers"] = collections.Counter()
    for entry, style, text in rights:
        right("right-answers", entry, style, text)
    return {"sets": {k: dict(v) for k, v in rows.items()}, "right_flags_by_kind": dict(by_kind), "flagged": flagged}


def reference_sentences(deck: Bank) -> list[tuple[Entry, str]]:
    """Every sentence of every reference answer, with its entry."""
    return [(e, s) for e in deck.entries.values() for s in split_sentences(e.answer)]


def reordered(deck: Bank) -> list[tuple[Entry, str]]:
    """Reference sentences said in another order that keeps their claim: an opening phrase moved to the end ("In
    neural networks, X." as "X in neural networks."), a list of three said backwards."""
    out = []
    for entry, sentence in reference_sentences(deck):
        lead = _LEAD.match(sentence)
        # a clause joined on ("..., but it squashes") or a list cut at its first comma ("like mean, median") is
        # no opening phrase
        if lead and not _JOINER.match(lead["lead"]) and not _JOINER.match(lead["rest"]) and \
                not re.search(r"\b(?:like|such as|including|between)\b", lead["lead"]):
            rest, opening = lead["rest"], lead["lead"]
            out.append((entry, f"{rest[0].upper()}{rest[1:]} {opening[0].lower()}{opening[1:]}{lead['end']}"))
        listed = _LIST.search(sentence)
        if listed:
            a, b, c = listed.groups()
            out.append((entry, f"{sentence[:listed.start()]}{c}, {b} and {a}{sentence[listed.end():]}"))
    return out


def list_reorders(path: Path, deck: Bank) -> list[tuple[Entry, str]]:
    """Reference sentences whose list is said in another order, read by hand to keep their claim."""
    return [(deck.entries[row["id"]], row["answer"]) for row in yaml.safe_load(path.read_text(encoding="utf-8"))]


def rewordings(path: Path, deck: Bank) -> list[tuple[Entry, str]]:
    """Reference sentences with a word or two said another way that keeps their claim."""
    return [(deck.entries[row["question_id"]], row["text"]) for row in yaml.safe_load(path.read_text(encoding="utf-8"))]


def main(argv: Iterable[str] | None = None) -> int:
    """Grade every set and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--dir", type=Path, action="append", default=[], help="another held-out-format folder")
    parser.add_argument("--show", action="store_true", help="also list the wrong answers not caught")
    parser.add_argument("--cache", type=Path, default=None, help="keep embeddings in this pickle between runs")
    parser.add_argument("--references", action="store_true",
                        help="also grade each reference sentence alone, and reordered without changing its claim")
    args = parser.parse_args(list(argv) if argv is not None else None)
    embedder = grading_embedder(args.cache)
    deck = load_bank(REPO / "knowledge")
    sets: dict[str, list[Triple]] = {
        "ours": load_triples(DATA / "subtle_errors.yaml", deck, "ours"),
        "labeled": labeled_triples(deck) + contradiction_triples(deck),
        "ours-user": user_deck_sets(DATA / "user_deck", DATA / "user_deck_answers.yaml")[1],
    }
    sets |= part_sets("part1", HELDOUT, deck) | part_sets("part10", DEV / "part10", deck) \
        | part_sets("part11", DEV / "part11", deck) | part_sets("part12", DEV / "part12", deck) \
        | part_sets("part13", DEV / "part13", deck) | part_sets("part14", DEV / "part14", deck) \
        | part_sets("part15", DEV / "part15", deck) | part_sets("part16", DEV / "part16", deck) \
        | part_sets("part17", DEV / "part17", deck) | part_sets("part18", DEV / "part18", deck) \
        | part_sets("part19", DEV / "part19", deck) | part_sets("part20", DEV / "part20", deck) \
        | part_sets("part21", DEV / "part21", deck) | part_sets("part22", DEV / "part22", deck)
    for folder in args.dir:
        sets |= part_sets(folder.name, folder, deck)
    result = measure(Grader(embedder), sets, right_answers(DEV / "right_answers.yaml", deck), args.show)
    embedder.save()
    for name, row in result["sets"].items():
        line = f"{name:16} right answers flagged {row.get('right_flagged', 0)}/{row.get('right', 0)}"
        if row.get("wrong"):
            line += (f"   wrong caught {row.get('caught', 0)}/{row['wrong']}"
                     f"   wrong < partial {row.get('below_partial', 0)}/{row['wrong']}")
        print(line)
    print("flags on right answers by kind:", result["right_flags_by_kind"])
    for f in result["flagged"]:
        print(f"  flagged {f['set']} {f['id']} ({f['answer']}, {f['score']}): {f['flags']}")
    if args.references:
        grader = Grader(embedder)
        for name, pairs in (("alone", reference_sentences(deck)), ("reordered", reordered(deck)),
                            ("lists", list_reorders(DEV / "list_reorders.yaml", deck)),
                            ("reworded", rewordings(DEV / "rewordings.yaml", deck))):
            hits = [(e.id, text) for e, text in pairs if grader.rubric_grade(e, text).contradictions]
            print(f"reference sentences {name:9} flagged {len(hits)}/{len(pairs)}")
            for entry_id, text in hits:
                print(f"  flagged {entry_id}: {text}")
        embedder.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
