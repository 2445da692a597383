"""Names said short: a name's initials ("NAT"), or its words cut short and run together ("LayerNorm")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial


def initials(words: Sequence[str]) -> str:
    """The first letters of words, lower-cased: "nat" for "Network Address Translation"."""
    return "".join(w[0] for w in words if w).casefold()


def shortens(short: str, words: Sequence[str]) -> bool:
    """Whether a name is other words cut short and run together, each word kept from its start: "AWS" for "Amazon
    Web Services", "LayerNorm" for "Layer Normalization", "Norm" for "Normalization" (a plural "s" aside)."""
    full = [w.casefold() for w in words if w]
    name = re.sub(r"[\s-]", "", short).casefold()
    if not full or not name or name == "".join(full) or (len(full) == 1 and len(name) < 3):
        return False

    def fits(at: int, k: int, text: str) -> bool:
        if at == len(text) or k == len(full):
            return at == len(text) and k == len(full)
        return any(text[at:at + n] == full[k][:n] and fits(at + n, k + 1, text)
                   for n in range(1, min(len(full[k]), len(text) - at) + 1))

    return fits(0, 0, name) or (name.endswith("s") and fits(0, 0, name[:-1]))


# "Machine learning (ML)": a name spelled out, then its initials in brackets
_SPELLED = re.compile(r"\b((?:[A-Za-z][a-z]+[ -]){1,4}[A-Za-z][a-z]+)\s+\(([A-Z]{2,5})s?\)")


def spelled_out(texts: Sequence[str]) -> dict[str, str]:
    """The initials these texts define and the words they stand for: {"ML": "Machine learning"}."""
    out: dict[str, str] = {}
    for text in texts:
        for m in _SPELLED.finditer(text):
            words = m.group(1).split()
            short = m.group(2)
            # the initials name the last words of the phrase: "is a subset of Machine Learning (ML)"
            for k in range(len(words)):
                if initials(re.split(r"[ -]", " ".join(words[k:]))) == short.casefold():
                    out.setdefault(short, " ".join(words[k:]))
                    break
    return out


def _said(words: str, found: re.Match[str]) -> str:
    """Words standing for initials, capitalized only as a sentence's first word."""
    return words.capitalize() if found.start() == 0 else words.lower()


def expanded(sentence: str, spelled: dict[str, str]) -> str:
    """The sentence with each defined set of initials said in full ("AI is a subset of ML" → "Artificial
    intelligence is a subset of Machine learning"), the bracketed ones after their words dropped."""
    for short, words in spelled.items():
        sentence = re.sub(rf"\s*\({short}s?\)", "", sentence)
        # said in lower case, as the points say it, but for a sentence's first word
        sentence = re.sub(rf"\b{short}\b", partial(_said, words), sentence)
    return sentence


def used(sentence: str, spelled: dict[str, str]) -> set[str]:
    """The defined initials a sentence uses, bare or bracketed."""
    return {short for short in spelled if re.search(rf"\b{short}s?\b", sentence)}
