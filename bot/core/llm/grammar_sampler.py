"""Grammar-constrained sampling that checks the likeliest tokens first, as llama.cpp's own server does.

llama-cpp-python applies a grammar to every token of the vocabulary (151,646 for Qwen) at every step, which makes
constrained decoding 2.5 times slower than free decoding on two cores. Here the grammar first filters only the TOP
likeliest tokens; only when none of them fits does it run over the whole vocabulary. The usual sampling chain
(top-k, top-p, min-p, temperature) then runs on what is left, so the choice is the same whenever the tokens it
would keep are among the TOP likeliest (at temperature 0.2 and top-k 40, nearly always).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bot.core.llm import cpp

TOP = 64


class TopGrammar:
    """A llama.cpp grammar sampler applied to the TOP likeliest candidates first; accept() each token taken."""

    def __init__(self, vocab: Any, gbnf: str, root: str = "root", top: int | None = None) -> None:
        self.sampler = cpp.grammar_sampler(vocab, gbnf, root)
        self.top = top or TOP
        self._small, self._array = cpp.token_data(self.top)
        self._small_view = np.ctypeslib.as_array(self._small)
        self.full_checks = 0  # steps where no likely token fitted and the whole vocabulary was checked

    def apply(self, cur_p: Any) -> None:
        """Keep only grammar-valid candidates, looking at the likeliest TOP first (called by llama.cpp's chain)."""
        candidates, buffer = cpp.token_data_view(cur_p)
        view = np.ctypeslib.as_array(buffer)
        size = len(view)
        k = min(self.top, size)
        best = np.argpartition(-view["logit"], k - 1)[:k] if k < size else np.arange(size)
        small = self._small_view[:k]
        small[:] = view[best]
        self._array.size, self._array.selected, self._array.sorted = k, -1, False
        cpp.apply(self.sampler, self._array)
        fits = np.isfinite(small["logit"])
        if fits.any():
            kept = small[fits]
            view[: len(kept)] = kept
            candidates.size, candidates.selected, candidates.sorted = len(kept), -1, False
            return
        self.full_checks += 1
        cpp.apply(self.sampler, cur_p)

    def accept(self, token: int) -> None:
        """Advance the grammar past a token that was taken."""
        cpp.accept(self.sampler, token)

    def close(self) -> None:
        """Free the llama.cpp sampler."""
        if self.sampler:
            cpp.free(self.sampler)
            self.sampler = None
