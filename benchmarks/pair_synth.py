"""Synthetic (key point, sentence) pairs for the pair classifier, made only from the deck's points and references.

"same" (label 0): the point itself, the reference sentence the rubric matches to it, the point with a clause dropped
or its list items / leading phrase reordered; "unrelated" (label 0): another point of the entry. "opposite" (label
1): the point or its reference sentence perturbed by code: subject and object (or two subjects) swapped, a noun chunk
replaced by one from the entry's other points, a contrast term of the deck's own vocabulary exchanged for its partner
(training/inference, encoder/decoder, ...), a number changed, a direction word reversed.
Usage: python -m benchmarks.pair_synth [--out FILE] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scoring_targets import REPO  # noqa: E402
from bot.core.bank import load_bank  # noqa: E402

# Contrast pairs; only those whose two terms both occur in the deck are used (the deck's own vocabulary).
CONTRASTS = [
    ("training", "inference"), ("train", "test"), ("encoder", "decoder"), ("generator", "discriminator"),
    ("input", "output"), ("precision", "recall"), ("bias", "variance"), ("underfitting", "overfitting"),
    ("supervised", "unsupervised"), ("exploration", "exploitation"), ("batch", "layer"), ("query", "key"),
    ("forward", "backward"), ("sigmoid", "tanh"), ("mean", "variance"), ("local", "global"), ("first", "last"),
    ("false positives", "false negatives"), ("positive", "negative"), ("validation", "training"), ("max", "average"),
    ("small", "large"), ("smaller", "larger"), ("shallow", "deep"), ("short", "long"), ("early", "later"),
    ("minority", "majority"), ("convolutional", "recurrent"), ("lstm", "gru"), ("actor", "critic"),
    ("reward", "penalty"), ("width", "depth"), ("weights", "activations"), ("features", "examples"),
    ("rows", "columns"), ("l1", "l2"), ("gradient", "weight"), ("predictions", "labels"), ("image", "text"),
]
DIRECTIONS = [
    ("increase", "decrease"), ("increases", "decreases"), ("increasing", "decreasing"), ("higher", "lower"),
    ("more", "less"), ("faster", "slower"), ("before", "after"), ("reduces", "increases"), ("reduce", "increase"),
    ("improves", "hurts"), ("prevents", "causes"), ("easier", "harder"), ("better", "worse"), ("add", "remove"),
    ("adds", "removes"), ("grow", "shrink"), ("speeds up", "slows down"), ("helps", "hurts"), ("above", "below"),
    ("high", "low"), ("many", "few"), ("larger", "smaller"), ("always", "never"), ("all", "none of the"),
]
MAX_OPPOSITE = 8   # per point: keeps "opposite" near the count of "same" and "unrelated" together
NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
STOP = frozenset(["a", "an", "the", "of", "to", "in", "on", "and", "or", "is", "are", "be", "by", "for", "with",
                  "from", "that", "this", "it", "its", "as", "at", "can"])
SUBJ, OBJ = {"nsubj", "nsubjpass"}, {"dobj", "pobj", "attr", "dative", "oprd"}


def _swap_terms(text: str, a: str, b: str) -> str:
    """Exchange every whole-word a with b and b with a, keeping a capital first letter."""
    def repl(m: re.Match[str]) -> str:
        word = m.group(0)
        other = b if word.lower() == a else a
        return other[0].upper() + other[1:] if word[0].isupper() else other
    return re.sub(rf"\b({re.escape(a)}|{re.escape(b)})\b", repl, text, flags=re.IGNORECASE)


def _chunks(doc: Any) -> list[Any]:
    return [c for c in doc.noun_chunks if c.root.pos_ != "PRON" and len(c.text) > 2]


def _replace_span(doc: Any, spans: Sequence[tuple[Any, str]]) -> str:
    """The doc's text with each (span, new text) substituted (spans must not overlap)."""
    out, last = [], 0
    for span, new in sorted(spans, key=lambda s: s[0].start_char):
        out += [doc.text[last:span.start_char], new]
        last = span.end_char
    return "".join([*out, doc.text[last:]])


def opposites(doc: Any, siblings: Sequence[Any], vocab: Sequence[tuple[str, str]], rng: random.Random) -> Iterator[str]:
    """Perturbed texts that say something the original does not (one kind of error each)."""
    chunks = _chunks(doc)
    subj = [c for c in chunks if c.root.dep_ in SUBJ]
    obj = [c for c in chunks if c.root.dep_ in OBJ]
    pairs = [(s, o) for s in subj for o in obj][:2] + list(zip(subj, subj[1:], strict=False))[:1]
    for a, b in pairs:                                                                   # roles, definitions
        if a.text.lower() != b.text.lower() and a.root.lemma_ != b.root.lemma_:
            yield _replace_span(doc, [(a, b.text), (b, a.text)])
    others = [c.text for s in siblings for c in _chunks(s) if c.root.lemma_ not in {x.root.lemma_ for x in chunks}]
    for c in rng.sample(chunks, min(2, len(chunks))):                                    # wrong entity
        if others:
            yield _replace_span(doc, [(c, rng.choice(others))])
    low = doc.text.lower()
    for a, b in vocab:                                                                   # wrong phase / role term
        if re.search(rf"\b({re.escape(a)}|{re.escape(b)})\b", low):
            yield _swap_terms(doc.text, a, b)
    for a, b in DIRECTIONS:                                                              # reversed direction
        if re.search(rf"\b({re.escape(a)}|{re.escape(b)})\b", low):
            yield _swap_terms(doc.text, a, b)
            break
    for m in re.finditer(r"\b\d+(\.\d+)?\b", doc.text):                                  # wrong number
        value = float(m.group(0))
        new = rng.choice([value * 10, value / 10, value + 1, value * 2]) if value else 1.0
        text = f"{new:g}" if "." in m.group(0) or new != int(new) else str(int(new))
        yield doc.text[:m.start()] + text + doc.text[m.end():]
        break
    for m in re.finditer(rf"\b({'|'.join(NUMBER_WORDS)})\b", doc.text):
        yield doc.text[:m.start()] + rng.choice([w for w in NUMBER_WORDS if w != m.group(0)]) + doc.text[m.end():]
        break


def sames(doc: Any) -> Iterator[str]:
    """Texts that keep the original's claim: a clause dropped, list items or a leading phrase reordered."""
    for tok in doc:
        if tok.dep_ in {"advcl", "relcl", "appos", "prep", "acl"} and tok.head.dep_ == "ROOT":
            sub = list(tok.subtree)
            start, end = sub[0].idx, sub[-1].idx + len(sub[-1].text)
            if 0 < end - start < 0.6 * len(doc.text) and tok.i > tok.head.i:
                text = (doc.text[:start].rstrip(" ,") + doc.text[end:]).strip()
                yield text
                break
    for tok in doc:                                                                      # "A and B" -> "B and A"
        conj = [c for c in tok.children if c.dep_ == "conj"]
        if tok.pos_ in {"NOUN", "PROPN"} and len(conj) == 1 and conj[0].pos_ in {"NOUN", "PROPN"}:
            a = doc[tok.left_edge.i: tok.i + 1]
            b = doc[conj[0].left_edge.i: conj[0].i + 1]
            if a.end <= b.start and " and " in doc.text[a.end_char:b.start_char + 1]:
                yield _replace_span(doc, [(a, b.text), (b, a.text)])
                break
    first = doc[0]
    if first.dep_ == "prep" and first.head.dep_ == "ROOT":                               # "In X, Y." -> "Y in X."
        sub = list(first.subtree)
        end = sub[-1].i + 1
        if end < len(doc) and doc[end].text == ",":
            rest = doc[end + 1:].text.rstrip(".")
            yield f"{rest[0].upper()}{rest[1:]} {doc[:end].text[0].lower()}{doc[:end].text[1:]}."


def touches(base: str, new: str, point: str) -> bool:
    """Whether the words the perturbation changed in base include a word of the point (else the label is noise)."""
    import difflib

    words, point_words = base.lower().split(), set(re.findall(r"[a-z0-9]+", point.lower()))
    ops = difflib.SequenceMatcher(a=words, b=new.lower().split(), autojunk=False).get_opcodes()
    changed = {w for tag, i1, i2, _, _ in ops if tag != "equal" for w in words[i1:i2]}
    return any(set(re.findall(r"[a-z0-9]+", w)) & point_words - STOP for w in changed)


def deck_vocab(bank: Any) -> list[tuple[str, str]]:
    """The contrast pairs whose two terms both occur in the deck."""
    text = " ".join(" ".join(e.points) + " " + e.answer for e in bank.entries.values()).lower()
    return [(a, b) for a, b in CONTRASTS if re.search(rf"\b{a}\b", text) and re.search(rf"\b{b}\b", text)]


def reference_pairs(bank: Any) -> dict[tuple[str, int], list[str]]:
    """(entry id, point index) -> the reference sentences the rubric matches to that point."""
    from benchmarks.scoring_targets import grading_embedder
    from benchmarks.verifier_eval import matched_pairs
    from bot.core.grading.grader import Grader

    embedder = grading_embedder(Path("/tmp/scoring_emb_cache.pkl"))
    grader = Grader(embedder)
    out: dict[tuple[str, int], list[str]] = {}
    for entry in bank.entries.values():
        for _, sentence, p in matched_pairs(grader, entry, entry.answer)[0]:
            out.setdefault((entry.id, p), []).append(sentence)
    embedder.save()
    return out


def generate(seed: int = 13) -> list[dict[str, Any]]:
    """Every synthetic pair {point, sentence, label, kind} of the deck."""
    from bot.core.grading.parse import shared

    rng = random.Random(seed)
    bank = load_bank(REPO / "knowledge")
    vocab, refs, parser = deck_vocab(bank), reference_pairs(bank), shared()
    out: list[dict[str, Any]] = []
    for entry in bank.entries.values():
        points = list(entry.points)
        docs = parser.parse(points)
        for i, (point, doc) in enumerate(zip(points, docs, strict=True)):
            siblings = [d for j, d in enumerate(docs) if j != i]
            same = [point, *refs.get((entry.id, i), []), *sames(doc)]
            same += [s for r in parser.parse(refs.get((entry.id, i), [])) for s in sames(r)]
            out += [{"point": point, "sentence": s, "label": 0, "kind": "same"} for s in dict.fromkeys(same)]
            out += [{"point": point, "sentence": s.text, "label": 0, "kind": "unrelated"}
                    for s in rng.sample(siblings, min(2, len(siblings)))]
            near = [s for (eid, j), ss in refs.items() if eid == entry.id and j != i for s in ss]
            out += [{"point": point, "sentence": s, "label": 0, "kind": "unrelated"}
                    for s in rng.sample(near, min(1, len(near)))]
            wrong = [w for w in opposites(doc, siblings, vocab, rng) if w.lower() != point.lower()]
            for base in parser.parse(refs.get((entry.id, i), [])):
                wrong += [w for w in opposites(base, siblings, vocab, rng) if touches(base.text, w, point)]
            wrong = list(dict.fromkeys(wrong))
            out += [{"point": point, "sentence": w, "label": 1, "kind": "opposite"}
                    for w in rng.sample(wrong, min(MAX_OPPOSITE, len(wrong)))]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Write the pairs as JSON lines and print their counts."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("/tmp/pair_synth.jsonl"))
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(list(argv) if argv is not None else None)
    pairs = generate(args.seed)
    args.out.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    kinds: dict[str, int] = {}
    for p in pairs:
        kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
    print(f"{len(pairs)} pairs -> {args.out}: {kinds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
