"""The edit check: a sentence copied from the reference with two of its terms exchanged, or one term or number put
in the place of another.

A wrong answer written in the reference's own words is most often a reference sentence with a few words changed:
"they combine the forget and output gates into a single update gate and eliminate the input gate" is the reference's
sentence with "input" and "output" exchanged. The answer sentence is aligned word by word (stems) with the reference
sentence it copies most of; an edit counts only when it puts in the place of the reference's words
- the words another edit of the same sentence took out (the two were exchanged),
- a sibling of the same family of the entry's vocabulary ("max" for "min", "recurrent" for "convolutional"),
- a different number ("three layers" for "two layers").
Paraphrase replaces a phrase by words of its own ("big dataset" for "large data"): it is none of the three, and the
other checks, which read claims rather than copies, judge it.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.grading import conflict_words as W
from bot.core.grading import names
from bot.core.grading.conflicts import stem
from bot.core.grading.vocabulary import GENERIC, NUMBER, Vocabulary, clauses, is_content, text_stems
from bot.core.text import split_sentences

# The answer sentence copies a reference sentence when at least this many of its content stems are matched in order
MIN_COPIED = 4
# ... and they are at least this share of the shorter sentence's content stems (a copy may be cut or extended).
MIN_SHARE = 0.65
# An edit of more content words than this on either side rewrites the claim: it is no term put for another.
MAX_EDIT = 3
_NUMBER_WORDS = {stem(w): str(i) for i, w in enumerate(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"))}
# A sibling counts in an edit of at most this many content words a side: a longer one rephrases the clause.
SIBLING_EDIT = 2
# Two exchanged words stand at least this many content words apart: closer, a phrase was only reordered.
APART = 3
# Generic families too loose to decide anything by themselves: more / less, all / none, one / several.
_LOOSE = frozenset({GENERIC + 1, GENERIC + 8, GENERIC + 9})


@dataclass(frozen=True)
class Edit:
    """A copied sentence with a term or number changed: the reference sentence, the answer's clause, the kind."""

    reference: str
    quote: str
    kind: str  # "swap" (terms exchanged or a sibling put in), "number" or "entity" (another name)


@dataclass(frozen=True)
class Copyable:
    """A reference sentence and its stems."""

    text: str
    stems: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    words: Counter[str]   # its content stems, counted


def sentences_of(texts: Sequence[str]) -> list[Copyable]:
    """The sentences of the reference (its answer and its points), each with its stems."""
    out = []
    for text in texts:
        for piece in split_sentences(text):
            stems, spans = text_stems(piece)
            if sum(1 for s in stems if is_content(s)) >= MIN_COPIED:
                out.append(Copyable(piece, tuple(stems), tuple(spans), Counter(_content(stems))))
    return out


def _content(stems: Sequence[str]) -> list[str]:
    return [s for s in stems if is_content(s)]


def _numbers(stems: Sequence[str]) -> set[str]:
    return {_NUMBER_WORDS.get(s, s) for s in stems if NUMBER.fullmatch(s) or s in _NUMBER_WORDS}


def _terms(stems: Sequence[str], vocabulary: Vocabulary) -> set[tuple[int, int]]:
    # "its inputs" says what something has, it names no input layer
    return {(t.group, t.cls) for _, _, t in vocabulary.find(list(stems), owned=False) if t.group not in _LOOSE}


_Alignment = tuple[Copyable, difflib.SequenceMatcher[str]]


def _copied(stems: Sequence[str], references: Sequence[Copyable]) -> _Alignment | None:
    """The reference sentence this one copies most of, with the alignment (None when it copies none)."""
    words = Counter(_content(stems))
    mine = sum(words.values())
    best: tuple[int, Copyable, difflib.SequenceMatcher[str]] | None = None
    for reference in references:
        # the words both share bound what the alignment can match: most references are passed over unaligned
        if (words & reference.words).total() < max(MIN_COPIED, best[0] + 1 if best else 0):
            continue
        matcher = difflib.SequenceMatcher(None, reference.stems, list(stems), autojunk=False)
        same = sum(1 for block in matcher.get_matching_blocks()
                   for s in stems[block.b:block.b + block.size] if is_content(s))
        if best is None or same > best[0]:
            best = (same, reference, matcher)
    if best is None:
        return None
    same, reference, matcher = best
    shorter = min(mine, len(_content(reference.stems)))
    return (reference, matcher) if same >= MIN_COPIED and shorter and same / shorter >= MIN_SHARE else None


def edited(sentence: str, references: Sequence[Copyable], vocabulary: Vocabulary) -> list[Edit]:
    """The edits of a copied sentence that put another term or number in the reference's place."""
    stems, spans = text_stems(sentence)
    copied = _copied(stems, references)
    if copied is None:
        return []
    reference, matcher = copied
    ops = [(i1, i2, j1, j2) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op == "replace"]
    found: list[Edit] = []
    for i1, i2, j1, j2 in ops:
        old, new = reference.stems[i1:i2], stems[j1:j2]
        if W.NEGATIONS & (set(old) | set(new)):
            continue   # a denial changed is the denial check's to judge
        old_words, new_words = set(_content(old)), set(_content(new))
        if not old_words or not new_words or old_words & new_words or \
                len(old_words) > MAX_EDIT or len(new_words) > MAX_EDIT:
            continue
        kind = None
        if _numbers(old) and _numbers(new) and _numbers(old) != _numbers(new):
            kind = "number"
        else:
            theirs, mine = _terms(old, vocabulary), _terms(new, vocabulary)
            if len(old_words) <= SIBLING_EDIT and len(new_words) <= SIBLING_EDIT and \
                    any(g == h and c != d for g, c in mine for h, d in theirs):
                kind = "swap"
            elif _bare(old) and _bare(new) and _renamed(names.names_of(reference.text, *_span(reference.spans, i1, i2)),
                                                        names.names_of(sentence, *_span(spans, j1, j2)), stems):
                kind = "entity"
            elif any(set(_content(reference.stems[k1:k2])) & new_words and set(_content(stems[l1:l2])) & old_words
                     and len(_content(stems[min(j2, l2):max(j1, l1)])) >= APART for k1, k2, l1, l2 in ops):
                # two words exchanged ("the server starts" where the client did, and the client answers); a noun
                # phrase reordered ("the previous output" for "the output of the previous timestep") keeps them close
                kind = "swap"
        if kind:
            found.append(Edit(reference.text, _clause(sentence, spans[j1][0]), kind))
    return found


def _bare(stems: Sequence[str]) -> bool:
    """Whether an edit is content words only: a term put for a term, with the words around it kept."""
    return all(is_content(s) for s in stems)


def _span(spans: Sequence[tuple[int, int]], a: int, b: int) -> tuple[int, int]:
    """The characters of tokens a to b."""
    return spans[a][0], spans[b - 1][1]


def _renamed(theirs: Sequence[str], mine: Sequence[str], said: Sequence[str]) -> bool:
    """Whether an edit names another thing where the reference names one ("Kubernetes" for "Docker"), the
    reference's name said nowhere in the sentence, and neither name the initials of the other's words."""
    if not theirs or not mine:
        return False
    def bare(name: str) -> str:
        return name.casefold().removesuffix("s")
    lost = [n for n in theirs if not set(text_stems(n)[0]) <= set(said)]
    initials = {"".join(w[0] for w in words).casefold() for words in (theirs, mine)}
    return bool(lost) and not {bare(n) for n in theirs} & {bare(n) for n in mine} and \
        not any(bare(n) in initials for n in [*theirs, *mine])


def _clause(sentence: str, at: int) -> str:
    """The clause of the sentence that holds a character position."""
    return next((sentence[a:b] for a, b in clauses(sentence) if a <= at < b), sentence).strip()
