"""One thread owns the model (llama.cpp is not thread-safe) and serves a FIFO queue, one job per user.

Generations waiting in the queue are handed to a model that decodes several at once (LlamaCppLLM.generate_many)
together, and a generation that arrives while others are being written joins them as soon as a slot frees.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from bot.core.background import UserQueue
from bot.core.llm.base import LLM, ChatPrompt, Request, TokenCallback
from bot.errors import UserBusyError

T = TypeVar("T")
log = logging.getLogger(__name__)
MAX_PENDING_PREWARMS = 16  # as many as the model keeps session states: more would evict each other anyway


@dataclass
class _Job:
    """A real request: runs in submission order."""

    user_key: str
    fn: Callable[[LLM], Any]
    future: Future[Any] = field(default_factory=Future)
    request: Request | None = None  # a plain generation, which a batching model may decode with others


@dataclass
class _Prewarm:
    """A low-priority prefix evaluation: runs only when no real job waits."""

    user_key: str
    prompt: ChatPrompt
    session: str | None
    future: Future[bool] = field(default_factory=Future)

    @property
    def key(self) -> str:
        """What a newer prewarm replaces it by: the session, else the user."""
        return self.session or self.user_key


class LLMWorker(UserQueue[_Job]):
    """Serialises every use of one LLM on a daemon thread; also usable as an LLM itself (calls block)."""

    def __init__(self, llm: LLM, *, thread_name: str = "llm-worker") -> None:
        super().__init__()
        self.llm = llm
        self.name = llm.name
        self._prewarms: OrderedDict[str, _Prewarm] = OrderedDict()
        self._anon = itertools.count()
        # A model whose prewarm takes cancel= can stop mid-way when a real job arrives.
        self._cancellable = "cancel" in inspect.signature(llm.prewarm).parameters
        self._batching = callable(getattr(llm, "generate_many", None))
        self._thread = threading.Thread(target=self._loop, name=thread_name, daemon=True)
        self._thread.start()

    # -- queue API -----------------------------------------------------------------------------------------------

    def submit(self, user_key: str, fn: Callable[[LLM], T]) -> Future[T]:
        """Queue fn(llm) behind earlier jobs; UserBusyError if this user already has one queued or running."""
        return self._submit(_Job(user_key, fn))

    def _submit(self, job: _Job) -> Future[Any]:
        """Queue a job; UserBusyError if its user already has one queued or running."""
        self._enqueue(job, closed=RuntimeError("The LLM worker is closed."), busy=UserBusyError())
        return job.future

    @overload
    def prewarm(self, user_key: ChatPrompt, prompt: None = None, session: str | None = None) -> Future[bool]: ...

    @overload
    def prewarm(self, user_key: str, prompt: ChatPrompt, session: str | None = None) -> Future[bool]: ...

    def prewarm(self, user_key: str | ChatPrompt, prompt: ChatPrompt | None = None,
                session: str | None = None) -> Future[bool]:
        """Queue a low-priority prewarm (also callable as LLM.prewarm(prompt, session=...)); never blocks.

        It runs only while no real job waits, is replaced by a newer prewarm of the same session, and its
        future says True once evaluated, False if it was replaced or dropped.
        """
        if isinstance(user_key, ChatPrompt):  # the LLM-protocol form: prewarm(prompt, session=...)
            item = _Prewarm(session or "anonymous", user_key, session)
        else:
            assert prompt is not None
            item = _Prewarm(user_key, prompt, session)
        with self._cond:
            if self._closed:
                item.future.set_result(False)
                return item.future
            old = self._prewarms.pop(item.key, None)
            if old is not None:
                old.future.set_result(False)
            self._prewarms[item.key] = item
            while len(self._prewarms) > MAX_PENDING_PREWARMS:
                self._prewarms.popitem(last=False)[1].future.set_result(False)
            self._cond.notify()
        return item.future

    def pending(self) -> dict[str, int]:
        """Queue lengths, for `doctor` and logs."""
        with self._cond:
            return {"jobs": len(self._jobs), "prewarms": len(self._prewarms), "busy_users": len(self._busy)}

    def is_busy(self, user_key: str) -> bool:
        """Whether this user has a job queued or running."""
        with self._cond:
            return user_key in self._busy

    def close(self, wait: bool = True) -> None:
        """Stop taking jobs, cancel the queued ones, let the running one finish."""
        with self._cond:
            self._close_queue()
            for item in self._prewarms.values():
                item.future.set_result(False)
            self._prewarms.clear()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()

    # -- the LLM protocol, through the queue ---------------------------------------------------------------------

    def generate(self, prompt: ChatPrompt, *, schema: dict[str, Any] | None = None, max_tokens: int = 400,
                 on_token: TokenCallback | None = None, session: str | None = None,
                 user_key: str | None = None) -> str:
        """LLM.generate run on the worker thread (on_token is called from there); blocks until done."""
        key = user_key or session or f"anonymous-{next(self._anon)}"
        with self._cond:
            # The real job evaluates this prefix anyway; a prewarm queued behind it would be wasted work.
            stale = self._prewarms.pop(session, None) if session is not None else None
        if stale is not None:
            stale.future.set_result(False)
        request = Request(prompt, schema, max_tokens, on_token, session)
        future = self._submit(_Job(key, lambda llm: llm.generate(prompt, schema=schema, max_tokens=max_tokens,
                                                                 on_token=on_token, session=session),
                                   request=request))
        return future.result()

    # -- the thread ----------------------------------------------------------------------------------------------

    def _next(self) -> _Job | _Prewarm | None:
        """Wait for work: a real job first, else the oldest prewarm; None once closed."""
        with self._cond:
            while not self._closed and not self._jobs and not self._prewarms:
                self._cond.wait()
            if self._jobs:
                return self._jobs.popleft()
            if self._prewarms and not self._closed:
                return self._prewarms.popitem(last=False)[1]
            return None

    def _loop(self) -> None:
        """Serve the queue until closed."""
        while (item := self._next()) is not None:
            if isinstance(item, _Job) and item.request is not None and self._batching:
                self._run_batch(item)
            elif isinstance(item, _Job):
                self._run_job(item)
            else:
                self._run_prewarm(item)

    def _run_batch(self, first: _Job) -> None:
        """Generations decoded together: first, then each queued generation as a slot frees (FIFO order kept:
        only generations at the head of the queue join)."""
        taken: list[_Job] = []

        def take(job: _Job) -> Request | None:
            if not job.future.set_running_or_notify_cancel():
                self._release(job.user_key)
                return None
            assert job.request is not None
            taken.append(job)
            job.request.done = lambda request: self._finish(job, request)
            return job.request

        def more() -> Request | None:
            while True:
                with self._cond:
                    if not self._jobs or self._jobs[0].request is None:
                        return None
                    job = self._jobs.popleft()
                request = take(job)
                if request is not None:
                    return request

        start = take(first)
        if start is None:
            return
        try:
            self.llm.generate_many([start], more)  # type: ignore[attr-defined]
        except BaseException as exc:  # the model itself failed: every request still waiting gets the error
            log.exception("batched generation failed")
            for job in taken:
                if not job.future.done():
                    self._release(job.user_key)
                    job.future.set_exception(exc)

    def _finish(self, job: _Job, request: Request) -> None:
        """A batched generation ended: its user is free, then its caller gets the text or the error."""
        self._release(job.user_key)
        if request.error is not None:
            job.future.set_exception(request.error)
        else:
            job.future.set_result(request.text or "")

    def _run_job(self, job: _Job) -> None:
        """Run one job; the user is free again before the caller sees the result."""
        self._serve(job, lambda: job.fn(self.llm))

    def _run_prewarm(self, item: _Prewarm) -> None:
        """Evaluate a prefix; if a real job arrives mid-way, stop and queue the rest for later."""
        try:
            if self._cancellable:
                prewarm: Callable[..., bool] = self.llm.prewarm  # type: ignore[assignment]
                done = prewarm(item.prompt, session=item.session, cancel=lambda: bool(self._jobs))
            else:
                self.llm.prewarm(item.prompt, session=item.session)
                done = True
        except Exception:  # a failed prewarm costs speed, never an answer
            log.exception("prewarm failed for session %s", item.session)
            item.future.set_result(False)
            return
        if done is False:
            self._requeue(item)
        else:
            item.future.set_result(True)

    def _requeue(self, item: _Prewarm) -> None:
        """Put an interrupted prewarm back at the front, unless a newer one replaced it meanwhile."""
        with self._cond:
            if self._closed or item.key in self._prewarms:
                item.future.set_result(False)
                return
            self._prewarms[item.key] = item
            self._prewarms.move_to_end(item.key, last=False)
            self._cond.notify()
