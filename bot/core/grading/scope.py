"""What a copied sentence denies, compares or signs: a reordered copy that denies another of its terms, or a sign
word ("negative") taken out of the reference's words."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.core.grading import conflict_words as W
from bot.core.grading.conflicts import stem
from bot.core.grading.vocabulary import is_content

# Words after which a term is denied or set against another: "height and width, not depth", "rather than", "than".
_SETS_APART = W.NEGATIONS | {stem(w) for w in ("than", "instead", "unlike", "versus", "vs")}
# Words that turn a direction or a quantity round: "the negative gradient" points the other way from "the gradient".
_SIGNS = frozenset(stem(w) for w in ("negative", "positive", "opposite", "inverse", "reverse"))

Ops = Sequence[tuple[str, int, int, int, int]]


def _set_apart(stems: Sequence[str]) -> Counter[str]:
    """The first content word after each word that denies or compares, counted."""
    found: Counter[str] = Counter()
    for at, word in enumerate(stems):
        if word in _SETS_APART:
            after = next((s for s in stems[at + 1:] if is_content(s) and s not in _SETS_APART), None)
            if after is not None:
                found[after] += 1
    return found


def _rearranged(theirs: Sequence[str], mine: Sequence[str], ops: Ops) -> bool:
    """Whether a copy only moves or cuts the reference's words: every content word it puts in, it took out elsewhere."""
    out = Counter(s for op, i1, i2, _, _ in ops if op != "equal" for s in theirs[i1:i2] if is_content(s))
    into = Counter(s for op, _, _, j1, j2 in ops if op != "equal" for s in mine[j1:j2] if is_content(s))
    return bool(into) and not into - out


def rescoped(theirs: Sequence[str], mine: Sequence[str], ops: Ops) -> bool:
    """Whether a copy, only reordered, denies or compares another of the sentence's terms: "height and width, not
    depth" made "depth, not height and width", "A is faster than B" made "B is faster than A"."""
    if not _rearranged(theirs, mine, ops):
        return False
    before, after = _set_apart(theirs), _set_apart(mine)
    if sum(before.values()) != sum(after.values()) or before == after:
        return False
    # the newly denied word was said plainly in the reference, and the word it denied is said plainly in the copy
    return any(w in theirs for w in after - before) and any(w in mine for w in before - after)


def resigned(theirs: Sequence[str], mine: Sequence[str], ops: Ops) -> bool:
    """Whether a copy takes a sign word out or puts one in and changes nothing else but cuts: "in the direction of
    the negative gradient" made "in the direction of the gradient"."""
    changed = [([s for s in theirs[i1:i2] if is_content(s)], [s for s in mine[j1:j2] if is_content(s)])
               for op, i1, i2, j1, j2 in ops if op != "equal"]
    signed = [(out, into) for out, into in changed if len(out) + len(into) == 1 and (out + into)[0] in _SIGNS]
    # any other change only cuts the reference's words: a word of the copy's own would make it a paraphrase
    return len(signed) == 1 and all(not into for out, into in changed if (out, into) != signed[0])
