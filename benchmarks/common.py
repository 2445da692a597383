"""Shared bits of the benchmarks: machine and model description, percentiles, test data, a scratch data folder."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def summary(values: Sequence[float], digits: int = 4) -> dict[str, float | int]:
    """p50, p95 and max of a list of seconds (or milliseconds), and how many there were."""
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    return {"n": len(values), "p50": round(statistics.median(values), digits),
            "p95": round(percentile(values, 0.95), digits), "max": round(max(values), digits)}


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform's guess elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """Cores, CPU model and load average: printed with every result, since the machine may be shared."""
    load = os.getloadavg()
    return {"cores": os.cpu_count() or 1, "cpu_model": cpu_model(), "load_average": [round(x, 2) for x in load],
            "python": platform.python_version()}


def model_info(path: Path | None) -> dict[str, Any]:
    """Name and size of the model file."""
    if path is None or not path.exists():
        return {"name": None, "bytes": 0, "mib": 0.0}
    size = path.stat().st_size
    return {"name": path.name, "bytes": size, "mib": round(size / 2**20, 1)}


def load_yaml(name: str) -> Any:
    """A file of tests/data."""
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def labeled_pairs(bank: Any) -> list[tuple[Any, str]]:
    """(entry, answer text) for every labeled answer whose question is in the bank."""
    pairs: list[tuple[Any, str]] = []
    for item in load_yaml("labeled_answers.yaml"):
        if item["question_id"] in bank.entries:
            pairs.extend((bank.get(item["question_id"]), a["text"]) for a in item["answers"])
    return pairs


def paraphrase_queries() -> list[str]:
    """The paraphrased retrieval queries."""
    return [item["query"] for item in load_yaml("paraphrases.yaml")]


def scratch_data_dir(model_path: Path | None, parent: Path | None = None) -> Path:
    """A fresh COACH_DATA_DIR holding only the already assembled model (a link) and its verified marker."""
    folder = Path(tempfile.mkdtemp(prefix="coach-bench-", dir=parent))
    if model_path is not None:
        models = folder / "models"
        models.mkdir()
        (models / model_path.name).symlink_to(model_path.resolve())
        marker = model_path.with_name(model_path.name + ".verified.json")
        if marker.exists():
            shutil.copy2(marker, models / marker.name)
    return folder


def child_env(data_dir: Path, model_choice: str, **extra: str) -> dict[str, str]:
    """The environment of a coach subprocess: its own data folder, the chosen model, no colours."""
    env = dict(os.environ)
    env.update({"COACH_DATA_DIR": str(data_dir), "COACH_MODEL": model_choice, "NO_COLOR": "1", "TERM": "dumb",
                "COLUMNS": "120", "PYTHONUNBUFFERED": "1", **extra})
    return env
