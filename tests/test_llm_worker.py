"""The LLM worker: one thread owns the model, FIFO, one job per user, prewarms never delay a real answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.core.llm.base import LLM, ChatPrompt
from bot.core.llm.llama import LlamaCppLLM
from bot.core.llm.worker import LLMWorker
from bot.core.testing import FakeLLM
from bot.errors import CoachError, UserBusyError

P = ChatPrompt("system", "fixed part ", "variable part")


@pytest.fixture()
def worker() -> Iterator[LLMWorker]:
    """A worker around a scripted fake."""
    w = LLMWorker(FakeLLM(respond=lambda p: "ok"))
    yield w
    w.close()


class Blocker:
    """Occupies the worker thread until release()."""

    def __init__(self, worker: LLMWorker, user: str = "blocker") -> None:
        self.event, started = threading.Event(), threading.Event()

        def job(llm: LLM) -> None:
            started.set()
            self.event.wait(10)

        self.future = worker.submit(user, job)
        assert started.wait(5)

    def set(self) -> None:
        """Let the blocking job end."""
        self.event.set()

    def release(self) -> None:
        """Let the blocking job end, and wait until it has."""
        self.event.set()
        self.future.result(5)


def block(worker: LLMWorker, user: str = "blocker") -> Blocker:
    """Occupy the worker thread until the returned blocker is released."""
    return Blocker(worker, user)


def test_jobs_run_in_submission_order(worker: LLMWorker) -> None:
    release = block(worker)
    order: list[str] = []

    def job(user: str) -> Callable[[LLM], None]:
        return lambda llm: order.append(user)

    futures = [worker.submit(user, job(user)) for user in ("a", "b", "c", "d")]
    release.set()
    for future in futures:
        future.result(5)
    assert order == ["a", "b", "c", "d"]


def test_one_job_per_user(worker: LLMWorker) -> None:
    release = block(worker, "u")
    with pytest.raises(UserBusyError) as info:
        worker.submit("u", lambda llm: None)
    assert isinstance(info.value, CoachError) and str(info.value).endswith(".")
    assert worker.is_busy("u")
    worker.submit("someone-else", lambda llm: None)
    release.release()
    for _ in range(50):  # the user is free as soon as the result is visible: no race with a quick resubmit
        assert worker.submit("u", lambda llm: 1).result(5) == 1


def test_errors_reach_the_caller_and_the_worker_goes_on(worker: LLMWorker) -> None:
    def fail(llm: LLM) -> None:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        worker.submit("u", fail).result(5)
    assert worker.submit("u", lambda llm: 2).result(5) == 2


def test_prewarm_never_runs_before_a_waiting_real_job() -> None:
    fake = FakeLLM(respond=lambda p: "answer")
    w = LLMWorker(fake)
    release = block(w)
    order: list[str] = []
    warmed = w.prewarm("alice", P, session="alice-q1")
    job = w.submit("bob", lambda llm: order.append(f"job, prewarms so far: {len(fake.prewarmed)}"))
    release.set()
    job.result(5)
    assert warmed.result(5) is True
    assert order == ["job, prewarms so far: 0"]
    assert fake.prewarmed == [("alice-q1", P)]
    w.close()


def test_a_newer_prewarm_of_the_same_session_replaces_the_old() -> None:
    fake = FakeLLM()
    w = LLMWorker(fake)
    release = block(w)
    newer = ChatPrompt("system", "question 2 ", "")
    first = w.prewarm("alice", P, session="s")
    second = w.prewarm("alice", newer, session="s")
    release.set()
    assert first.result(5) is False and second.result(5) is True
    assert fake.prewarmed == [("s", newer)]
    w.close()


def test_generate_drops_a_pending_prewarm_of_its_session() -> None:
    fake = FakeLLM(respond=lambda p: "x")
    w = LLMWorker(fake)
    release = block(w)
    warmed = w.prewarm("alice", P, session="s")
    result: list[str] = []
    caller = threading.Thread(target=lambda: result.append(w.generate(P, session="s")))
    caller.start()
    time.sleep(0.05)
    release.set()
    caller.join(5)
    assert result == ["x"] and warmed.result(5) is False and fake.prewarmed == []
    w.close()


class SlowPrewarmLLM(FakeLLM):
    """A fake whose prewarm takes a while and stops when asked, like LlamaCppLLM.prewarm."""

    def __init__(self) -> None:
        super().__init__(respond=lambda p: "real")
        self.events: list[str] = []

    def prewarm(self, prompt: ChatPrompt, *, session: str | None = None,  # type: ignore[override]
                cancel: Callable[[], bool] | None = None) -> bool:
        self.events.append("prewarm-start")
        for _ in range(100):
            if cancel is not None and cancel():
                self.events.append("prewarm-cancelled")
                return False
            time.sleep(0.01)
        self.events.append("prewarm-done")
        return True

    def generate(self, prompt: ChatPrompt, **kwargs: object) -> str:  # type: ignore[override]
        self.events.append("generate")
        return "real"


def test_a_running_prewarm_yields_to_a_real_job_and_resumes() -> None:
    fake = SlowPrewarmLLM()
    w = LLMWorker(fake)
    warmed = w.prewarm("alice", P, session="a")
    deadline = time.time() + 5
    while "prewarm-start" not in fake.events and time.time() < deadline:
        time.sleep(0.005)
    started = time.perf_counter()
    assert w.generate(P, user_key="bob") == "real"
    assert time.perf_counter() - started < 0.5  # not the prewarm's whole second
    assert warmed.result(5) is True
    assert fake.events == ["prewarm-start", "prewarm-cancelled", "generate", "prewarm-start", "prewarm-done"]
    w.close()


def test_jobs_from_twenty_threads_all_complete_one_at_a_time(worker: LLMWorker) -> None:
    running = 0
    peak = 0
    lock = threading.Lock()
    done: list[int] = []

    def job(llm: LLM) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.001)
        with lock:
            running -= 1
        return 1

    def user(i: int) -> None:
        for _ in range(10):
            done.append(worker.submit(f"user{i}", job).result(10))
            worker.prewarm(f"user{i}", P, session=f"user{i}")

    threads = [threading.Thread(target=user, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(done) == 200 and peak == 1


def test_worker_is_an_llm(worker: LLMWorker) -> None:
    pieces: list[str] = []
    llm: LLM = worker
    assert llm.generate(P, on_token=pieces.append, session="s") == "ok"
    assert pieces == ["ok"]   # the pieces join into the text, as a model streams it
    llm.prewarm(P, session="s")  # queued, does not block
    assert worker.name == "fake"


def test_close_cancels_queued_jobs() -> None:
    w = LLMWorker(FakeLLM())
    release = block(w)
    queued = w.submit("a", lambda llm: 1)
    warmed = w.prewarm("b", P)
    threading.Timer(0.05, release.set).start()
    w.close()
    assert queued.cancelled() and warmed.result(1) is False
    with pytest.raises(RuntimeError):
        w.submit("c", lambda llm: 1)


def test_real_tiny_model_behind_the_worker_serves_many_threads(tiny_gguf: Path) -> None:
    w = LLMWorker(LlamaCppLLM(tiny_gguf, n_threads=1, n_ctx=512))
    outputs: list[str] = []
    errors: list[BaseException] = []

    def user(i: int) -> None:
        try:
            p = ChatPrompt("system", f"question {i} ", f"answer {i}")
            w.prewarm(f"u{i}", p, session=f"u{i}")
            outputs.append(w.generate(p, max_tokens=8, session=f"u{i}", user_key=f"u{i}"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    w.close()
    assert errors == [] and len(outputs) == 20
