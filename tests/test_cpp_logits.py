"""The verifier benchmark's door to llama.cpp: label logits after a prompt whose held prefix is reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.llm import cpp


def _load(path: Path):
    return cpp.load(path, n_ctx=256, n_threads=1, n_gpu_layers=0, seed=0, n_seq=1)


def test_a_reused_prefix_evaluates_only_the_new_tokens_and_gives_the_same_logits(tiny_gguf: Path) -> None:
    """What the few-shot verifier relies on: the shared prefix is not evaluated again, and the next-token logits
    after prefix + pair are those a fresh context computes from scratch."""
    warm, fresh = _load(tiny_gguf), _load(tiny_gguf)
    prefix = list(cpp.tokens_of(warm, "Fact: the index speeds up reads.\nStatement:", special=False))
    pair = list(cpp.tokens_of(warm, " the index slows reads.", special=False))
    ids = list(range(10))
    assert cpp.eval_reusing(warm, prefix) == len(prefix)
    cpp.eval_reusing(warm, prefix + list(cpp.tokens_of(warm, " something else first.", special=False)))
    assert cpp.eval_reusing(warm, prefix + pair) == len(pair)
    cpp.eval_reusing(fresh, prefix + pair)
    assert cpp.last_logits(warm, ids) == pytest.approx(cpp.last_logits(fresh, ids), rel=1e-3, abs=1e-4)


def test_the_same_prompt_twice_still_evaluates_its_last_token(tiny_gguf: Path) -> None:
    """A prompt held whole is re-evaluated at its last token, so the logits read belong to it."""
    llm = _load(tiny_gguf)
    tokens = cpp.tokens_of(llm, "Fact: a cache serves repeats faster.", special=False)
    cpp.eval_reusing(llm, tokens)
    first = cpp.last_logits(llm, [1, 2, 3])
    assert cpp.eval_reusing(llm, tokens) == 1
    assert cpp.last_logits(llm, [1, 2, 3]) == pytest.approx(first, rel=1e-3, abs=1e-4)
