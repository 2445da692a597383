"""The claim-verifier candidate on a llama.cpp model (measured, not shipped): label logits, reused prefix."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import verifier_prompt as V
from bot.core.llm import cpp


class LlamaVerifier:
    """P(same / opposite / unrelated) from one forward pass per pair on its own small context."""

    def __init__(self, path: Path, *, n_threads: int, order: str = "fact_first", n_ctx: int = 2048,
                 llm: Any = None) -> None:
        self.llm = llm if llm is not None else cpp.load(path, n_ctx=n_ctx, n_threads=n_threads, n_gpu_layers=0,
                                                        seed=0, n_seq=1)
        self.order = order
        self.ids = [self._tokens(label)[0] for label in V.LABELS]
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("the label words share their first token on this model")
        self.evaluated = 0
        self._lock = threading.Lock()  # one Llama serves one call at a time

    def _tokens(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def prewarm(self) -> None:
        """Evaluate the few-shot prefix."""
        with self._lock:
            self.evaluated += cpp.eval_reusing(self.llm, self._tokens(V.prefix(self.order)))

    def judge(self, pairs: Sequence[tuple[str, str]]) -> list[V.Verdict]:
        """One verdict per (sentence, point)."""
        out = []
        with self._lock:
            for sentence, point in pairs:
                self.evaluated += cpp.eval_reusing(self.llm, self._tokens(V.prompt(point, sentence, self.order)))
                out.append(V.verdict(cpp.last_logits(self.llm, self.ids)))
        return out
