"""One action per user at a time: the rule, its one sentence, and the two places it is checked."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from bot.core.replies import UserRef
from bot.errors import UserBusyError


class Gate:
    """Per-user turns: the engine holds a user while it works for them; an adapter that queues work reserves them.

    A reservation spans the wait in an adapter's queue as well as the work, so a second click while the first
    waits for the model is refused at once; the engine's hold alone covers callers that do not queue.
    """

    def __init__(self, wait: float = 0.05) -> None:
        self.wait = wait
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._reserved: set[str] = set()
        self._guard = threading.Lock()

    def lock(self, user: UserRef) -> threading.Lock:
        """The lock the engine holds while it works for the user."""
        with self._guard:
            return self._locks[user.key]

    @contextmanager
    def hold(self, user: UserRef) -> Iterator[None]:
        """Work for the user; UserBusyError when another call is doing so."""
        lock = self.lock(user)
        if not lock.acquire(timeout=self.wait):
            raise UserBusyError()
        try:
            yield
        finally:
            lock.release()

    def reserve(self, user: UserRef) -> bool:
        """Reserve the user for one queued request; False when one is already queued or running."""
        with self._guard:
            if user.key in self._reserved:
                return False
            self._reserved.add(user.key)
            return True

    def release(self, user: UserRef) -> None:
        """End a reservation."""
        with self._guard:
            self._reserved.discard(user.key)

    def reserved(self, user: UserRef | None = None) -> bool:
        """Whether a request of the user (of anyone, without one) is queued or running in an adapter."""
        with self._guard:
            return bool(self._reserved) if user is None else user.key in self._reserved
