"""An answer's sentence in the words of its entry before it is compared: spoken formulas, acronyms, "it".

"TP over TP plus FP" says "true positives divided by true positives plus false positives", which is how the key point
("Precision is true positives divided by all predicted positives") puts it, but the embedding sees neither the
acronyms nor the operator. So the rubric reads: formula symbols and spoken operators in one form ("/", "over" and
"divided by" as "divided by"; "+" as "plus"; "*", "x" and "times" as "times"), an acronym the entry spells out but never
writes as its words ("TP": "true positives"), and "it" as the term of the question the answer named last ("Set it too
large": "Set the learning rate too large"). The user's words are kept for quotes and evidence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

_WORDS = re.compile(r"[A-Za-z][A-Za-z-]*")
# Words that never open or sit inside a spelled-out acronym ("the proportion" is no "TP").
_FUNCTION = frozenset({"a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "by", "for", "with", "from", "is",
                       "are", "was", "were", "be", "it", "its", "this", "that", "as", "so", "than", "then", "not", "no",
                       "all", "how", "what", "when", "which", "who", "will", "can", "do", "does", "if", "but"})
_ACRONYM = re.compile(r"\b([A-Z]{2,5})(s?)\b")
# An operand of a formula: an acronym, a one-letter variable, a number, or a bracket opening one.
_OPERAND = r"(?:\(?\s*(?:[A-Z]{1,5}s?|[a-z]|\d+(?:\.\d+)?)\b)"
_SPOKEN = (
    # "TP/(TP+FP)" and "a / b", not "a /26 network" (a prefix length: the slash opens it, it divides nothing)
    (re.compile(r"(?<=[\w)])(?:/|\s+/\s+)(?=[\w(])"), " divided by "),
    (re.compile(r"(?<=[\w)])\s*\+\s*(?=[\w(])"), " plus "),
    (re.compile(r"(?<=[\w)])\s*[*×]\s*(?=[\w(])"), " times "),
    (re.compile(r"(?<=[A-Z0-9)])\s+over\s+(?=" + _OPERAND + ")"), " divided by "),
)
# "it" that stands for nothing ("it is important to", "it's worth noting that"): left as it is.
_EXPLETIVE = re.compile(r"(?i)^\s*(?:is|'s|’s|was)\s+(?:\w+\s+){0,2}?(?:to|that)\b")
_IT = re.compile(r"\b[Ii]t\b(?!['’])")


@dataclass(frozen=True)
class Wording:
    """What an entry spells out: acronyms with their words, and the terms of its question, longest first."""

    acronyms: dict[str, str]
    terms: tuple[str, ...]


def wording(question: str, texts: Sequence[str], terms: Sequence[str]) -> Wording:
    """An entry's wording: the runs of two to five content words whose initials are not written as a word of the entry,
    nor their plural ("RNNs"): the most frequent run for each; and the question's terms of three letters or more."""
    runs: Counter[tuple[str, str]] = Counter()
    written = {w for text in [question, *texts] for w in _WORDS.findall(text)}
    for text in [question, *texts]:
        for sentence in re.split(r"[.;:!?()\n]", text):
            words = _WORDS.findall(sentence)
            for n in range(2, 6):
                for i in range(len(words) - n + 1):
                    run = words[i:i + n]
                    if any(w.casefold() in _FUNCTION for w in run):
                        continue
                    initials = "".join(w[0] for w in run).upper()
                    if initials not in written and initials + "s" not in written:
                        runs[(initials, " ".join(w.casefold() for w in run))] += 1
    acronyms: dict[str, str] = {}
    for (initials, phrase), _ in runs.most_common():
        acronyms.setdefault(initials, phrase)
    longest = sorted({t for t in terms if len(t) > 2}, key=len, reverse=True)
    return Wording(acronyms, tuple(longest))


def normalise(sentence: str, wording: Wording, before: str = "") -> str:
    """The sentence in the entry's words; before: the answer up to this sentence (where "it" finds its term)."""
    text = sentence
    for pattern, words in _SPOKEN:
        text = pattern.sub(words, text)
    text = _ACRONYM.sub(lambda m: _expand(m, wording), text)
    return _resolve(text, wording, before)


def _expand(match: re.Match[str], wording: Wording) -> str:
    """An acronym as the words the entry spells it out with (a plural "TPs" as plural words)."""
    phrase = wording.acronyms.get(match.group(1))
    if phrase is None:
        return match.group()
    return phrase + ("s" if match.group(2) and not phrase.endswith("s") else "")


def _resolve(text: str, wording: Wording, before: str) -> str:
    """Each referring "it" as the question's term named last before it, in this sentence or the ones before."""
    out, last = [], 0
    for match in _IT.finditer(text):
        if _EXPLETIVE.match(text[match.end():]):
            continue
        term = _last_term(before + " " + text[:match.start()], wording.terms)
        if term:
            out += [text[last:match.start()], "the " + term]
            last = match.end()
    return "".join(out) + text[last:] if out else text


def _last_term(text: str, terms: Sequence[str]) -> str | None:
    """The question's term whose last mention in the text ends latest (the longest of those ending there)."""
    lowered = text.casefold()
    best, where = None, -1
    for term in terms:
        at = max((m.end() for m in re.finditer(r"\b" + re.escape(term.casefold()) + r"\b", lowered)), default=-1)
        if at > where:
            best, where = term, at
    return best
