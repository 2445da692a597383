"""Search shared by both indexes: the texts embedded per entry, BM25 fused with vector similarity, and the
in-memory index (the fakes' index, and a read-only copy of a folder another process holds)."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.bank import Bank, Entry
from bot.core.embedder import Embedder
from bot.core.query_words import normalise_query

SNAPSHOT = "snapshot.npz"   # the holder's vectors, for processes that cannot open the folder meanwhile
log = logging.getLogger(__name__)
# Weight of the keyword (BM25, stemmed) signal fused with the vector similarity, and of the best similarity to one
# sentence of the reference answer (a paraphrase often restates one sentence: "several attention computations side
# by side" is one sentence of multi-head attention's answer, while the whole question is closer to plain attention).
# Chosen on tests/data + evalsets3-5 (misses 27 -> 16 of 638; 0.15-0.25 and 0.3-0.5 measure alike), checked after.
KEYWORD_WEIGHT = 0.2
SENTENCE_WEIGHT = 0.3
# An answer's first sentences only, to bound what a long answer costs at index time: 10 to 24 measure the same;
# with 8 or fewer a look-alike of tests/test_retrieval.py (cnn-overview) is lost.
MAX_SENTENCES = 12
# An entry in a crowd of near neighbours (the CNN family, the RNN family) draws paraphrases meant for them: its score
# is lowered by this weight times its mean similarity to its nearest entries (the hubness correction of CSLS).
# Chosen on all six dev sets at once (31 -> 26 misses of 637; 0.2-0.5 and 3-5 neighbours measure alike).
CROWDING_WEIGHT = 0.3
CROWDING_NEIGHBOURS = 3
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
    """The texts embedded for one entry (the question first): several vectors make paraphrased queries land."""
    # The question alone, and joined with its key points and with the answer's first paragraph: a paraphrase
    # that names what the answer covers lands on those (benchmarks/retrieval.py measured each choice).
    texts = {"q": entry.question}
    if entry.key_points:
        texts["qk"] = entry.question + " " + " ".join(entry.key_points)
    texts["qa"] = entry.question + " " + entry.answer.split("\n")[0][:600]
    texts.update({f"s{n}": sentence for n, sentence in enumerate(answer_sentences(entry.answer))})
    return texts


_UNITS = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*\u2022]|\d+[.)])\s)")   # paragraphs and list items
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")


def answer_sentences(answer: str) -> list[str]:
    """The answer's sentences of four words or more (lines wrapped inside a paragraph are joined first)."""
    found = []
    for unit in _UNITS.split(answer):
        found += [s for s in _SENTENCE_END.split(" ".join(unit.split())) if len(s.split()) >= 4]
    return found[:MAX_SENTENCES] or ([" ".join(answer.split())] if answer.strip() else [])


def is_sentence(kind: str) -> bool:
    """Whether a stored text is one sentence of the answer (scored apart from the question's texts)."""
    return kind.startswith("s")


# Changes whenever entry_texts or the query's rewriting changes: an index built otherwise is rebuilt, not mixed.
TEXTS_VERSION = "q+qk+qa+s12/3"


class KeywordIndex:
    """BM25 over question, key points and answer, fused with the vectors for exact terms (RBM, GRU, ROC)."""

    def __init__(self, entries: list[Entry]) -> None:
        import bm25s
        import Stemmer

        self.ids = [e.id for e in entries]
        # Stemmed, so "overfits" meets "overfitting" and "activations" meets "activation".
        self._stemmer = Stemmer.Stemmer("english")
        corpus = [f"{e.question} {e.question} {' '.join(e.key_points or ())} {e.answer}" for e in entries]
        self._retriever = bm25s.BM25()
        self._retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=self._stemmer, show_progress=False),
                              show_progress=False)

    def scores(self, text: str) -> dict[str, float]:
        """BM25 scores scaled to 0..1 by the best score, by entry id."""
        import bm25s

        tokens = bm25s.tokenize([text], stopwords="en", stemmer=self._stemmer, show_progress=False)
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


def crowding(vectors: dict[str, np.ndarray]) -> dict[str, float]:
    """Each entry's mean cosine to its nearest other entries (each entry as the mean of its texts' vectors)."""
    ids = [i for i, v in vectors.items() if len(v)]
    if len(ids) < 2:
        return {}
    means = np.stack([np.asarray(vectors[i], dtype=np.float32).mean(axis=0) for i in ids])
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    sims = means @ means.T
    np.fill_diagonal(sims, -np.inf)
    k = min(CROWDING_NEIGHBOURS, len(ids) - 1)
    near = np.sort(sims, axis=1)[:, -k:].mean(axis=1)
    return dict(zip(ids, near.tolist(), strict=True))


def fuse(vector_scores: dict[str, float], keyword_scores: dict[str, float],
         crowded: dict[str, float] | None = None,
         sentence_scores: dict[str, float] | None = None) -> list[tuple[str, float]]:
    """Vector similarity plus weighted keyword and best-sentence scores, less the entry's crowding, best first."""
    ids = set(vector_scores) | set(keyword_scores)
    crowded, sentence_scores = crowded or {}, sentence_scores or {}
    fused = {i: vector_scores.get(i, 0.0) + KEYWORD_WEIGHT * keyword_scores.get(i, 0.0)
             + SENTENCE_WEIGHT * sentence_scores.get(i, 0.0) - CROWDING_WEIGHT * crowded.get(i, 0.0) for i in ids}
    return sorted(fused.items(), key=lambda kv: kv[1], reverse=True)


class Rows:
    """Every stored vector of the searched entries, scored exactly (81 entries are ~1,000 rows: a millisecond), so
    both indexes rank from the same numbers: the question's texts and the answer's sentences apart."""

    def __init__(self, stored: dict[str, tuple[np.ndarray, list[str]]]) -> None:
        self.groups = [self._group(stored, sentences) for sentences in (False, True)]

    @staticmethod
    def _group(stored: dict[str, tuple[np.ndarray, list[str]]], sentences: bool) -> tuple[list[str], Any, Any]:
        """Entry ids, their rows of one kind stacked entry after entry, and where each entry's rows start."""
        ids, parts = [], []
        for entry_id, (vectors, kinds) in stored.items():
            mine = np.asarray(vectors, dtype=np.float32)[[is_sentence(k) == sentences for k in kinds]]
            if len(mine):
                ids.append(entry_id)
                parts.append(mine)
        starts = np.cumsum([0] + [len(p) for p in parts[:-1]]).astype(np.int64)
        return ids, (np.concatenate(parts) if parts else None), starts

    def scores(self, vector: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
        """Each entry's best similarity among its question's texts, and among its answer's sentences."""
        found: list[dict[str, float]] = []
        for ids, matrix, starts in self.groups:
            # einsum, not `matrix @ vector`: OpenBLAS's threaded product waits ~8 ms for a busy second core.
            sims = np.einsum("ij,j->i", matrix, np.asarray(vector, dtype=np.float32)) if matrix is not None else None
            best: Any = np.maximum.reduceat(sims, starts) if sims is not None else []
            found.append(dict(zip(ids, np.asarray(best, dtype=float).tolist(), strict=True)))
        return found[0], found[1]


class Searchable:
    """Shared search logic: per-entry best vector similarity fused with BM25."""

    bank: Bank | None
    embedder: Embedder
    _keywords: KeywordIndex | None
    _crowding: dict[str, float]
    _rows: Rows | None = None

    def stored_hashes(self) -> dict[str, str]:
        """Content hash of every indexed entry, by entry id."""
        raise NotImplementedError

    def _entry_vector(self, entry_id: str) -> np.ndarray | None:
        """The stored vector of an entry's question (None when it is not indexed)."""
        raise NotImplementedError

    def _stored_rows(self) -> dict[str, tuple[np.ndarray, list[str]]]:
        """Every stored vector grouped by entry id, with the kind of text each row embeds."""
        raise NotImplementedError

    def _signature(self) -> dict[str, Any]:
        return {"embedder": self.embedder.name, "dim": int(self.embedder.dim), "texts": TEXTS_VERSION}

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
        stored = {i: rows for i, rows in self._stored_rows().items() if i in bank.entries}
        self._rows = Rows(stored)
        self._crowding = crowding({i: v[[not is_sentence(k) for k in kinds]] for i, (v, kinds) in stored.items()})

    def search(self, text: str, k: int = 3) -> list[Hit]:
        """The k best entries for a text, best first."""
        if self.bank is None or not text.strip():
            return []
        text = normalise_query(text)
        return self._ranked(text, self.embedder.embed([text])[0], k)

    def _ranked(self, text: str, vector: np.ndarray, k: int) -> list[Hit]:
        assert self.bank is not None
        vec, sentences = self._rows.scores(vector) if self._rows else ({}, {})
        kw = self._keywords.scores(text) if self._keywords else {}
        ranked = [(i, s) for i, s in fuse(vec, kw, self._crowding, sentences) if i in self.bank.entries]
        return [Hit(self.bank.entries[i], s) for i, s in ranked[:k]]

    def related(self, entry: Entry, k: int = 2) -> list[Entry]:
        """Other entries closest to this one (by its question and key points), from its stored vector: the
        interview's critique needs no query embedded, so the retrieval model is not loaded for it."""
        if self.bank is None:
            return []
        text = entry.question + " " + " ".join(entry.key_points or ())
        vector = self._entry_vector(entry.id)
        hits = self._ranked(text, vector, k + 1) if vector is not None else self.search(text, k + 1)
        return [h.entry for h in hits if h.entry.id != entry.id][:k]


class RelatedEntries:
    """Entries near one another by question and key points, with the grading embedder: the critique's context
    needs neither the index nor its (larger) model, so an interview never loads the retrieval model."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._vectors: dict[str, tuple[str, np.ndarray]] = {}   # entry id -> (content hash, vector)

    def prepare(self, bank: Bank) -> None:
        """Embed the entries not yet embedded (or changed since), in one batch."""
        todo = [e for e in bank.entries.values() if self._vectors.get(e.id, ("",))[0] != e.content_hash()]
        if todo:
            vectors = self.embedder.embed([_about(e) for e in todo])
            self._vectors.update({e.id: (e.content_hash(), v) for e, v in zip(todo, vectors, strict=True)})

    def related(self, bank: Bank, entry: Entry, k: int = 2) -> list[Entry]:
        """The k other entries of the bank closest to this one."""
        self.prepare(bank)
        mine = self._vectors[entry.id][1]
        near = sorted(((float(v @ mine), i) for i, (_, v) in self._vectors.items()
                       if i != entry.id and i in bank.entries), reverse=True)
        return [bank.entries[i] for _, i in near[:k]]


def _about(entry: Entry) -> str:
    return entry.question + " " + " ".join(entry.key_points or ())


def entry_rows(entries: list[Entry]) -> tuple[list[str], list[str], list[dict[str, Any]]]:
    """Ids, texts and metadata of every text embedded for these entries."""
    ids, texts, metas = [], [], []
    for e in entries:
        for kind, text in entry_texts(e).items():
            ids.append(f"{e.id}::{kind}")
            texts.append(text)
            metas.append({"entry_id": e.id, "hash": e.content_hash(), "kind": kind, "deck": e.deck})
    return ids, texts, metas


class MemoryIndex(Searchable):
    """The in-memory twin of ChromaIndex: the same vectors and fusion, kept in numpy."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.bank = None
        self._keywords = None
        self._crowding = {}
        self._hashes: dict[str, str] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._kinds: dict[str, list[str]] = {}   # the kind of text of each row (entry_texts' keys)

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
                    index._kinds[entry_id] = [str(k) for k in saved["kinds"][found]]
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
            self._kinds.clear()
        report = SyncReport(rebuilt=rebuild)
        todo = [e for e in bank.entries.values() if self._hashes.get(e.id) != e.content_hash()]
        report.added = [e.id for e in todo if e.id not in self._hashes]
        report.updated = [e.id for e in todo if e.id in self._hashes]
        report.removed = sorted(set(self._hashes) - set(bank.entries))
        report.unchanged = len(bank) - len(todo)
        for eid in report.removed:
            self._hashes.pop(eid)
            self._vectors.pop(eid)
            self._kinds.pop(eid)
        if todo:
            ids, texts, metas = entry_rows(todo)
            vectors = self.embedder.embed(texts)
            for e in todo:
                rows = [i for i, m in enumerate(metas) if m["entry_id"] == e.id]
                self._vectors[e.id] = vectors[rows]
                self._kinds[e.id] = [metas[i]["kind"] for i in rows]
                self._hashes[e.id] = e.content_hash()
            report.embedded_texts = len(texts)
        self._use_bank(bank)
        report.seconds = time.perf_counter() - started
        return report

    def _stored_rows(self) -> dict[str, tuple[np.ndarray, list[str]]]:
        return {i: (v, self._kinds[i]) for i, v in self._vectors.items()}

    def _entry_vector(self, entry_id: str) -> np.ndarray | None:
        vectors = self._vectors.get(entry_id)
        return None if vectors is None or not len(vectors) else vectors[0]
