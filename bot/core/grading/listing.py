"""An answer that only lists terms ("Chain rule, gradients, weights, learning rate, loss, ...") names the topic's
words without saying anything of them: it matched five of six backpropagation points in part and scored 54 (a new
user's trial). It is capped like a one-word answer, and told why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.grading.parse import Parser

MIN_ITEMS = 5        # fewer terms is a short answer, which the rubric already grades
SHORT_ITEM = 3       # words: "learning rate", "layer by layer"
_SPLIT = re.compile(r"[,;\n•·]|\s[-–]\s|\band\b|\bor\b")


def items(sentences: Sequence[str]) -> list[str]:
    """The answer cut at commas, semicolons, bullets and "and"/"or"."""
    return [p for part in _SPLIT.split(" ".join(sentences)) if (p := part.strip(" .:!?\t"))]


def listed(sentences: Sequence[str], parser: Parser) -> bool:
    """Whether the answer is a list of terms: five or more short items, hardly any with a verb (a terse answer that
    says things, "zeroes units, scales activations, reduces overfitting", has one in most)."""
    parts = items(sentences)
    if len(parts) < MIN_ITEMS or sum(len(p.split()) <= SHORT_ITEM for p in parts) < 0.8 * len(parts):
        return False
    with_verb = sum(any(t.pos_ in ("VERB", "AUX") for t in doc) for doc in parser.parse(parts))
    return with_verb <= 0.2 * len(parts)
