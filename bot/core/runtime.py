"""Builds the heavy objects once per process, from the settings, and hands them out."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.core.bank import Bank, load_bank
from bot.core.embedder import Embedder, SentenceEmbedder

if TYPE_CHECKING:
    from bot.core.index import ChromaIndex, Progress, SyncReport


class Runtime:
    """The process-wide engine parts: bank, embedder, index, LLM, store. Each is created on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._index: ChromaIndex | None = None
        self._synced = False

    @cached_property
    def bank(self) -> Bank:
        """Every deck of the knowledge folder, validated."""
        return load_bank(self.settings.knowledge_dir)

    @cached_property
    def embedder(self) -> Embedder:
        """The sentence embedder (the packaged MiniLM unless COACH_EMBEDDING_MODEL says otherwise)."""
        return SentenceEmbedder(self.settings.embedding_model)

    def index(self, progress: Progress | None = None, sync: bool = True) -> ChromaIndex:
        """The Chroma index, synced with the bank on first use."""
        from bot.core.index import ChromaIndex

        with self._lock:
            if self._index is None:
                self._index = ChromaIndex(self.embedder, path=self.settings.chroma_dir, url=self.settings.chroma_url)
            if sync and not self._synced:
                self.last_sync = self._index.sync(self.bank, progress=progress)
                self._synced = True
            return self._index

    def reindex(self, rebuild: bool = False, progress: Progress | None = None) -> SyncReport:
        """Sync the index with the bank now and report what changed."""
        index = self.index(sync=False)
        with self._lock:
            report = index.sync(self.bank, progress=progress, rebuild=rebuild)
            self._synced = True
            return report

    def close(self) -> None:
        """Release what holds files or threads."""
        if self._index is not None:
            self._index.close()

    def describe(self) -> dict[str, Any]:
        """A summary for `doctor`."""
        return {"data_dir": str(self.settings.data_dir), "knowledge_dir": str(self.settings.knowledge_dir)}
