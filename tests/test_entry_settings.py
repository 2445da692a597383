"""A wrong setting stops every bot entry point with one sentence naming it, a non-zero status and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SENTENCE = ("Error: COACH_N_GPU_LAYERS is 'abc', but it must be a whole number of layers to offload to the GPU, "
            "-1 or more (-1 = all, 0 = CPU only).")


@pytest.mark.parametrize("module", ["bot.slack_app", "bot.discord_bot", "bot.serve"])
def test_a_wrong_setting_is_one_sentence_without_a_traceback(tmp_path: Path, module: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "COACH_"))}
    # Tokens present, so the wrong setting is the only thing to report.
    env.update(PYTHONPATH=str(REPO), COACH_DATA_DIR=str(tmp_path / "data"), COACH_N_GPU_LAYERS="abc",
               DISCORD_TOKEN="MTAdiscordFAKEtoken.abc123", SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1")
    # From an empty folder, so that no .env file adds anything.
    result = subprocess.run([sys.executable, "-m", module], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr == SENTENCE + "\n" and result.stdout == ""
    assert not (tmp_path / "data").exists()   # nothing was created before the settings were read
