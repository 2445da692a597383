"""Engine calls off Discord's event loop: one call on an executor, its tokens and replies handed back in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Iterable
from concurrent.futures import Executor
from contextlib import suppress
from typing import Any

from bot.core.replies import Reply

TokenSink = Callable[[str], None]
Work = Callable[[TokenSink], Iterable[Reply]]


async def run_in_worker(work: Work, executor: Executor) -> AsyncGenerator[tuple[str, Any], None]:
    """Run an engine call on the executor; yield ("token", str), ("reply", Reply), ("error", exc) in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def put(kind: str, value: Any) -> None:
        # The engine calls back from its own thread: hand each event to the loop, never touch Discord from here.
        with suppress(RuntimeError):  # the loop closed while the engine was finishing (shutdown)
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))

    def produce() -> None:
        try:
            for reply in work(lambda token: put("token", token)):
                put("reply", reply)
        except Exception as exc:  # shown to the user by the loop; a worker thread must not die silently
            put("error", exc)
        finally:
            put("done", None)

    worker = loop.run_in_executor(executor, produce)
    while (event := await queue.get())[0] != "done":
        yield event
    await worker
