"""A list said in another order: items exchanged, rotated or moved with only other items between them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.grading.vocabulary import is_content

_LISTING = frozenset({",", "and", "or"})
# words that may stand inside an item without making it a clause ("the forget gate", "more complex features")
_IN_ITEM = frozenset({"the", "a", "an", "more", "less", "most", "other", "its", "their"})


def content(stems: Sequence[str]) -> list[str]:
    """The content stems, in order."""
    # a short name with a digit ("S3", "L2") names a thing as much as a long word does
    return [s for s in stems if is_content(s) or (len(s) == 2 and s.isalnum() and any(c.isdigit() for c in s))]


def listed(between: Sequence[str], longest: int = 2) -> bool:
    """Whether only other items of a list stand between two words: "audio, images and text", "the output gate, forget
    gate and input gate" (a list's items of at most `longest` words, and the words they share)."""
    items: list[list[str]] = [[]]
    for s in between:
        if s in _LISTING:
            items.append([])
        elif is_content(s):
            items[-1].append(s)
        elif s not in _IN_ITEM:
            return False
    # the words every item shares ("gradient descent" of "stochastic gradient descent, and batch ...") are the
    # list's, not an item's own
    full = [set(item) for item in items if item]
    shared = set.intersection(*full) if len(full) > 1 else set()
    return len(items) > 1 and all(len(set(item) - shared) <= longest for item in items)


def moved(theirs: Sequence[str], mine: Sequence[str], ops: Sequence[tuple[str, int, int, int, int]]) -> bool:
    """Whether a copy takes a list's item out and puts the same words back with only other items between ("corners,
    colors, edges, etc." for "edges, corners, colors, etc.")."""
    # the words taken out are one item ("edges ,"), not a clause's end (", embeddings are dense and ...")
    taken = [(j1, set(content(theirs[i1:i2]))) for op, i1, i2, j1, _ in ops
             if op == "delete" and content(theirs[i1:i2]) and listed([*theirs[i1:i2], ","], longest=3)]
    put = [(j1, j2, set(content(mine[j1:j2]))) for op, _, _, j1, j2 in ops
           if op == "insert" and content(mine[j1:j2])]
    # the same words put back, so an item may be longer than an exchange's ("more complex features")
    return any(words == again and listed(mine[min(at, j2):max(at, j1)], longest=3)
               for at, words in taken for j1, j2, again in put)


def rotated(theirs: Sequence[str], mine: Sequence[str], at: tuple[int, int], put: tuple[int, int]) -> bool:
    """Whether an edit only moves a list's items round: the words it took out stay elsewhere in the copy, the words
    it put in stood elsewhere in the reference, and only other items stand between ("Adam, RMSprop and SGD" for
    "SGD, Adam, and RMSprop")."""
    old, new = set(content(theirs[at[0]:at[1]])), set(content(mine[put[0]:put[1]]))
    if not new <= set(content([*theirs[:at[0]], *theirs[at[1]:]])):
        return False
    kept = [k for k, s in enumerate(mine) if s in old and not put[0] <= k < put[1]]
    return any(listed(mine[min(put[1], k + 1):max(put[0], k)]) for k in kept)
