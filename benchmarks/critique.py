"""The coach with the model: answer → score, → first critique token (prefix prewarmed), → whole critique;
the same prompts straight through llama-cpp-python (cold); and many users answering at once."""

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


def answer(runtime: Runtime, user: UserRef, text: str) -> Timing:
    """Answer through Coach.answer; when the score, the first critique token and the critique reply arrive."""
    timing = Timing()
    started = time.perf_counter()

    def on_token(piece: str) -> None:
        if not timing.first_token:
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
    schema, max_tokens = cq.generation_schema(), cq.MAX_TOKENS

    def job(llm: Any) -> dict[str, float]:
        assert isinstance(llm, LlamaCppLLM)
        return raw_run(llm, prompt, max_tokens, schema)

    return worker.submit("bench-raw", job).result()


def single_stream(runtime: Runtime, worker: LLMWorker, count: int) -> tuple[list[Timing], list[dict[str, float]]]:
    """Per answer: question shown → prewarm done → answer; then the same prompt raw and cold, back to back."""
    assert isinstance(worker.llm, LlamaCppLLM)
    coach_runs, raw_runs = [], []
    for entry, text in cases(runtime, count):
        user, future = show_question(runtime, worker, entry, "single")
        started = time.perf_counter()
        future.result(timeout=600)
        prewarm = time.perf_counter() - started
        timing = answer(runtime, user, text)
        stats = worker.llm.last_stats
        timing.prewarm, timing.tokens_per_s, timing.generated = prewarm, stats.tokens_per_s, stats.generated_tokens
        timing.extra = {"reused_tokens": stats.reused_tokens, "evaluated_tokens": stats.evaluated_tokens}
        coach_runs.append(timing)
        raw_runs.append(raw_baseline(runtime, worker, entry, text))
    return coach_runs, raw_runs


def crowd(runtime: Runtime, worker: LLMWorker, users: int) -> dict[str, Any]:
    """`users` threads, each its own session, answering at once through one Coach/LLMWorker."""
    shown = [(show_question(runtime, worker, e, "crowd"), a) for e, a in cases(runtime, users)]
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
    return {"users": users, "total_s": round(total, 2), "per_user_s": summary([r.critique for r in done], 3),
            "answers_sent": users, "attempts_stored": stored, "lost_answers": users - stored,
            "errors": [r.error for r in results if r is not None and r.error], "critiques_by_model":
            sum(r.by_model for r in done), "throughput_per_s": round(users / total, 4)}
