"""The Chroma index of the bank (embedded folder or server), and the choice of index for a process."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.bank import Bank, Entry
from bot.core.chroma_store import (
    BUILDING_PREFIX,
    COLLECTION,
    READY_PREFIX,
    damage_guard,
    drop_stale_builds,
    forget_client,
    live_collection,
    open_client,
    set_aside,
    swap_in,
)
from bot.core.embedder import Embedder
from bot.core.retrieval import SNAPSHOT, MemoryIndex, Progress, Searchable, SyncReport, entry_rows
from bot.errors import IndexBusyError, IndexDamagedError

# What callers import from here; COLLECTION, MemoryIndex, Progress and SyncReport are re-exported.
__all__ = ["COLLECTION", "ChromaIndex", "MemoryIndex", "Progress", "SyncReport", "open_index"]
log = logging.getLogger(__name__)


class ChromaIndex(Searchable):
    """Chroma collection with our own embeddings: PersistentClient under the data folder, or HttpClient."""

    def __init__(self, embedder: Embedder, *, path: Path | None = None, url: str | None = None,
                 lock_timeout: float = 1.5, recover: bool = False) -> None:
        self.embedder = embedder
        self.bank = None
        self._keywords = None
        self._crowding = {}
        self._lock_file = None
        self.path = path if url is None else None
        self.set_aside: Path | None = None  # where a damaged store was moved by `recover`
        if url is None:
            if path is None:
                raise ValueError("ChromaIndex needs a path or a url")
            path.mkdir(parents=True, exist_ok=True)
            self._lock_file = _lock_folder(path, lock_timeout)
        self._collection = None
        try:
            self.client = open_client(path, url)
        except IndexDamagedError:
            if not recover or self.path is None:
                self.close()
                raise
            self._recover()

    def _recover(self) -> None:
        """Set the damaged store aside (kept, never deleted) and open a new, empty one in its place."""
        assert self.path is not None
        forget_client(self.path)
        self.set_aside = set_aside(self.path)
        self._collection = None
        self.client = open_client(self.path, None)

    def close(self) -> None:
        """Release the folder lock."""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def write_snapshot(self) -> None:
        """Save every vector of the folder's collection (atomically) for the processes that cannot open it."""
        if self.path is None or self._lock_file is None:
            return  # a Chroma server is shared by every process: no copy needed
        got = self.collection().get(include=["embeddings", "metadatas"])
        metas = [m or {} for m in got["metadatas"] or []]
        vectors = np.asarray(got["embeddings"] if got["embeddings"] is not None else [], dtype=np.float32)
        temporary = self.path / f".{SNAPSHOT}.{os.getpid()}.npz"
        np.savez(temporary, vectors=vectors.reshape(len(metas), -1),
                 entry_ids=np.array([m.get("entry_id", "") for m in metas]),
                 hashes=np.array([m.get("hash", "") for m in metas]),
                 kinds=np.array([m.get("kind", "") for m in metas]), signature=np.array(json.dumps(self._signature())))
        os.replace(temporary, self.path / SNAPSHOT)

    def _load_embedder(self) -> None:
        """Load the embedding model before the index is written: a model that cannot load changes nothing."""
        load = getattr(self.embedder, "load", None)
        if load is not None:
            load()

    def _check_embedder(self) -> None:
        """Check the model is there without loading it (a fresh index embeds nothing: no model in memory)."""
        check = getattr(self.embedder, "check", None) or getattr(self.embedder, "load", None)
        if check is not None:
            check()

    def _matches(self, col: Any) -> bool:
        meta = col.metadata or {}
        return all(meta.get(key) == value for key, value in self._signature().items())

    def collection(self) -> Any:
        """The live collection (created empty when there is none); call sync() to fill or rebuild it."""
        if self._collection is not None:
            return self._collection
        self._check_embedder()
        with damage_guard(self.path):
            col = live_collection(self.client)
            if col is None:
                # get_or_create: another process sharing a Chroma server may create it at the same moment.
                col = self.client.get_or_create_collection(
                    COLLECTION, metadata={"hnsw:space": "cosine", **self._signature()}, embedding_function=None)
            self._collection = col
            return col

    def stored_hashes(self) -> dict[str, str]:
        """Content hash of every entry in the collection, by entry id."""
        with damage_guard(self.path):
            got = self.collection().get(include=["metadatas"])
        return {m["entry_id"]: m["hash"] for m in got["metadatas"] or [] if m}

    def sync(self, bank: Bank, progress: Progress | None = None, rebuild: bool = False) -> SyncReport:
        """Embed new and changed entries, drop deleted ones; a new embedder or `rebuild` builds a new collection."""
        started = time.perf_counter()
        self._check_embedder()  # a typo in COACH_EMBEDDING_MODEL stops here, before anything is touched
        try:
            with damage_guard(self.path):
                col = self._collection or live_collection(self.client)
                if col is not None and (rebuild or not self._matches(col)):
                    report = self._rebuild(bank, progress)
                else:
                    report = self._update(self.collection(), bank, progress)
        except IndexDamagedError:
            if not rebuild or self.path is None:
                raise
            self._recover()
            with damage_guard(self.path):
                report = self._update(self.collection(), bank, progress)
        report.rebuilt = report.rebuilt or (rebuild and self.set_aside is not None)
        report.set_aside = str(self.set_aside) if self.set_aside else None
        self._use_bank(bank)
        report.seconds = time.perf_counter() - started
        return report

    def _update(self, col: Any, bank: Bank, progress: Progress | None) -> SyncReport:
        """Embed only what changed in place."""
        report = SyncReport()
        got = col.get(include=["metadatas"])
        stored = {m["entry_id"]: m["hash"] for m in got["metadatas"] or [] if m}
        todo = [e for e in bank.entries.values() if stored.get(e.id) != e.content_hash()]
        report.added = [e.id for e in todo if e.id not in stored]
        report.updated = [e.id for e in todo if e.id in stored]
        report.removed = sorted(set(stored) - set(bank.entries))
        report.unchanged = len(bank) - len(todo)
        if todo:
            self._load_embedder()  # a model that cannot load leaves the changed entries as they were
        self._remove(col, report.removed + report.updated)
        report.embedded_texts = self._add(col, todo, progress)
        return report

    def _rebuild(self, bank: Bank, progress: Progress | None) -> SyncReport:
        """Embed everything into a new collection and swap it in when complete; until then the old one serves."""
        self._load_embedder()
        drop_stale_builds(self.client, shared=self.path is None)
        token = uuid.uuid4().hex[:8]
        building = self.client.create_collection(
            f"{BUILDING_PREFIX}{token}", embedding_function=None,
            metadata={"hnsw:space": "cosine", **self._signature(), "started": time.time()})
        entries = list(bank.entries.values())
        embedded = self._add(building, entries, progress)
        building.modify(name=f"{READY_PREFIX}{token}")  # complete: a crash after this finishes the swap at next start
        swap_in(self.client, f"{READY_PREFIX}{token}")
        self._collection = self.client.get_collection(COLLECTION, embedding_function=None)
        return SyncReport(added=[e.id for e in entries], rebuilt=True, embedded_texts=embedded)

    def _remove(self, col: Any, entry_ids: list[str]) -> None:
        if entry_ids:
            col.delete(where={"entry_id": {"$in": entry_ids}})

    def _add(self, col: Any, entries: list[Entry], progress: Progress | None, batch: int = 16) -> int:
        total = 0
        for start in range(0, len(entries), batch):
            chunk = entries[start:start + batch]
            ids, texts, metas = entry_rows(chunk)
            vectors = self.embedder.embed(texts)
            col.upsert(ids=ids, embeddings=vectors.tolist(), metadatas=metas)
            total += len(texts)
            if progress:
                progress(min(start + batch, len(entries)), len(entries))
        return total

    def attach(self, bank: Bank) -> None:
        """Search this bank without syncing (the caller knows the index is fresh)."""
        self.collection()
        self._use_bank(bank)

    def _stored_rows(self) -> dict[str, tuple[np.ndarray, list[str]]]:
        with damage_guard(self.path):
            got = self.collection().get(include=["embeddings", "metadatas"])
        rows: dict[str, list[tuple[np.ndarray, str]]] = {}
        found = got["embeddings"] if got["embeddings"] is not None else []
        for meta, vector in zip(got["metadatas"] or [], found, strict=True):
            if meta:
                rows.setdefault(str(meta["entry_id"]), []).append(
                    (np.asarray(vector, dtype=np.float32), str(meta.get("kind", ""))))
        return {i: (np.stack([v for v, _ in r]), [k for _, k in r]) for i, r in rows.items()}

    def _entry_vector(self, entry_id: str) -> np.ndarray | None:
        got = self.collection().get(ids=[f"{entry_id}::q"], include=["embeddings"])
        found = got.get("embeddings")
        return None if found is None or not len(found) else np.asarray(found[0], dtype=np.float32)

    def freshness(self, bank: Bank) -> dict[str, Any]:
        """How the index compares with the bank, for `doctor`: reads only, never creates or deletes anything."""
        with damage_guard(self.path):
            names = {c.name for c in self.client.list_collections()}
            col = self.client.get_collection(COLLECTION, embedding_function=None) if COLLECTION in names else None
            got = col.get(include=["metadatas"]) if col is not None else {"metadatas": []}
        stored = {m["entry_id"]: m["hash"] for m in got["metadatas"] or [] if m}
        stale = [e.id for e in bank.entries.values() if stored.get(e.id) != e.content_hash()]
        extra = sorted(set(stored) - set(bank.entries))
        meta = (col.metadata or {}) if col is not None else {}
        built_with = {key: meta.get(key) for key in self._signature()}
        same = col is not None and built_with == self._signature()
        return {"entries": len(stored), "bank": len(bank), "stale": stale, "extra": extra, "exists": col is not None,
                "built_with": built_with, "same_embedder": same,
                "fresh": col is not None and same and not stale and not extra, **self._signature()}


def open_index(embedder: Embedder, *, path: Path | None, url: str | None,
               recover: bool = False) -> ChromaIndex | MemoryIndex:
    """The index of a process: the Chroma folder when it is free; while another process holds it (a bot), a
    read-only copy in memory from that process's snapshot, so terminal commands and a second bot still work."""
    try:
        return ChromaIndex(embedder, path=path, url=url, recover=recover)
    except IndexBusyError:
        if path is None:
            raise
        log.info("The index in %s is held by another process: searching a read-only copy of it", path)
        return MemoryIndex.from_snapshot(embedder, path / SNAPSHOT)


def _lock_folder(path: Path, timeout: float) -> Any:
    """Hold an exclusive lock on the Chroma folder: Chroma supports one process per folder."""
    handle = open(path / ".coach.lock", "a+")  # noqa: SIM115 - held for the index's lifetime
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return handle
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.close()
                raise IndexBusyError(f"Another process is using the index in {path}; stop it or set another "
                                     "COACH_DATA_DIR.") from None
            time.sleep(0.1)
