"""Checks of a model file that `doctor` runs: llama.cpp really loads it, and where its layers land (GPU or CPU)."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def llama_opens(path: Path, n_gpu_layers: int = 0) -> dict[str, Any]:
    """Whether llama.cpp loads the file, and on which devices its layers landed (for `doctor`); never raises.

    Returns {"ok", "error", "layers", "gpu_layers"}; the layer counts are None when llama.cpp did not say.
    """
    result: dict[str, Any] = {"ok": False, "error": None, "layers": None, "gpu_layers": None}
    try:
        import llama_cpp
    except ImportError:
        result["error"] = "llama-cpp-python is not installed."
        return result
    lines: list[str] = []
    try:
        with _llama_log(lines):
            model = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=1, n_gpu_layers=n_gpu_layers,
                                    use_mmap=True, verbose=False)
        model.close()
    except Exception as exc:  # noqa: BLE001 - every load failure is reported as one sentence
        result["error"] = f"llama.cpp cannot load {path} ({str(exc).splitlines()[0][:160] if str(exc) else exc})."
        return result
    result["ok"] = True
    result["layers"], result["gpu_layers"] = placed_layers("".join(lines))
    return result


# Run in a child process: a llama.cpp that crashes while decoding (its AMX kernels on some Intel CPUs) must not take
# doctor down with it.
_DECODE = """
import sys
import llama_cpp
model = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=64, n_threads=1, use_mmap=True, verbose=False)
model.eval(model.tokenize(b"Hello, world"))
print("decoded")
"""


def llama_decodes(path: Path, python: str = sys.executable, timeout: float = 300) -> dict[str, Any]:
    """Whether llama.cpp decodes a few tokens of the model in a child process (for `doctor`); never raises.

    Returns {"ok", "error"}: a crash is reported as one sentence with what to do about it.
    """
    try:
        done = subprocess.run([python, "-c", _DECODE, str(path)], capture_output=True, text=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return {"ok": False, "error": f"llama.cpp could not decode a token of {path.name} ({type(exc).__name__})."}
    if done.returncode == 0 and "decoded" in done.stdout:
        return {"ok": True, "error": None}
    if done.returncode < 0:
        return {"ok": False, "error": f"llama.cpp crashed decoding a token (signal {-done.returncode}); a build made "
                "for this CPU's AMX does that: run `.venv/bin/pip uninstall -y llama-cpp-python`, `.venv/bin/pip "
                "cache remove llama_cpp_python` and `bash scripts/install` to build it without AMX."}
    last = (done.stderr.strip().splitlines() or ["no message"])[-1][:160]
    return {"ok": False, "error": f"llama.cpp could not decode a token of {path.name} ({last})."}


def placed_layers(log: str) -> tuple[int | None, int | None]:
    """(layers, layers on a GPU) from llama.cpp's load log; (None, None) when it does not say."""
    devices = [m.group(1) for line in log.splitlines() if (m := _LAYER_DEVICE.search(line)) is not None]
    if not devices:
        return None, None
    return len(devices), sum(1 for d in devices if not d.upper().startswith("CPU"))


# llama.cpp's loader says where each layer goes: "load_tensors: layer   3 assigned to device CUDA0, is_swa = 0".
_LAYER_DEVICE = re.compile(r"layer\s+\d+\s+assigned to device\s+([^,\s]+)")


@contextlib.contextmanager
def _llama_log(lines: list[str]) -> Iterator[None]:
    """Collect llama.cpp's log lines while loading, then give logging back to llama-cpp-python."""
    import ctypes

    import llama_cpp

    @llama_cpp.llama_log_callback  # type: ignore[misc]
    def collect(level: int, text: bytes, user_data: Any) -> None:
        lines.append(text.decode("utf-8", errors="replace"))

    _KEEP.append(collect)  # llama.cpp keeps the pointer: the callback must outlive this call
    llama_cpp.llama_log_set(collect, ctypes.c_void_p(0))
    try:
        yield
    finally:
        # llama-cpp-python's own callback (llama_cpp._logger, present since 0.2.x); without it, stay silent.
        own = getattr(getattr(llama_cpp, "_logger", None), "llama_log_callback", None)
        if own is not None:
            llama_cpp.llama_log_set(own, ctypes.c_void_p(0))


_KEEP: list[Any] = []
