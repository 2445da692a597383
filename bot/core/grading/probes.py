"""Probes drafted by the model for decks that have none: one interviewer question per key point, written once,
checked, cached in the data folder and marked as drafted (like points drafted from a reference answer)."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from bot.core.bank import Entry
from bot.core.grading.critique_checks import leaks, question_problem
from bot.core.llm.base import LLM, ChatPrompt

log = logging.getLogger(__name__)
SYSTEM = ("You are a senior engineer preparing a mock technical interview. For each key point of a reference answer "
          "you write the follow-up question an interviewer would ask a candidate who left that point out. Each "
          "question is short, natural and specific to its point, and never states the point's answer.")
MAX_TOKENS = 60  # per point


def draft(llm: LLM, entry: Entry) -> tuple[str | None, ...]:
    """One checked question per key point (None where the model's did not pass: no question, or it leaks)."""
    points = "\n".join(f"{i}. {p}" for i, p in enumerate(entry.points, 1))
    fixed = f"Question: {entry.question}\nKey points:\n{points}\n"
    labels = tuple(f"Probe {i}:" for i in range(1, len(entry.points) + 1))
    text = llm.generate(ChatPrompt(SYSTEM, fixed, "Write one question per key point, one per line.\n", labels),
                        max_tokens=MAX_TOKENS * len(entry.points))
    found: dict[int, str] = {}
    for line in text.splitlines():
        head, _, rest = line.partition(":")
        number = head.strip().removeprefix("Probe").strip().rstrip(".")
        if number.isdigit() and 1 <= int(number) <= len(entry.points):
            found.setdefault(int(number) - 1, rest.strip())
    out: list[str | None] = []
    for i, point in enumerate(entry.points):
        question = found.get(i)
        ok = question and question_problem(question) is None and not leaks(question, point, entry.question)
        out.append(question if ok else None)
    return tuple(out)


class ProbeDrafts:
    """Drafted probes per entry (keyed by content hash), in a JSON file; drafting runs once, in the background."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._data: dict[str, Any] | None = None
        self._running: set[str] = set()

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self._data = {}
        return self._data

    def cached(self, entry: Entry) -> tuple[str | None, ...] | None:
        """The drafted probes of this version of the entry, if any."""
        with self._lock:
            item = self._load().get(entry.id)
        if isinstance(item, dict) and item.get("hash") == entry.content_hash() and \
                len(item.get("probes", [])) == len(entry.points):
            return tuple(p if isinstance(p, str) else None for p in item["probes"])
        return None

    def fill(self, entry: Entry, llm: LLM | None) -> Entry:
        """The entry with drafted probes where it has none; without them yet, drafting starts (with a model)."""
        drafted = self.cached(entry)
        if drafted is None:
            if llm is not None:
                self.start(entry, llm)
            return entry
        written = entry.probes or (None,) * len(entry.points)
        probes = tuple(w or d for w, d in zip(written, drafted, strict=True))
        return entry.model_copy(update={"probes": probes, "drafted_probes": True})

    def start(self, entry: Entry, llm: LLM) -> None:
        """Draft this entry's probes on a background thread (once at a time per entry)."""
        with self._lock:
            if entry.id in self._running:
                return
            self._running.add(entry.id)
        threading.Thread(target=self._draft, args=(entry, llm), name=f"probes-{entry.id}", daemon=True).start()

    def _draft(self, entry: Entry, llm: LLM) -> None:
        try:
            probes = draft(llm, entry)
            self.save(entry, probes)
        except Exception:  # noqa: BLE001 - a missing probe costs a follow-up question, never an answer
            log.warning("drafting probes for %s failed", entry.id, exc_info=True)
        finally:
            with self._lock:
                self._running.discard(entry.id)

    def save(self, entry: Entry, probes: tuple[str | None, ...]) -> None:
        """Cache drafted probes (atomically: a crash never leaves half a file)."""
        with self._lock:
            data = self._load()
            data[entry.id] = {"hash": entry.content_hash(), "probes": list(probes), "drafted": True}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            partial.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, self.path)
