"""Values bound to a thing: "zero mean and unit variance", "a mean of one", "the outputs sum to 1".

The range and number checks compare the numbers of a sentence with a point's as a set, so "a mean of one and a
variance of zero" against "zero mean and unit variance" says the same numbers and passes. Here each number (digits or
a number word) is bound to the noun it is said of, by three plain patterns: a number before its noun ("zero mean"),
a noun of a number ("a mean of one", "the square root of two") and a total ("sum to 1", "add up to 10"). A sentence
contradicts a point when it binds a noun the point binds to another value, and never binds it to the point's value.
"""

from __future__ import annotations

import re

from bot.core.grading.values import numbers

_WORDS = {"zero": 0.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0, "seven": 7.0,
          "eight": 8.0, "nine": 9.0, "ten": 10.0, "half": 0.5, "unit": 1.0}
_NUM = r"(?:\d+(?:\.\d+)?|zero|one|two|three|four|five|six|seven|eight|nine|ten|half|unit)"
# "one half" is a half; "a half" too.
_HALF = re.compile(r"\b(?:one|a)\s+half\b", re.IGNORECASE)
_NOUN = r"([a-z][a-z-]{2,})"
# a number after a slash is notation, not a count ("/26 subnets" is a prefix length, "1/2" a fraction)
_BEFORE = re.compile(rf"(?<![\w./-])({_NUM})\s+{_NOUN}\b", re.IGNORECASE)
_OF = re.compile(rf"\b{_NOUN}\s+of\s+(?:exactly\s+|about\s+|roughly\s+)?({_NUM})\b(?![\w.-]*\d)(?!\s+of\b)",
                 re.IGNORECASE)
_TOTAL = re.compile(rf"\b(sum|sums|summing|add\s+up|adds\s+up|adding\s+up|total|totals)\s+(?:exactly\s+)?to\s+"
                    rf"({_NUM})\b(?![\w.-]*\d)", re.IGNORECASE)
# Words after a number that are no noun it is said of ("one of", "two or three", "one by one").
_NOT_NOUNS = frozenset({"of", "or", "and", "by", "to", "more", "less", "than", "per", "the", "a", "an", "is", "are",
                        "at", "in", "on", "for", "with", "another", "other", "others", "way", "ways", "time", "times",
                        "step", "steps", "thing", "things", "point", "side", "reason", "example", "hand", "kind",
                        "type", "day", "days", "minute", "minutes", "second", "seconds", "hour", "hours", "year",
                        "years", "over", "divided", "plus", "minus", "squared", "cubed"})
_TOTALS = "sum"
# "one node per input feature" is a rate: "12 nodes, one per feature" says the same of 12 features, while "28 nodes,
# one per row of pixels" gives the rate of something else
_RATE = re.compile(r"\s*(?:per|for\s+each|for\s+every)\s+([a-z-]+(?:\s+[a-z-]+)?)", re.IGNORECASE)
_PER = re.compile(rf"\b({_NUM})(?:\s+[a-z-]+)?\s*,?\s*(?:per|for\s+each|for\s+every)\s+([a-z-]+(?:\s+[a-z-]+)?)",
                  re.IGNORECASE)


def _per(text: str, end: int) -> set[str]:
    """The words a rate right after `end` is counted by ("per input feature" -> input, feature), plurals folded."""
    m = _RATE.match(text, end)
    return {_noun(w) for w in m.group(1).split() if len(w) > 2} - _STOP if m else set()


def _rates(text: str) -> set[tuple[str, float]]:
    """Every (word a rate of the text is counted by, the rate): "two nodes for every feature" -> (feature, 2)."""
    return {(_noun(w), _value(m.group(1))) for m in _PER.finditer(_HALF.sub("half", text))
            for w in m.group(2).split() if len(w) > 2 and w.casefold() not in _STOP}


def _value(word: str) -> float:
    """A number word or digits as a value."""
    word = word.casefold()
    return _WORDS[word] if word in _WORDS else float(word)


def _noun(word: str) -> str:
    """A noun without its plural ending, lower case."""
    word = word.casefold()
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def bindings(text: str) -> list[tuple[str, float, tuple[int, int]]]:
    """Each (noun, value, span) the text binds: "zero mean" -> ("mean", 0.0)."""
    text = _HALF.sub(lambda m: "half".rjust(len(m.group())), text)
    out: list[tuple[str, float, tuple[int, int]]] = []
    for m in _BEFORE.finditer(text):
        noun = m.group(2).casefold()
        # "unit" only counts before a noun it measures ("unit variance"), never as a noun of its own
        if noun not in _NOT_NOUNS and not (m.group(1).casefold() == "unit" and noun in _WORDS):
            out.append((_noun(noun), _value(m.group(1)), m.span()))
    counted = {m.start(1) for m in _BEFORE.finditer(text) if m.group(2).casefold() not in _NOT_NOUNS}
    for m in _OF.finditer(text):
        # "networks of 256 addresses": the number counts the noun after it, not the one before "of"
        if m.group(1).casefold() not in _NOT_NOUNS and m.group(2).casefold() != "unit" and m.start(2) not in counted:
            out.append((_noun(m.group(1)), _value(m.group(2)), m.span()))
    for m in _TOTAL.finditer(text):
        if m.group(2).casefold() != "unit":
            out.append((_TOTALS, _value(m.group(2)), m.span()))
    return out


_WORD = re.compile(r"[a-z]{3,}")
_STOP = frozenset({"the", "and", "its", "their", "each", "only", "can", "are", "has", "have", "for", "with", "that",
                   "this", "from", "into", "than", "then", "all", "any", "per", "not", "but", "was", "were", "been"})


def _context(text: str, span: tuple[int, int]) -> set[str]:
    """The words of the clause around a span (between punctuation or brackets), plurals folded."""
    start = max(text.rfind(mark, 0, span[0]) for mark in ",;:.()") + 1
    ends = [e for e in (text.find(mark, span[1]) for mark in ",;:.()") if e >= 0]
    part = text[start:min(ends) if ends else len(text)].casefold()
    found = {w for w in _WORD.findall(part) if w not in _STOP and w not in _WORDS}
    return found | {_noun(w) for w in found}


def binding_conflict(sentence: str, point: str) -> tuple[int, int] | None:
    """The sentence's words that bind a noun of the point to another value ("a mean of one" for "zero mean"), when
    the sentence never gives the point's value for that noun."""
    theirs: dict[str, set[float]] = {}
    words = {f for w in _WORD.findall(sentence.casefold()) for f in (w, _noun(w))}
    rated = _rates(sentence)
    for noun, value, span in bindings(point):
        # Only a binding whose own clause the sentence speaks of: "two threads each hold a lock" says how many
        # threads a deadlock takes, not how many may hold a resource ("held by only one thread at a time").
        if _context(point, span) - {noun} & words and not {(w, value) for w in _per(point, span[1])} & rated:
            theirs.setdefault(noun, set()).add(value)
    if not theirs:
        return None
    mine = bindings(sentence)
    said = {(noun, value) for noun, value, _ in mine}
    compared = bool(_VERSUS.search(sentence))
    for noun, value, span in mine:
        if noun in theirs and value not in theirs[noun] and not any((noun, v) in said for v in theirs[noun]) \
                and not (compared and theirs[noun] <= _values(sentence)):
            return span
    return None


# "one round trip in 1.3 versus two in 1.2": both values, set against each other
_VERSUS = re.compile(r"\b(?:versus|vs\.?|compared (?:to|with)|as against|whereas)\b", re.IGNORECASE)


def _values(text: str) -> set[float]:
    """Every number a text gives, in digits or in words."""
    found = {_WORDS[w] for w in re.findall(r"[a-z]+", text.casefold()) if w in _WORDS and w != "unit"}
    return found | set(numbers(text))
