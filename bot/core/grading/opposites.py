"""The opposite of a point said of one thing: "increases the oscillations" for "dampens the oscillations"."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.grading import conflict_words as W
from bot.core.grading.conflicts import NEAR, Span, content_of, hits, negated, stem, tokens

_DIRECTED = frozenset(w for pair in W.OPPOSITES for family in pair for w in family)
_DESCRIBERS = _DIRECTED | {"large", "small", "big", "high", "low", "long", "short", "tiny", "huge"}


# Words that start a new noun phrase after "and": what follows is not the phrase the direction word is in.
_STARTS = frozenset({"the", "a", "an", "its", "their", "this", "these", "that", "those", "each", "every"})


def _directed(words: Sequence[str], family: frozenset[str], strict: bool = False) -> list[tuple[int, Span, set[str]]]:
    """Each word of the family: its position, its phrase, and the content stems it acts on, within its clause; strict
    (for the word that would contradict) stops ahead at "of" or a preposition."""
    out = []
    for i, word in enumerate(words):
        if word not in family:
            continue
        near: set[str] = set()
        phrase = [i, i + 1]
        # A verb acts on what follows it, an adjective on the words either side, a comparative on its next word
        # either side ("makes training more stable": training and stable, not the oscillations before them).
        reach = 1 if word in W.COMPARATIVES else NEAR
        for step in (-1, 1) if word in W.COMPARATIVES | W.ADJECTIVES else (1,):
            j, taken = i + step, 0
            # Looking back, "and" ends the phrase: in "edges, textures and more complex features" complex is said of
            # the features, not the textures ("smaller and larger elements" share their noun and go on).
            while 0 <= j < len(words) and taken < reach and words[j] not in W.BOUNDARY and \
                    not (step < 0 and words[j] in ("and", "or") and j > 0 and words[j - 1] not in _DIRECTED):
                # Looking back, a noun with a describing word of its own ("large batches do fewer updates") is what
                # that word describes: the comparative is said of what follows it.
                if step < 0 and j > 0 and words[j - 1] in _DESCRIBERS and content_of([words[j]]):
                    break
                # Looking ahead, "and the ..." starts another phrase: in "a mistake costs more and the model stops
                # leaning" more is said of the cost, not the model (a comparative never reaches past "and").
                if step > 0 and words[j] in ("and", "or", "but") and \
                        (word in W.COMPARATIVES or (j + 1 < len(words) and words[j + 1] in _STARTS)):
                    break
                # Looking ahead, the noun after "of" is not what the word describes ("different parts of the input").
                if strict and step > 0 and taken and (words[j] == "of" or words[j] in W.PREPOSITIONS):
                    break
                if content_of([words[j]]) and not (word in W.COMPARATIVES and words[j] in W.DEGREES):
                    near.add(stem(words[j]))
                    # "needs more labeled data": a participle before the noun hands the comparative on to it
                    if not (word in W.COMPARATIVES and step > 0 and taken == 0 and words[j].endswith("ed")):
                        taken += 1
                    phrase = [min(phrase[0], j), max(phrase[1], j + 1)]
                j += step
        out.append((i, (phrase[0], phrase[1]), near))
    return out


def _targets(words: Sequence[str], family: frozenset[str], relations: bool = True) -> set[str]:
    """The stems that the family's words act on in these words; without relations, "X is smaller than Y" is skipped.

    A point that relates two things ("the left child is smaller than the right child") is said just as well the
    other way round ("the right child is larger").
    """
    return {s for i, _, near in _directed(words, family) for s in near
            if relations or i + 1 >= len(words) or words[i + 1] != "than"}


_SPEED = frozenset({"faster", "slower", "speed", "speeds", "accelerate", "accelerates", "slow", "slows", "quicker"})
_DURATION = frozenset({"time", "durat", "latenc", "hour", "minut", "second", "day", "week", "wait"})


def _inverse(word: str, near: set[str], said: list[tuple[int, Span, set[str]]], p_words: Sequence[str]) -> bool:
    """Whether one side speaks of speed and the other of the time taken: their directions are opposite words for
    the same claim ("much faster" training, "reduces training time")."""
    if word in _SPEED:
        # the time may stand past the words near the point's verb: "reduces data loading time"
        return any(_DURATION & (stems | {stem(w) for w in p_words[k + 1:k + 4]}) for k, _, stems in said)
    return bool(_DURATION & near) and any(p_words[k] in _SPEED for k, _, _ in said)


def opposite_conflict(sentence: str, point: str) -> Span | None:
    """The phrase if the sentence says the opposite of the point about one thing ("increases the oscillations").

    Only about that thing: "dampens oscillations and makes training more stable" still conflicts with "increases
    the oscillations", while an answer or point that says both directions of it ("less noise, more signal"
    about one word) does not.
    """
    words, p_words = tokens(sentence), tokens(point)
    # "never all zeros, nor big random values": a direction word the sentence denies is not claimed
    denied = {k for a, b in negated(words)[2] for k in range(a, b)}
    for one, other in W.OPPOSITES:
        for mine, theirs in ((one, other), (other, one)):
            stated, agreed = _targets(p_words, theirs, False), _targets(p_words, mine) | _targets(words, theirs)
            said = _directed(p_words, theirs)
            # "small random weights work better than zeros": a point that compares its side with the other is said
            # again by a sentence that gives its side and names the other ("you want small random values:
            # initializing everything to zero leaves all neurons identical", blind part 22's strong answer)
            if _compares(p_words, mine) and any(w in theirs and "than" not in words[max(0, k - 2):k]
                                                and k not in denied for k, w in enumerate(words)):
                continue
            for i, phrase, near in _directed(words, mine, strict=True):
                # "learns more than a linear function": the word after "than" is what is compared, not claimed
                if "than" in words[max(0, i - 2):i] or i in denied:
                    continue
                # "training is much faster" agrees with "reduces training time": speed and time are inverse
                if _inverse(words[i], near, said, p_words):
                    continue
                if hits(near, stated, set()) and not hits(near, agreed, set()):
                    return phrase
    return _inverted(words, p_words)


def _compares(words: Sequence[str], family: frozenset[str]) -> bool:
    """Whether a word of the family stands in a "than" phrase of these words ("better than zeros or large values")."""
    return any(w in family and "than" in words[max(0, k - 3):k] for k, w in enumerate(words))


def _inverted(words: Sequence[str], p_words: Sequence[str]) -> Span | None:
    """Speed said the same way as the point's time, of the same thing: "makes training slower" against "reduces
    training time", "increases the training time" against "makes training faster"."""
    for family in (W.UP, W.DOWN):
        theirs = _directed(p_words, family)
        for i, phrase, near in _directed(words, family, strict=True):
            if "than" in words[max(0, i - 2):i]:
                continue
            for k, _, stems in theirs:
                speed_here, speed_there = words[i] in _SPEED, p_words[k] in _SPEED
                timed = stems | {stem(w) for w in p_words[k + 1:k + 4]}
                if speed_here != speed_there and _DURATION & (timed if speed_here else near) and \
                        hits(near - _DURATION, stems - _DURATION, set()):
                    return phrase
    return None
