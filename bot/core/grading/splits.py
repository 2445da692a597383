"""The test set given the validation set's job: "we tweak hyperparameters by checking scores on the test data"; the
training set given it: "early stopping watches the training loss and stops when it goes up".

An entry that keeps its test set unseen for the final evaluation, or tunes on the validation set, is contradicted by
a clause that tunes on the test set, checks it every epoch or trains on it; an entry that tunes or stops on the
validation set, by a clause that watches the training set's score to stop or to choose. Each clause is read apart:
one that denies, warns or sets a condition ("never tune on the test set", "if you tune on it, the estimate is
biased") says the point again, and one that names the validation set gives the test set a job of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_TEST = re.compile(r"\btest(?:ing)?\s+(?:sets?|data|dataset|split|results?|scores?|accuracy|performance|loss)\b",
                   re.IGNORECASE)
_TUNE = re.compile(r"\b(?:tun(?:e|es|ed|ing)|tweak\w*|hyperparameters?|early[- ]stopping|when to stop|checkpoints?|"
                   r"(?:every|each) epoch|train(?:ed|s)? (?:it |the model )?on|fit(?:ted|s)? (?:it )?on)\b",
                   re.IGNORECASE)
# What makes a clause say the point again or set it aside: a denial, a warning, a condition, the final check
_EXCUSED = re.compile(r"\b(?:not|no|never|without|avoid\w*|if|unless|leak\w*|bias\w*|optimistic\w*|cheat\w*|"
                      r"contaminat\w*|mistake|wrong|bad|instead|rather|unseen|untouched|held[- ]out|final(?:ly)?|"
                      r"once|last|end|report\w*|validation|dev|should|must|separate\w*|apart|only after)\b|n't\b",
                      re.IGNORECASE)
_CLAUSE = re.compile(r"[,;:]\s*|\s+(?:and then|and|but|while|whereas|so that|so)\s+", re.IGNORECASE)
_KEPT = re.compile(r"(?i)\btest\b.*\b(?:unseen|final|unbiased|held|never|kept|keep\w*)\b|"
                   r"\b(?:unseen|final|unbiased)\b.*\btest\b")
_TUNED = re.compile(r"(?i)\bvalidation\b.*\b(?:tun\w*|hyperparameters?|early stopping|monitor\w*)\b|"
                    r"\b(?:tun\w*|hyperparameters?|early stopping|monitor\w*)\b.*\bvalidation\b")


def _point(points: Sequence[str]) -> int | None:
    """The point that keeps the test set apart, or else the one that tunes on the validation set."""
    for pattern in (_KEPT, _TUNED):
        found = next((p for p, point in enumerate(points) if pattern.search(point)), None)
        if found is not None:
            return found
    return None


def misused(sentence: str, points: Sequence[str]) -> list[tuple[int, str]]:
    """The point and the clause where the sentence tunes on the test set, checks it every epoch or trains on it."""
    point = _point(points)
    if point is None or not _TEST.search(sentence):
        return []
    for clause in _CLAUSE.split(sentence):
        if _TEST.search(clause) and _TUNE.search(clause) and not _EXCUSED.search(clause):
            return [(point, clause.strip())]
    return []


_TRAINING = re.compile(r"(?i)\btraining(?:\s+set['’]?s?|\s+data['’]?s?)?\s+(?:loss|accuracy|error|performance|"
                       r"score|metrics?)\b|\b(?:performance|accuracy|loss|error|score)\s+on\s+the\s+training\s+"
                       r"(?:set|data)\b|\btraining\s+set['’]s\s+\w+")
_WATCH = re.compile(r"(?i)\b(?:monitor\w*|watch\w*|keep\w*\s+an\s+eye|track\w*|look\w*\s+at|check\w*|follow\w*)\b")
_CHOOSE = re.compile(r"(?i)\b(?:stop\w*|early[- ]stopping|hyperparameters?|tun(?:e|es|ed|ing)|pick\w*|choos\w*|"
                     r"select\w*|epochs?)\b")
_ASIDE = re.compile(r"(?i)\b(?:not|no|never|validation|held[- ]out|dev|unseen|instead|rather|alone|mistake|wrong|"
                    r"misleading|while|whereas|but)\b|n't\b")


def watched(sentence: str, points: Sequence[str]) -> list[tuple[int, str]]:
    """The point and the clause where the sentence stops or chooses by watching the training set's score, against a
    point that tunes or stops on the validation set."""
    point = next((p for p, text in enumerate(points) if _TUNED.search(text)), None)
    if point is None or _ASIDE.search(sentence) or not (_TRAINING.search(sentence) and _CHOOSE.search(sentence)):
        return []
    for clause in re.split(r"[;:]", sentence):
        if _TRAINING.search(clause) and _WATCH.search(clause):
            return [(point, clause.strip())]
    return []
