"""What a copied sentence denies, compares, signs, directs or times: a reordered copy that denies another of its
terms, a sign word ("negative") taken out, the start of a movement put at its end, another time word ("before" for
"during")."""

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

# Where a movement starts and where it ends: "from the output layer to the inner layers".
_FROM = frozenset({"from"})
_TOWARD = frozenset(stem(w) for w in ("to", "toward", "towards", "into", "onto"))
# When a thing happens against a phase: "during training" is not "before training".
_TIMES = frozenset(stem(w) for w in ("before", "during", "after"))

# Words of a relation said in the passive, which names its sides the other way round and means the same.
_PASSIVE = frozenset({"by"})

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


def _slots(stems: Sequence[str]) -> tuple[set[str], set[str]]:
    """The first content word after each "from" (where a movement starts) and each "to" or "toward" (where it ends)."""
    starts: set[str] = set()
    ends: set[str] = set()
    for at, word in enumerate(stems):
        if word in _FROM or word in _TOWARD:
            after = next((s for s in stems[at + 1:at + 4] if is_content(s) and s not in _TOWARD), None)
            if after is not None:
                (starts if word in _FROM else ends).add(after)
    return starts, ends


def redirected(theirs: Sequence[str], mine: Sequence[str]) -> bool:
    """Whether a copy puts where a movement starts at its end, or the reverse: "starting from the output layer to
    the inner layers" made "starting from the input layer and moving towards the output layer"."""
    (starts, ends), (my_starts, my_ends) = _slots(theirs), _slots(mine)
    if not (starts and ends and my_starts and my_ends):
        return False   # a movement has both ends: "suffers from vanishing gradients" names no start of one
    # a copy that still ends where the reference does tells another movement beside it ("unlike the forward pass,
    # which goes from input to output, ... toward the inner layers")
    return bool((starts - my_starts) & my_ends and not ends & my_ends or
                (ends - my_ends) & my_starts and not starts & my_starts)


def retimed(theirs: Sequence[str], mine: Sequence[str], ops: Ops) -> bool:
    """Whether a copy puts another time word in the reference's one and nothing else there: "During the training
    process, the embedding layer learns" made "Before the training process starts, ..."."""
    for op, i1, i2, j1, j2 in ops:
        old = [s for s in theirs[i1:i2] if is_content(s)]
        new = [s for s in mine[j1:j2] if is_content(s)]
        if op == "replace" and len(old) == len(new) == 1 and {old[0], new[0]} <= _TIMES and old != new:
            return True
    return False


def turned(theirs: Sequence[str], mine: Sequence[str], ops: Ops) -> bool:
    """Whether a copy exchanges the two sides of a relation: "using neural networks to approximate the value or policy
    functions" made "using the value or policy functions to approximate the neural network". The reference's words
    "A R" are taken out before "B" and put back after it as "R A": "A R B" became "B R A"."""
    for a, (op, i1, i2, ja, _) in enumerate(ops):
        out = [s for s in theirs[i1:i2] if is_content(s)]
        if op not in ("delete", "replace") or len(out) < 2:
            continue
        for other, j1, j2 in ((o[0], o[3], o[4]) for b, o in enumerate(ops) if b > a):
            put = mine[j1:j2]
            # "the value is approximated by neural networks" says the same in the passive
            if other not in ("insert", "replace") or _PASSIVE & set(put):
                continue
            words = [s for s in put if is_content(s)]
            # the other side "B" crossed: content words of the copy's own between where "A R" was and where it is
            crossed = [s for s in mine[ja:j1] if is_content(s) and s not in out]
            if len(crossed) >= 2 and any(words[:len(out)] == out[k:] + out[:k] for k in range(1, len(out))):
                return True
    return _turned_back(theirs, mine, ops)


def _turned_back(theirs: Sequence[str], mine: Sequence[str], ops: Ops) -> bool:
    """The same, with "B R" put in before "A" and taken out after it: "vectors that are sparse ..., embeddings are
    dense ..." made "vectors that are dense ..., embeddings are sparse ...": the two sides' attributes exchanged
    across what joins them."""
    for a, (op, _, _, j1, j2) in enumerate(ops):
        put = [s for s in mine[j1:j2] if is_content(s)]
        if op != "insert" or len(put) < 2 or _PASSIVE & set(mine[j1:j2]):
            continue
        for other, i1, i2, jb in ((o[0], o[1], o[2], o[3]) for b, o in enumerate(ops) if b > a):
            out = [s for s in theirs[i1:i2] if is_content(s)]
            crossed = [s for s in mine[j2:jb] if is_content(s) and s not in put]
            if other == "delete" and len(out) == len(put) and len(crossed) >= 2 and \
                    any(put == out[k:] + out[:k] for k in range(1, len(out))):
                return True
    return False


# What sets the words after it aside: "on the training data rather than the test data"
_ASIDE = (("rath", "than"), ("instead", "of"), ("as", "oppos", "to"), ("not",))
_ARTICLES = frozenset({"the", "a", "an"})


def set_aside(theirs: Sequence[str], mine: Sequence[str], ops: Ops) -> bool:
    """Whether a copy puts words of its own before the reference's and sets the reference's aside: "performance on the
    test data" made "performance on the training data rather than the test data"."""
    for k, (op, _, _, j1, j2) in enumerate(ops):
        put = list(mine[j1:j2])
        while put and put[-1] in _ARTICLES:
            put.pop()
        marker = next((m for m in _ASIDE if tuple(put[-len(m):]) == m), None)
        if op not in ("insert", "replace") or marker is None or k + 1 >= len(ops) or ops[k + 1][0] != "equal":
            continue
        own = [s for s in put[:-len(marker)] if is_content(s)]
        # "so gradients don't vanish" for "to prevent vanishing gradients": the denial says the verb it replaced
        if marker == ("not",) and {stem(w) for w in W.NEGATIVE_VERBS} & set(theirs[ops[k][1]:ops[k][2]]):
            continue
        _, i1, i2, _, _ = ops[k + 1]
        kept = [s for s in theirs[i1:i2] if is_content(s)]
        # the copy's own words stand for the kept ones ("training data" for "test data"), and the reference sets
        # nothing aside itself ("work better than zeros" said as "small weights: not zeros")
        if set(own) - set(kept) and set(kept) - set(own) and not _SETS_APART & set(theirs):
            return True
    return False
