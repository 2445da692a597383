"""The baseline: a prompt sent straight to llama_cpp.Llama.create_completion, unconstrained, cold context."""

from __future__ import annotations

import time

from bot.core.llm.base import ChatPrompt
from bot.core.llm.llama import LlamaCppLLM


def render(llm: LlamaCppLLM, prompt: ChatPrompt) -> str:
    """The prompt as one string, through the model's own chat template (the reply's first label included)."""
    head, tail = llm._template.split(prompt.system)
    return head + prompt.user + tail + (prompt.labels[0] if prompt.labels else "")


def raw_run(llm: LlamaCppLLM, prompt: ChatPrompt, max_tokens: int) -> dict[str, float]:
    """Time to first token, total and tokens/s of create_completion: the same model, prompt, sampling and token
    budget as the coach, no grammar, nothing of the prompt cached."""
    raw = llm._llm
    text = render(llm, prompt)
    llm.reset()  # cold prefix: nothing of the prompt is reused (the coach's cached sequences are dropped)
    start = time.perf_counter()
    first = 0.0
    n = 0
    try:
        for chunk in raw.create_completion(text, max_tokens=max_tokens, temperature=llm.temperature, top_k=40,
                                           top_p=0.95, min_p=0.05, repeat_penalty=1.0, seed=llm.seed, stream=True):
            if chunk["choices"][0]["text"]:  # type: ignore[index]
                n += 1
                first = first or time.perf_counter() - start
    finally:
        llm.reset()  # llama-cpp-python used the context behind the coach's back
    total = time.perf_counter() - start
    return {"ttft": first, "total": total, "tokens": n, "tps": (n - 1) / (total - first) if n > 1 else 0.0}
