"""Smoke test of `python -m benchmarks --quick`: it completes and writes every figure (targets are not asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.report import FIGURES

REPO = Path(__file__).resolve().parent.parent
SMALL_MODEL = REPO / "data" / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


@pytest.fixture(scope="module")
def small_model() -> Path:
    """The small packaged model assembled where the benchmark looks for it; skipped when its packages are absent."""
    from bot.config import Settings
    from bot.core.llm.modelfile import resolve_model_path
    from bot.errors import ModelError

    try:
        path = resolve_model_path(Settings(COACH_DATA_DIR=REPO / "data", COACH_MODEL="0.5b", COACH_MODEL_PATH=None))
    except ModelError as exc:
        pytest.skip(str(exc))
    assert path == SMALL_MODEL
    return path


@pytest.mark.slow
@pytest.mark.real_model
@pytest.mark.timeout(600)
def test_quick_benchmark_writes_every_field(tmp_path: Path, small_model: Path) -> None:
    out = tmp_path / "quick.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COACH_")}
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["quick"] is True
    assert set(FIGURES) <= set(data["figures"]), set(FIGURES) - set(data["figures"])
    for key in ("cores", "cpu_model", "load_average"):
        assert key in data["machine_start"] and key in data["machine_end"]
    assert data["model"]["name"] == SMALL_MODEL.name and data["model"]["bytes"] > 0
    assert len(data["table"]) >= 15 and all({"figure", "result", "target", "met"} <= set(r) for r in data["table"])
    crowd = data["figures"]["crowd"]
    assert crowd["answers_sent"] == crowd["users"] and "lost_answers" in crowd
    # The single stream it is compared with: the same answers, one at a time, in the same run.
    assert crowd["one_at_a_time_s"] > 0 and data["figures"]["crowd_throughput_ratio"] == crowd["ratio_same_answers"]
    assert "| figure |" in done.stdout
