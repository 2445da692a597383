"""Grammar-constrained sampling that checks the likeliest tokens first, as llama.cpp's own server does.

llama-cpp-python applies a grammar to every token of the vocabulary (151,646 for Qwen) at every step, which makes
constrained decoding 2.5 times slower than free decoding on two cores. Here the grammar first filters only the TOP
likeliest tokens; only when none of them fits does it run over the whole vocabulary. The usual sampling chain
(top-k, top-p, min-p, temperature) then runs on what is left, so the choice is the same whenever the tokens it
would keep are among the TOP likeliest (at temperature 0.2 and top-k 40, nearly always).
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

TOP = 64


class TopGrammar:
    """A llama.cpp grammar sampler applied to the TOP likeliest candidates first; accept() each token taken."""

    def __init__(self, vocab: Any, gbnf: str, root: str = "root", top: int | None = None) -> None:
        import llama_cpp

        self._llama_cpp = llama_cpp
        self.sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode("utf-8"), root.encode("utf-8"))
        if not self.sampler:
            raise ValueError("llama.cpp could not parse the grammar.")
        self.top = top or TOP
        self._small = (llama_cpp.llama_token_data * self.top)()
        self._small_view = np.ctypeslib.as_array(self._small)
        self._array = llama_cpp.llama_token_data_array(data=self._small, size=self.top, selected=-1, sorted=False)
        self.full_checks = 0  # steps where no likely token fitted and the whole vocabulary was checked

    def apply(self, cur_p: Any) -> None:
        """Keep only grammar-valid candidates, looking at the likeliest TOP first (called by llama.cpp's chain)."""
        candidates = cur_p.contents
        size = int(candidates.size)
        buffer = (self._llama_cpp.llama_token_data * size).from_address(ctypes.addressof(candidates.data.contents))
        view = np.ctypeslib.as_array(buffer)
        k = min(self.top, size)
        best = np.argpartition(-view["logit"], k - 1)[:k] if k < size else np.arange(size)
        small = self._small_view[:k]
        small[:] = view[best]
        self._array.size, self._array.selected, self._array.sorted = k, -1, False
        self._llama_cpp.llama_sampler_apply(self.sampler, ctypes.byref(self._array))
        fits = np.isfinite(small["logit"])
        if fits.any():
            kept = small[fits]
            view[: len(kept)] = kept
            candidates.size, candidates.selected, candidates.sorted = len(kept), -1, False
            return
        self.full_checks += 1
        self._llama_cpp.llama_sampler_apply(self.sampler, cur_p)

    def accept(self, token: int) -> None:
        """Advance the grammar past a token that was taken."""
        self._llama_cpp.llama_sampler_accept(self.sampler, token)

    def close(self) -> None:
        """Free the llama.cpp sampler."""
        if self.sampler:
            self._llama_cpp.llama_sampler_free(self.sampler)
            self.sampler = None


def chain_with(llm: Any, checker: TopGrammar, **params: Any) -> Any:
    """Llama._init_sampler's chain (params as it gets them) with its grammar step replaced by checker.apply, first."""
    from llama_cpp import _internals

    sampler = _internals.LlamaSampler()
    sampler.add_custom(checker.apply)
    temp = params.get("temp", 0.8)
    if temp <= 0:
        sampler.add_greedy()
        return sampler
    sampler.add_top_k(params.get("top_k", 40))
    sampler.add_typical(params.get("typical_p", 1.0), 1)
    sampler.add_top_p(params.get("top_p", 0.95), 1)
    sampler.add_min_p(params.get("min_p", 0.05), 1)
    sampler.add_temp(temp)
    sampler.add_dist(llm._seed)
    return sampler
