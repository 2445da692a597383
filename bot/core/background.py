"""What the model workers share: a model built once with one clear sentence on failure, and a per-user FIFO queue."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, Protocol, TypeVar

from bot.errors import CoachError, ModelError

T = TypeVar("T")
log = logging.getLogger(__name__)


def build_model(factory: Callable[[], T], what: str, instead: str) -> tuple[T | None, CoachError | None]:
    """Call factory once: the model, or the error to raise for every later use (any failure as one sentence)."""
    try:
        return factory(), None
    except CoachError as exc:
        return None, exc
    except Exception as exc:  # noqa: BLE001 - any load failure becomes one clear sentence
        log.exception("loading the %s failed", what)
        return None, ModelError(f"The {what} could not be loaded ({exc.__class__.__name__}); {instead}")


class QueuedJob(Protocol):
    """A job in a UserQueue: whose it is and where its caller waits."""

    user_key: str
    future: Future[Any]


J = TypeVar("J", bound=QueuedJob)


class UserQueue(Generic[J]):
    """A FIFO that one thread serves, with at most one queued or running job per user."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._jobs: deque[J] = deque()
        self._busy: set[str] = set()
        self._closed = False

    def _enqueue(self, job: J, *, closed: Exception, busy: Exception) -> None:
        """Queue a job behind earlier ones; `closed` once closed, `busy` if its user already has one."""
        with self._cond:
            if self._closed:
                raise closed
            if job.user_key in self._busy:
                raise busy
            self._busy.add(job.user_key)
            self._jobs.append(job)
            self._cond.notify()

    def _close_queue(self) -> None:
        """Stop taking jobs and cancel the queued ones (the caller holds the condition); the running one finishes."""
        self._closed = True
        for job in self._jobs:
            job.future.cancel()
            self._busy.discard(job.user_key)
        self._jobs.clear()
        self._cond.notify_all()

    def _serve(self, job: J, work: Callable[[], Any]) -> None:
        """Run one job unless it was cancelled; its user is free again before the caller sees the result."""
        if not job.future.set_running_or_notify_cancel():
            self._release(job.user_key)
            return
        try:
            result = work()
        except BaseException as exc:  # the caller gets every error through its future
            self._release(job.user_key)
            job.future.set_exception(exc)
        else:
            self._release(job.user_key)
            job.future.set_result(result)

    def _release(self, user_key: str) -> None:
        """Let this user submit again."""
        with self._cond:
            self._busy.discard(user_key)
