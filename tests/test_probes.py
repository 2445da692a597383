"""Probes drafted by the model for a deck that has none: checked, cached once per entry version, marked drafted."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.core.embedder import HashEmbedder
from bot.core.grading.grader import Grader
from bot.core.grading.probes import ProbeDrafts, draft
from bot.core.llm.base import ChatPrompt
from bot.core.testing import FakeLLM

DRAFTS = ("Probe 1: What does momentum remember from earlier steps?\n"
          "Probe 2: Momentum accelerates updates along directions of consistent gradient.\n"   # not a question
          "Probe 3: Why does momentum dampen oscillations across steep directions?")            # gives it away


def wait_for(path: Path, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_each_drafted_question_is_checked(test_bank) -> None:
    momentum = test_bank.get("momentum")
    llm = FakeLLM(responses=[DRAFTS])
    assert draft(llm, momentum) == ("What does momentum remember from earlier steps?", None, None)
    prompt: ChatPrompt = llm.calls[0]
    assert prompt.labels == ("Probe 1:", "Probe 2:", "Probe 3:") and all(p in prompt.fixed for p in momentum.points)


def test_a_deck_without_probes_gets_them_drafted_once_and_cached(tmp_path: Path, test_bank) -> None:
    momentum = test_bank.get("momentum")
    assert momentum.probes is None
    llm = FakeLLM(responses=[DRAFTS])
    cache = tmp_path / "drafted_probes.json"
    grader = Grader(HashEmbedder(), llm=llm, probes=ProbeDrafts(cache))
    assert grader.with_probes(momentum).probes is None  # drafting has only started
    wait_for(cache)
    saved = json.loads(cache.read_text(encoding="utf-8"))["momentum"]
    assert saved["drafted"] is True and saved["hash"] == momentum.content_hash()
    filled = Grader(HashEmbedder(), llm=FakeLLM(), probes=ProbeDrafts(cache)).with_probes(momentum)
    assert filled.drafted_probes and filled.probe(0) == "What does momentum remember from earlier steps?"
    assert filled.probe(1) is None and filled.key_points == momentum.key_points
    assert len(llm.calls) == 1


def test_written_probes_win_and_a_changed_entry_is_drafted_again(tmp_path: Path, test_bank) -> None:
    dropout = test_bank.get("dropout")
    cache = ProbeDrafts(tmp_path / "drafted_probes.json")
    cache.save(dropout, ("Drafted one?",) * len(dropout.points))
    assert Grader(HashEmbedder(), llm=FakeLLM(), probes=cache).with_probes(dropout).probes == dropout.probes
    momentum = test_bank.get("momentum")
    cache.save(momentum, ("What does momentum remember?", None, None))
    changed = momentum.model_copy(update={"answer": momentum.answer + " It also has a Nesterov variant."})
    assert cache.cached(changed) is None and cache.cached(momentum) is not None
