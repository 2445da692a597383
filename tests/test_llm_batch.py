"""Several users decoded in one llama.cpp batch (tiny random model): same text as alone, shared prefixes, labels
written by code, one failing request never stops the others, and the worker batches what arrives together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.llm.base import ChatPrompt, Request
from bot.core.llm.llama import LlamaCppLLM
from bot.core.llm.worker import LLMWorker

SYSTEM = "You are an interview coach."


def prompt(n: int, answer: str = "Dropout turns off random neurons.", labels: tuple[str, ...] = ()) -> ChatPrompt:
    fixed = f"Question {n}: what is dropout?\nReference: units are dropped at random while training.\n"
    return ChatPrompt(SYSTEM, fixed, f"<answer>\n{answer} ({n})\n</answer>", labels)


@pytest.fixture(scope="module")
def llm(tiny_gguf: Path) -> Iterator[LlamaCppLLM]:
    model = LlamaCppLLM(tiny_gguf, n_threads=1, n_ctx=512, seed=3, parallel=4, temperature=0.0)
    yield model
    model.close()


def alone(llm: LlamaCppLLM, prompts: list[ChatPrompt], max_tokens: int = 24) -> list[str]:
    out = []
    for p in prompts:
        llm.reset()
        out.append(llm.generate(p, max_tokens=max_tokens))
    return out


def test_a_batch_writes_what_each_prompt_writes_alone(llm: LlamaCppLLM) -> None:
    prompts = [prompt(i) for i in range(4)]
    expected = alone(llm, prompts)
    llm.reset()
    requests = [Request(p, max_tokens=24) for p in prompts]
    llm.generate_many(requests)
    assert [r.error for r in requests] == [None] * 4
    assert [r.text for r in requests] == expected
    assert all(r.stats.batched_with == 3 for r in requests)  # decoded in the same steps


def test_the_shared_context_skips_other_users_cells_with_flash_attention(llm: LlamaCppLLM) -> None:
    # In one unified cache, plain attention would pay for every user's cells on each token; flash attention skips
    # the masked ones. The batch above wrote what each prompt writes alone, with it on.
    assert llm.describe()["flash_attn"] is True


def test_more_requests_than_slots_join_as_slots_free(llm: LlamaCppLLM) -> None:
    prompts = [prompt(10 + i) for i in range(7)]
    expected = alone(llm, prompts, 8)
    waiting = [Request(p, max_tokens=8) for p in prompts[2:]]
    first = [Request(p, max_tokens=8) for p in prompts[:2]]
    done: list[int] = []
    for i, r in enumerate(first + waiting):
        r.done = lambda request, i=i: done.append(i)
    llm.generate_many(first, more=lambda: waiting.pop(0) if waiting else None)
    assert sorted(done) == list(range(7))
    assert [r.text for r in first] == expected[:2]


def test_a_prompt_reuses_the_prefix_another_slot_holds(llm: LlamaCppLLM) -> None:
    llm.reset()
    a, b = prompt(20, "first answer"), prompt(20, "another answer")
    requests = [Request(a, max_tokens=4), Request(b, max_tokens=4)]
    llm.generate_many(requests)
    fixed_tokens = llm.count_tokens(a.fixed)
    assert requests[1].stats.reused_tokens >= fixed_tokens  # the question's prefix was evaluated once


def test_labels_are_written_by_code_at_each_line_start(llm: LlamaCppLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    # A random model rarely writes newlines: every fourth token ends a line here.
    count = iter(range(10_000))
    monkeypatch.setattr(llm, "_ends_line", lambda token: next(count) % 4 == 3)
    labels = ("Right:", "Missing:", "Follow-up:")
    pieces: list[str] = []
    text = llm.generate(prompt(30, labels=labels), max_tokens=60, on_token=pieces.append)
    assert text.startswith("Right:") and "".join(pieces) == text
    starts = [text.index(label) for label in labels]
    assert starts == sorted(starts)
    stats = llm.last_stats
    assert stats.forced_tokens == sum(llm.count_tokens(label) for label in labels[1:])
    assert stats.generated_tokens == 12  # four tokens a line, three lines: the last newline ends it


def test_one_failing_request_does_not_stop_the_others(llm: LlamaCppLLM) -> None:
    def boom(piece: str) -> None:
        raise RuntimeError("the adapter broke")

    requests = [Request(prompt(40), max_tokens=6, on_token=boom), Request(prompt(41), max_tokens=6)]
    llm.generate_many(requests)
    assert requests[0].error is not None and requests[1].error is None and requests[1].text


def test_the_worker_decodes_users_who_answer_together_in_one_batch(tiny_gguf: Path) -> None:
    model = LlamaCppLLM(tiny_gguf, n_threads=1, n_ctx=512, seed=3, parallel=3, temperature=0.0)
    expected = alone(model, [prompt(50 + i) for i in range(6)], 16)
    model.reset()
    worker = LLMWorker(model)
    gate = threading.Event()
    worker.submit("blocker", lambda llm: gate.wait(5))  # the six arrive while the model is busy
    results: dict[int, str] = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(
        i, worker.generate(prompt(50 + i), max_tokens=16, user_key=f"u{i}"))) for i in range(6)]
    for thread in threads:
        thread.start()
    while worker.pending()["jobs"] < 6:
        threading.Event().wait(0.01)
    gate.set()
    for thread in threads:
        thread.join(60)
    assert [results[i] for i in range(6)] == expected
    assert model.last_stats.batched_with >= 1
    worker.close()
    model.close()


def test_prewarm_of_a_typed_answer_leaves_only_the_rest_to_evaluate(llm: LlamaCppLLM) -> None:
    llm.reset()
    typed = ChatPrompt(SYSTEM, prompt(60).fixed, "<answer>\nDropout turns off random")
    assert llm.prewarm(typed, session="typing")
    llm.prewarm(prompt(61), session="someone-else")  # another user's prefix takes the live slots meanwhile
    final = prompt(60, "Dropout turns off random neurons while training.")
    llm.generate(final, max_tokens=2, session="typing")
    ahead = llm.count_tokens(typed.fixed) + llm.count_tokens(typed.variable)
    stats = llm.last_stats
    assert stats.restored_session and stats.reused_tokens >= ahead - 2  # the typed text was not evaluated again
    assert stats.evaluated_tokens <= stats.prompt_tokens - ahead + 2
