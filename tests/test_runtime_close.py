"""Closing the runtime waits for the rubric's background preparation, so the process exits cleanly.

A daemon thread still inside torch when the interpreter exits is killed there, and the unwinding aborts the whole
process ("terminate called without an active exception", exit status 134): a spoken answer in the terminal, then
quitting, did that on this project's machines.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from bot.config import Settings
from bot.core.embedder import HashEmbedder
from bot.core.replies import UserRef
from bot.core.runtime import Runtime


def test_close_waits_for_the_preparation_of_the_shown_question(tmp_path: Path, knowledge: Path) -> None:
    settings = Settings(COACH_DATA_DIR=tmp_path / "data", COACH_KNOWLEDGE_DIR=knowledge)  # type: ignore[call-arg]
    runtime = Runtime(settings, use_llm=False, embedder=HashEmbedder())
    finished = threading.Event()

    def slow_prepare(entry: object) -> None:
        time.sleep(0.5)
        finished.set()

    runtime._prepare = slow_prepare  # type: ignore[method-assign]
    entry = next(iter(runtime.bank.entries.values()))
    runtime._prewarm(UserRef("test", "u1"), entry, "s1")
    runtime.close()
    assert finished.is_set()
