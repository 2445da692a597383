"""Names said short: a name's initials ("NAT"), or its words cut short and run together ("LayerNorm")."""

from __future__ import annotations

import re
from collections.abc import Sequence


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
