"""The coach with the model: answer → score, → first character of prose (prefix prewarmed; whole answer at once,
or typed line by line in the terminal), → whole critique; the same prompts straight through llama-cpp-python
(unconstrained, cold); and many users answering at once."""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from benchmarks.common import labeled_pairs, summary
from benchmarks.rawllama import raw_run
from bot.core.bank import Entry
from bot.core.grading import critique as cq
from bot.core.llm.llama import LlamaCppLLM
from bot.core.llm.worker import LLMWorker
from bot.core.replies import Action, ReplyKind, Request, UserRef
from bot.core.runtime import Runtime
from bot.core.text import split_sentences

_ids = itertools.count()


@dataclass
class Timing:
    """Seconds from the answer to each thing the user sees."""

    score: float = 0.0
    first_token: float = 0.0
    critique: float = 0.0
    by_model: bool = False
    tokens_per_s: float = 0.0
    generated: int = 0
    prewarm: float = 0.0
    typed: bool = False
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def cases(runtime: Runtime, count: int) -> list[tuple[Entry, str]]:
    """`count` labeled answers (cycled) that the rubric does not flag, so each gets a critique."""
    usable = [(e, a) for e, a in labeled_pairs(runtime.bank) if not runtime.grader.rubric_grade(e, a).flagged]
    return [usable[i % len(usable)] for i in range(count)]


def show_question(runtime: Runtime, worker: LLMWorker, entry: Entry, group: str) -> tuple[UserRef, Future[bool]]:
    """A fresh user whose session shows `entry` (the coach queues the prewarm); the prewarm's future."""
    user = UserRef("bench", f"{group}-{next(_ids)}-{time.time_ns()}")
    runtime.store.get_or_create_user(user)
    session = runtime.store.create_session(user, [entry.id])
    runtime.coach.current(user)  # the question is shown: Coach → Runtime._prewarm → the worker's queue
    # The same prefix again, to get a future: it replaces the coach's queued prewarm or returns at once if done.
    return user, worker.prewarm(runtime.grader.fixed_prompt(entry), session=f"s{session.id}")


def type_answer(runtime: Runtime, worker: LLMWorker, user: UserRef, entry: Entry, text: str) -> None:
    """The terminal's path: the answer typed one sentence a line, each line evaluated before the next is typed
    (a person types a line in seconds; evaluating it takes a fraction of one)."""
    session = runtime.store.open_session(user)
    assert session is not None
    key = f"s{session.id}"
    typed: list[str] = []
    for sentence in split_sentences(text):
        typed.append(sentence)
        prompt = runtime.grader.typed_prompt(entry, "\n".join(typed), key)
        if prompt is not None:
            worker.prewarm(prompt, session=key).result(timeout=600)


def answer(runtime: Runtime, user: UserRef, text: str) -> Timing:
    """Answer through Coach.answer; when the score, the first character of prose and the critique arrive."""
    timing = Timing()
    started = time.perf_counter()
    shown: list[str] = []

    def on_token(piece: str) -> None:
        shown.append(piece)
        # The heading ("What went well:") comes with the first words; the first prose is what follows it.
        if not timing.first_token and "\n" in "".join(shown) and "".join(shown).split("\n", 1)[1].strip():
            timing.first_token = time.perf_counter() - started

    for reply in runtime.coach.act(Request(user, Action.ANSWER, text=text), on_token=on_token):
        if reply.kind is ReplyKind.SCORE and not timing.score:
            timing.score = time.perf_counter() - started
        elif reply.kind is ReplyKind.CRITIQUE:
            timing.critique = time.perf_counter() - started
            timing.by_model = bool(reply.data.get("llm"))
    return timing


def raw_baseline(runtime: Runtime, worker: LLMWorker, entry: Entry, text: str) -> dict[str, float]:
    """The coach's critique prompt for this answer, sent straight to llama-cpp-python on the worker thread."""
    grade = runtime.grader.rubric_grade(entry, text)
    assert grade.result is not None
    prompt = runtime.grader.critique_prompt(entry, text, grade)

    def job(llm: Any) -> dict[str, float]:
        assert isinstance(llm, LlamaCppLLM)
        return raw_run(llm, prompt, cq.MAX_TOKENS)

    return worker.submit("bench-raw", job).result()


def _stats(worker: LLMWorker, timing: Timing) -> Timing:
    llm = worker.llm
    assert isinstance(llm, LlamaCppLLM)
    stats = llm.last_stats
    timing.tokens_per_s, timing.generated = stats.tokens_per_s, stats.generated_tokens + stats.forced_tokens
    timing.extra = {"reused_tokens": stats.reused_tokens, "evaluated_tokens": stats.evaluated_tokens,
                    "ttft_model_s": round(stats.ttft_s, 3), "forced_tokens": stats.forced_tokens}
    return timing


def single_stream(runtime: Runtime, worker: LLMWorker, count: int) -> tuple[list[Timing], list[dict[str, float]]]:
    """Per answer: question shown → prewarm done → answer (whole, as from a chat), then the same answer typed line by
    line (the terminal), then the same prompt raw and cold; back to back, so all three meet the same load."""
    coach_runs, raw_runs = [], []
    for entry, text in cases(runtime, count):
        user, future = show_question(runtime, worker, entry, "single")
        started = time.perf_counter()
        future.result(timeout=600)
        prewarm = time.perf_counter() - started
        timing = _stats(worker, answer(runtime, user, text))
        timing.prewarm = prewarm
        coach_runs.append(timing)
        typist, future = show_question(runtime, worker, entry, "typed")
        future.result(timeout=600)
        type_answer(runtime, worker, typist, entry, text)
        typed = _stats(worker, answer(runtime, typist, text))
        typed.typed = True
        coach_runs.append(typed)
        raw_runs.append(raw_baseline(runtime, worker, entry, text))
    return coach_runs, raw_runs


def one_at_a_time(runtime: Runtime, worker: LLMWorker, pairs: list[tuple[Entry, str]]) -> list[Timing]:
    """The crowd's own answers sent one after another through the same coach (each question shown and prewarmed
    first, as in the crowd): the single stream the crowd is compared with, like for like."""
    out = []
    for entry, text in pairs:
        user, future = show_question(runtime, worker, entry, "alone")
        future.result(timeout=900)
        out.append(answer(runtime, user, text))
    return out


def crowd(runtime: Runtime, worker: LLMWorker, users: int) -> dict[str, Any]:
    """`users` threads, each its own session, answering at once through one Coach/LLMWorker; before them, the same
    answers one at a time (the single stream: same prompts, same token limit, the product's path, the same load)."""
    pairs = cases(runtime, users)
    alone = one_at_a_time(runtime, worker, pairs)
    alone_s = sum(t.critique for t in alone)
    shown = [(show_question(runtime, worker, e, "crowd"), a) for e, a in pairs]
    for (_, future), _ in shown:
        future.result(timeout=900)
    barrier = threading.Barrier(users + 1)
    results: list[Timing | None] = [None] * users

    def one(i: int, user: UserRef, text: str) -> None:
        barrier.wait()
        try:
            results[i] = answer(runtime, user, text)
        except Exception as exc:  # noqa: BLE001 - a failed user is counted, not fatal
            results[i] = Timing(error=f"{exc.__class__.__name__}: {exc}")

    threads = [threading.Thread(target=one, args=(i, u, a)) for i, ((u, _), a) in enumerate(shown)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - started
    stored = sum(len([a for a in runtime.store.attempts(u) if not a.skipped]) for (u, _), _ in shown)
    done = [r for r in results if r is not None and r.error is None]
    llm = worker.llm
    return {"users": users, "total_s": round(total, 2), "per_user_s": summary([r.critique for r in done], 3),
            "answers_sent": users, "attempts_stored": stored, "lost_answers": users - stored,
            "errors": [r.error for r in results if r is not None and r.error], "critiques_by_model":
            sum(r.by_model for r in done), "throughput_per_s": round(users / total, 4),
            "one_at_a_time_s": round(alone_s, 2), "one_at_a_time_by_model": sum(t.by_model for t in alone),
            "ratio_same_answers": round(alone_s / total, 3) if total else 0.0,
            "parallel": getattr(llm, "parallel", 1)}
