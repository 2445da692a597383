"""Retrieval over the bank: a protocol, the Chroma index (embedded or server), and an in-memory twin."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
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
from bot.errors import IndexBusyError, IndexDamagedError

SNAPSHOT = "snapshot.npz"   # the holder's vectors, for processes that cannot open the folder meanwhile
log = logging.getLogger(__name__)
# Weight of the keyword (BM25) signal fused with the vector similarity; tuned on tests/data/paraphrases.yaml.
KEYWORD_WEIGHT = 0.25
Progress = Callable[[int, int], None]


@dataclass
class Hit:
    """One retrieved entry, `score` higher = closer."""

    entry: Entry
    score: float

    def to_json(self) -> dict[str, Any]:
        """The shape of `ask --json`."""
        e = self.entry
        return {"id": e.id, "question": e.question, "answer": e.answer, "topics": list(e.topics),
                "score": round(float(self.score), 4)}


@dataclass
class SyncReport:
    """What a (re-)index changed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    rebuilt: bool = False
    embedded_texts: int = 0
    seconds: float = 0.0
    set_aside: str | None = None  # a damaged store moved here by `index --rebuild`

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(self.added or self.updated or self.removed or self.rebuilt)


def entry_texts(entry: Entry) -> dict[str, str]:
    """The texts embedded for one entry: several vectors make paraphrased queries land."""
    # No vector of the whole answer: it is the longest text to embed (most of a cold index's time) and the
    # first paragraph, key points and BM25 over the answer already find paraphrased queries (recall@1 unchanged).
    texts = {"q": entry.question}
    if entry.key_points:
        texts["k"] = " ".join(entry.key_points)
    first = entry.answer.split("\n")[0]
    texts["f"] = first[:600]
    return texts


class KeywordIndex:
    """BM25 over question, key points and answer, fused with the vectors for exact terms (RBM, GRU, ROC)."""

    def __init__(self, entries: list[Entry]) -> None:
        import bm25s

        self.ids = [e.id for e in entries]
        corpus = [f"{e.question} {e.question} {' '.join(e.key_points or ())} {e.answer}" for e in entries]
        self._retriever = bm25s.BM25()
        self._retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)

    def scores(self, text: str) -> dict[str, float]:
        """BM25 scores scaled to 0..1 by the best score, by entry id."""
        import bm25s

        tokens = bm25s.tokenize([text], stopwords="en", show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return {}
        raw = self._retriever.get_scores(_query_tokens(tokens))
        top = float(np.max(raw)) if len(raw) else 0.0
        if top <= 0:
            return {}
        return {self.ids[i]: float(raw[i]) / top for i in range(len(self.ids)) if raw[i] > 0}


def _query_tokens(tokens: Any) -> list[str]:
    """The query's tokens as strings, as bm25s.get_scores expects."""
    inverse = {v: k for k, v in tokens.vocab.items()}
    return [inverse[i] for i in tokens.ids[0]]


def fuse(vector_scores: dict[str, float], keyword_scores: dict[str, float]) -> list[tuple[str, float]]:
    """Vector similarity plus a weighted keyword score, best first."""
    ids = set(vector_scores) | set(keyword_scores)
    fused = {i: vector_scores.get(i, 0.0) + KEYWORD_WEIGHT * keyword_scores.get(i, 0.0) for i in ids}
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


class _Searchable:
    """Shared search logic: per-entry best vector similarity fused with BM25."""

    bank: Bank | None
    embedder: Embedder
    _keywords: KeywordIndex | None

    def _vector_scores(self, vector: np.ndarray, n: int) -> dict[str, float]:
        raise NotImplementedError

    def stored_hashes(self) -> dict[str, str]:
        """Content hash of every indexed entry, by entry id."""
        raise NotImplementedError

    def _signature(self) -> dict[str, Any]:
        return {"embedder": self.embedder.name, "dim": int(self.embedder.dim)}

    def freshness(self, bank: Bank) -> dict[str, Any]:
        """How the index compares with the bank, for `doctor`."""
        stored = self.stored_hashes()
        stale = [e.id for e in bank.entries.values() if stored.get(e.id) != e.content_hash()]
        extra = sorted(set(stored) - set(bank.entries))
        return {"entries": len(stored), "bank": len(bank), "stale": stale, "extra": extra,
                "fresh": not stale and not extra, **self._signature()}

    def _use_bank(self, bank: Bank) -> None:
        self.bank = bank
        self._keywords = KeywordIndex(list(bank.entries.values())) if len(bank) else None

    def search(self, text: str, k: int = 3) -> list[Hit]:
        """The k best entries for a text, best first."""
        if self.bank is None or not text.strip():
            return []
        vector = self.embedder.embed([text])[0]
        vec = self._vector_scores(vector, max(4 * k, 12))
        kw = self._keywords.scores(text) if self._keywords else {}
        ranked = [(i, s) for i, s in fuse(vec, kw) if i in self.bank.entries]
        return [Hit(self.bank.entries[i], s) for i, s in ranked[:k]]

    def related(self, entry: Entry, k: int = 2) -> list[Entry]:
        """Other entries closest to this one (by its question and key points)."""
        text = entry.question + " " + " ".join(entry.key_points or ())
        return [h.entry for h in self.search(text, k + 1) if h.entry.id != entry.id][:k]


class ChromaIndex(_Searchable):
    """Chroma collection with our own embeddings: PersistentClient under the data folder, or HttpClient."""

    def __init__(self, embedder: Embedder, *, path: Path | None = None, url: str | None = None,
                 lock_timeout: float = 1.5, recover: bool = False) -> None:
        self.embedder = embedder
        self.bank = None
        self._keywords = None
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
                 hashes=np.array([m.get("hash", "") for m in metas]), signature=np.array(json.dumps(self._signature())))
        os.replace(temporary, self.path / SNAPSHOT)

    def _load_embedder(self) -> None:
        """Load the embedding model before the index is touched: a model that cannot load changes nothing."""
        load = getattr(self.embedder, "load", None)
        if load is not None:
            load()

    def _matches(self, col: Any) -> bool:
        meta = col.metadata or {}
        wanted = self._signature()
        return bool(meta.get("embedder") == wanted["embedder"] and meta.get("dim") == wanted["dim"])

    def collection(self) -> Any:
        """The live collection (created empty when there is none); call sync() to fill or rebuild it."""
        if self._collection is not None:
            return self._collection
        self._load_embedder()
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
        self._load_embedder()  # a typo in COACH_EMBEDDING_MODEL stops here, before anything is touched
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
        self._remove(col, report.removed + report.updated)
        report.embedded_texts = self._add(col, todo, progress)
        return report

    def _rebuild(self, bank: Bank, progress: Progress | None) -> SyncReport:
        """Embed everything into a new collection and swap it in when complete; until then the old one serves."""
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
            ids, texts, metas = _rows(chunk)
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

    def _vector_scores(self, vector: np.ndarray, n: int) -> dict[str, float]:
        col = self.collection()
        count = col.count()
        if count == 0:
            return {}
        res = col.query(query_embeddings=[vector.tolist()], n_results=min(n, count), include=["metadatas", "distances"])
        best: dict[str, float] = {}
        for meta, dist in zip(res["metadatas"][0], res["distances"][0], strict=True):
            sim = 1.0 - float(dist)
            eid = meta["entry_id"]
            best[eid] = max(best.get(eid, -1.0), sim)
        return best

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
        built_with = {"embedder": meta.get("embedder"), "dim": meta.get("dim")}
        same = col is not None and built_with == self._signature()
        return {"entries": len(stored), "bank": len(bank), "stale": stale, "extra": extra, "exists": col is not None,
                "built_with": built_with, "same_embedder": same,
                "fresh": col is not None and same and not stale and not extra, **self._signature()}


def _rows(entries: list[Entry]) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    ids, texts, metas = [], [], []
    for e in entries:
        for kind, text in entry_texts(e).items():
            ids.append(f"{e.id}::{kind}")
            texts.append(text)
            metas.append({"entry_id": e.id, "hash": e.content_hash(), "kind": kind, "deck": e.deck})
    return ids, texts, metas


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


class MemoryIndex(_Searchable):
    """The in-memory twin of ChromaIndex: the same vectors and fusion, kept in numpy."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.bank = None
        self._keywords = None
        self._hashes: dict[str, str] = {}
        self._vectors: dict[str, np.ndarray] = {}

    @classmethod
    def from_snapshot(cls, embedder: Embedder, file: Path) -> MemoryIndex:
        """Start from another process's snapshot (when it matches this embedder); `sync` embeds only what differs."""
        index = cls(embedder)
        try:
            with np.load(file) as saved:
                if json.loads(str(saved["signature"])) != index._signature():
                    return index
                rows: dict[str, list[int]] = {}
                for row, entry_id in enumerate(saved["entry_ids"].tolist()):
                    rows.setdefault(entry_id, []).append(row)
                for entry_id, found in rows.items():
                    index._vectors[entry_id] = saved["vectors"][found]
                    index._hashes[entry_id] = str(saved["hashes"][found[0]])
        except (OSError, ValueError, KeyError) as exc:   # none yet, or unreadable: every entry is embedded here
            log.info("No usable index snapshot in %s (%s)", file, exc)
        return index

    def stored_hashes(self) -> dict[str, str]:
        """Content hash of every entry held, by entry id."""
        return dict(self._hashes)

    def close(self) -> None:
        """Nothing to release."""

    def sync(self, bank: Bank, progress: Progress | None = None, rebuild: bool = False) -> SyncReport:
        """Embed new and changed entries, drop deleted ones."""
        started = time.perf_counter()
        if rebuild:
            self._hashes.clear()
            self._vectors.clear()
        report = SyncReport(rebuilt=rebuild)
        todo = [e for e in bank.entries.values() if self._hashes.get(e.id) != e.content_hash()]
        report.added = [e.id for e in todo if e.id not in self._hashes]
        report.updated = [e.id for e in todo if e.id in self._hashes]
        report.removed = sorted(set(self._hashes) - set(bank.entries))
        report.unchanged = len(bank) - len(todo)
        for eid in report.removed:
            self._hashes.pop(eid)
            self._vectors.pop(eid)
        if todo:
            ids, texts, metas = _rows(todo)
            vectors = self.embedder.embed(texts)
            for e in todo:
                rows = [i for i, m in enumerate(metas) if m["entry_id"] == e.id]
                self._vectors[e.id] = vectors[rows]
                self._hashes[e.id] = e.content_hash()
            report.embedded_texts = len(texts)
        self._use_bank(bank)
        report.seconds = time.perf_counter() - started
        return report

    def _vector_scores(self, vector: np.ndarray, n: int) -> dict[str, float]:
        scores = {eid: float(np.max(vs @ vector)) for eid, vs in self._vectors.items()}
        return dict(sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:n])
