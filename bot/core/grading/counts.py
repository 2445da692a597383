"""The numbers a text or an edit says, in figures or in words: "three layers", "a single layer", "a two-layer net"."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.grading.conflicts import stem
from bot.core.grading.values import NUMBER_WORDS, numbers
from bot.core.grading.vocabulary import NUMBER, text_stems

__all__ = ["said_numbers", "stem_numbers"]

# "three" is stemmed "thre"; "a single layer" is one layer, "half of the data" a half
_SPELLED = {stem(w): v for w, v in (*NUMBER_WORDS.items(), ("single", 1.0), ("half", 0.5))}
# what a compound counts ("two-layer", "three-stage"), unlike "one-hot" or "zero-centered" that describe
_COUNTED = ("lay", "dimension", "clas", "stag", "step", "head", "gat", "fold", "bit", "way", "part", "level")
# words before or after "one" that make it stand for a thing ("the usual one is", "one of the most")
_DETERMINERS = frozenset({"the", "this", "that", "each", "any", "every", "anoth", "which", "no", "a", "an"})
_AFTER_PRONOUN = frozenset({"is", "was", "that", "which", "who", "of", "for", ",", ".", ";", ":"})


def stem_numbers(stems: Sequence[str]) -> set[float]:
    """The numbers an edit says, in figures or words, also the count of a compound ("two-layer", not "one-hot")."""
    found = set()
    for s in stems:
        word, _, rest = s.partition("-")
        if rest and not rest.startswith(_COUNTED):
            continue
        if NUMBER.fullmatch(word):
            found.add(float(word))
        elif word in _SPELLED:
            found.add(_SPELLED[word])
    return found


def said_numbers(text: str) -> set[float]:
    """The numbers a text says in figures (percentages as fractions) or in words ("three", "a single")."""
    stems = text_stems(text)[0]
    words = [s for k, s in enumerate(stems) if not NUMBER.fullmatch(s) and not _pronoun(stems, k)]
    return set(numbers(text)) | stem_numbers(words)


def _pronoun(stems: Sequence[str], k: int) -> bool:
    """Whether "one" stands for a thing, not a count: "the usual one is MSE", "one of the most common"."""
    return stems[k] == "one" and ((k > 0 and stems[k - 1] in _DETERMINERS) or
                                   (k + 1 < len(stems) and stems[k + 1] in _AFTER_PRONOUN))
