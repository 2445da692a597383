"""Words that name the area of a key point without stating it: for hints on decks without probes."""

from __future__ import annotations

import re

from bot.core.bank import Entry

_STOP = frozenset({"a", "an", "the", "and", "or", "but", "if", "then", "than", "so", "of", "to", "in", "on", "at",
    "by", "for", "with", "from", "into", "onto", "over", "under", "about", "as", "is", "are", "was", "were", "be",
    "been", "being", "it", "its", "this", "that", "these", "those", "which", "who", "whom", "what", "when", "where",
    "why", "how", "can", "could", "may", "might", "must", "shall", "should", "will", "would", "do", "does", "did",
    "done", "has", "have", "had", "having", "not", "no", "only", "also", "more", "most", "less", "least", "very",
    "each", "every", "any", "all", "some", "such", "same", "other", "others", "both", "either", "neither", "one",
    "two", "many", "much", "few", "their", "there", "they", "them", "he", "she", "we", "you", "your", "our", "his",
    "her", "too", "just", "well", "used", "use", "uses", "using", "make", "makes", "made", "give", "gives",
    "given", "get", "gets", "between", "across", "while", "during", "after", "before", "because", "through",
    "whether", "often", "usually", "typically", "rather", "instead", "still", "even", "like"})
# Generic verbs and adjectives: they name no area of a point.
_VAGUE = frozenset({"keeps", "keep", "supports", "lets", "let", "offer", "offers", "decides", "provides", "helps",
    "allows", "means", "becomes", "takes", "shows", "tries", "needs", "need", "new", "large", "regular", "previous",
    "next", "easy", "easily", "common", "simple", "good", "better", "best", "high", "low", "different", "similar",
    "specific", "certain", "various", "whole", "full", "main", "key", "important", "typical", "standard",
    "sensible", "own", "way", "ways", "thing", "things", "part", "parts", "much", "enough", "works", "work"})


def _salience(word: str) -> float:
    """How well a word names an area: names and acronyms first, then long nouns; adverbs and verb forms last."""
    if any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word):
        return 20.0
    return len(word) - (8 if word.endswith("ly") else 3 if word.endswith(("ed", "ing", "es")) else 0)


def keywords(point: str, avoid: str = "", limit: int = 2) -> list[str]:
    """The point's most telling words (not in avoid, not stopwords), in the point's order: names an area."""
    seen = set(re.findall(r"[a-z0-9-]+", avoid.casefold()))
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9-]+", point) if w.casefold() not in _STOP | _VAGUE | seen]
    ranked = sorted(dict.fromkeys(words), key=_salience, reverse=True)[:limit]
    return [w for w in dict.fromkeys(words) if w in ranked]


def area(entry: Entry, index: int, answer: str = "", limit: int = 2) -> str:
    """Words that name the area of a key point without stating it."""
    others = " ".join(p for i, p in enumerate(entry.points) if i != index)
    words = keywords(entry.points[index], f"{entry.question} {answer} {others}", limit) or \
        keywords(entry.points[index], entry.question, limit) or keywords(entry.points[index], "", limit)
    return " and ".join(w if w.isupper() else w.lower() for w in words) or "the part you left out"
