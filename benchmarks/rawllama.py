"""The baseline: a prompt sent straight to llama_cpp.Llama.create_completion, cold context."""

from __future__ import annotations

import time
from typing import Any

from bot.core.llm.base import ChatPrompt
from bot.core.llm.llama import LlamaCppLLM


def render(llm: LlamaCppLLM, prompt: ChatPrompt) -> str:
    """The prompt as one string, through the model's own chat template."""
    head, tail = llm._template.split(prompt.system)
    return head + prompt.user + tail


def raw_run(llm: LlamaCppLLM, prompt: ChatPrompt, max_tokens: int, schema: dict[str, Any] | None) -> dict[str, float]:
    """Time to first token, total and tokens/s of create_completion (same sampling and grammar as the coach)."""
    raw = llm._llm
    grammar = llm._grammar(schema) if schema is not None else None
    text = render(llm, prompt)
    raw.reset()  # cold prefix: nothing of the prompt is reused
    start = time.perf_counter()
    first = 0.0
    n = 0
    for chunk in raw.create_completion(text, max_tokens=max_tokens, temperature=llm.temperature, top_k=40,
                                       top_p=0.95, min_p=0.05, repeat_penalty=1.0, seed=llm.seed, stream=True,
                                       grammar=grammar):
        if chunk["choices"][0]["text"]:  # type: ignore[index]
            n += 1
            first = first or time.perf_counter() - start
    total = time.perf_counter() - start
    return {"ttft": first, "total": total, "tokens": n, "tps": (n - 1) / (total - first) if n > 1 else 0.0}
