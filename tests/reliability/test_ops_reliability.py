"""Operations: broken model files, the Chroma folder, secrets in output (cases 8, 9, 13)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from bot.core.bank import load_bank
from bot.core.embedder import HashEmbedder
from bot.core.index import ChromaIndex
from bot.core.llm.lazy import LazyLLM
from bot.core.llm.llama import LlamaCppLLM
from bot.core.llm.modelfile import check_quick, verify_model
from bot.core.replies import Action, Request, UserRef
from bot.errors import ModelError
from tests.fake_slack_api import TEST_DECKS, build_coach

REPO = Path(__file__).resolve().parents[2]
TOKENS = {"DISCORD_TOKEN": "MTAdiscordFAKEtoken.abc123.xyz789", "SLACK_BOT_TOKEN": "xoxb-11111-fake-bot-token",
          "SLACK_APP_TOKEN": "xapp-1-fake-app-token-2222", "SLACK_SIGNING_SECRET": "fakesigningsecret3333",
          "COACH_LLM_API_KEY": "sk-fake-llm-key-4444"}


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "SLACK_", "DISCORD_"))}
    return env | {"COACH_DATA_DIR": str(tmp_path / "data"), "COACH_KNOWLEDGE_DIR": str(TEST_DECKS),
                  "PYTHONPATH": str(REPO)} | extra


def _run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def _sentence(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text.endswith((".", ")")) and "Traceback" not in text, text
    return text


# ---------------------------------------------------------------------------------------------- case 8


def _broken_models(tmp_path: Path, tiny_gguf: Path) -> dict[str, Path]:
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(tiny_gguf.read_bytes()[: tiny_gguf.stat().st_size // 2])
    return {"missing": tmp_path / "nowhere.gguf", "truncated": truncated}


def test_case8_broken_model_files_are_one_sentence(tmp_path: Path, tiny_gguf: Path, record: Any) -> None:
    sentences: dict[str, str] = {}
    for name, path in _broken_models(tmp_path, tiny_gguf).items():
        with pytest.raises(ModelError) as caught:
            check_quick(path)
            verify_model(path)
        sentences[name] = _sentence(caught.value)
        with pytest.raises(ModelError) as loaded:
            LlamaCppLLM(path, n_threads=1, n_ctx=128)
        _sentence(loaded.value)
    with pytest.raises(ModelError) as wrong:
        verify_model(tiny_gguf, tiny_gguf.stat().st_size, "0" * 64)
    sentences["wrong checksum"] = _sentence(wrong.value)
    models = _broken_models(tmp_path, tiny_gguf)
    with ThreadPoolExecutor(2) as pool:
        outs = dict(zip(models, pool.map(lambda p: _run(["-m", "bot.cli", "doctor"], _env(
            tmp_path, COACH_MODEL_PATH=str(p), COLUMNS="250")), models.values()), strict=True))
    doctor = {}
    for name, out in outs.items():
        assert out.returncode == 1 and "Traceback" not in out.stdout + out.stderr, out.stderr
        doctor[name] = next(line.strip() for line in out.stdout.splitlines() if line.strip().startswith("Model file"))
        assert doctor[name].endswith(".") and ("does not exist" in doctor[name] or "truncated" in doctor[name])
    record(8, "Broken model file", "missing / truncated / wrong sha256: the error at load, and `doctor` "
           "(subprocess, COACH_MODEL_PATH + COACH_DATA_DIR in tmp)", "one sentence each: " +
           "; ".join(f"{k}: “{v.split(' ', 3)[3][:60]}”" for k, v in sentences.items()) + "; doctor: exit 1, "
           + "; ".join(f"{k}: “{v.split(' ', 3)[3][:40]}…”" for k, v in doctor.items()))


def test_case8_a_failed_load_and_no_llm_run_rubric_only(tmp_path: Path, record: Any) -> None:
    def broken() -> Any:
        raise ModelError("Model file /x.gguf does not exist; set COACH_MODEL_PATH.")

    lazy = LazyLLM(broken).start()
    lazy._done.wait(5)
    coach = build_coach(tmp_path / "c.db", llm=lazy)
    user = UserRef("slack", "U8")
    list(coach.act(Request(user, Action.START, topic="regularization", count=1)))
    text = "Dropout randomly turns off neurons during training so it overfits less."
    replies = list(coach.act(Request(user, Action.ANSWER, text=text)))
    marked = "(Feedback from the rubric only" in replies[1].text
    answer = "Dropout randomly turns off neurons during training.\n" + "\n" * 10
    out = subprocess.run([sys.executable, "-m", "bot.cli", "interview", "--no-llm", "--count", "1"], cwd=REPO,
                         env=_env(tmp_path, COACH_MODEL_PATH=str(tmp_path / "none")),
                         input=answer, capture_output=True, text=True, timeout=120)
    cli_marked = "rubric only" in out.stdout
    record(8, "Rubric-only when the model is absent", "a failed model load (LazyLLM) through Coach.answer; "
           "`interview --no-llm` as a subprocess", f"failed load: rubric-only reply marked {marked}; "
           f"--no-llm: exit {out.returncode}, marked {cli_marked}")
    assert marked and lazy.failed is not None
    assert out.returncode == 0 and cli_marked and "Traceback" not in out.stderr, out.stdout[-800:] + out.stderr[-800:]


# ---------------------------------------------------------------------------------------------- case 9


def test_case9_embedder_change_rebuilds_and_a_second_process_is_refused(tmp_path: Path, record: Any) -> None:
    bank = load_bank(TEST_DECKS)
    first = ChromaIndex(HashEmbedder(dim=64), path=tmp_path / "chroma")
    first.sync(bank)
    first.close()
    changed = ChromaIndex(HashEmbedder(dim=128, name="another-model"), path=tmp_path / "chroma")
    report = changed.sync(bank)
    code = ("import sys,time; from pathlib import Path; from bot.core.embedder import HashEmbedder\n"
            "from bot.core.index import ChromaIndex; from bot.errors import IndexBusyError\nt=time.monotonic()\n"
            "try:\n ChromaIndex(HashEmbedder(), path=Path(sys.argv[1]))\nexcept IndexBusyError as e:\n"
            " print(f'{time.monotonic()-t:.2f}', e); sys.exit(3)\n")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "chroma")], cwd=REPO, capture_output=True,
                          text=True, timeout=30, env=_env(tmp_path))
    total = time.monotonic() - started
    changed.close()
    waited = float(proc.stdout.split()[0]) if proc.returncode == 3 else float("inf")
    record(9, "Chroma folder", "embedder changed (64→128 dims, new name); a second process opens the same folder",
           f"rebuild detected {report.rebuilt}, {report.embedded_texts} texts re-embedded; second process refused "
           f"after {waited:.2f} s (whole process {total:.1f} s): “{proc.stdout.strip()[5:120]}”")
    assert report.rebuilt and len(report.added) == len(bank)
    assert proc.returncode == 3 and waited < 2.0 and "Another process" in proc.stdout


# ---------------------------------------------------------------------------------------------- case 13


def _leaks(text: str) -> list[str]:
    return [name for name, value in TOKENS.items() if value in text]


def test_case13_secrets_never_appear_in_output(tmp_path: Path, record: Any) -> None:
    env = _env(tmp_path, **TOKENS, COACH_MODEL_PATH=str(tmp_path / "none.gguf"),
               COACH_DATABASE_URL=f"sqlite:///{tmp_path}/x.db", COACH_SLACK_API_URL="http://127.0.0.1:9/api/")
    runs = {"doctor": ["-m", "bot.cli", "doctor"], "slack start (API unreachable)": ["-m", "bot.slack_app", "--http"],
            "cli crash (unwritable data dir)": ["-m", "bot.cli", "stats", "--user", TOKENS["SLACK_BOT_TOKEN"]]}
    found: dict[str, list[str]] = {}
    for name, args in runs.items():
        out = _run(args, env)
        log = tmp_path / "data" / "logs" / "coach.log"
        found[name] = _leaks(out.stdout + out.stderr + (log.read_text() if log.exists() else ""))
    logged = _run(["-c", "import logging,os; from bot.config import Settings; from bot.logs import setup_logging\n"
                   "s=Settings(); setup_logging(s.secrets()); log=logging.getLogger('x')\n"
                   "try:\n raise RuntimeError('bad token ' + os.environ['DISCORD_TOKEN'])\n"
                   "except RuntimeError:\n log.exception('failed with %s', os.environ['SLACK_BOT_TOKEN'])\n"
                   "print(repr(s))"], env)
    found["logged exception + Settings repr"] = _leaks(logged.stdout + logged.stderr)
    record(13, "Secrets in output", f"fake tokens in the environment; scanned {', '.join(found)}",
           f"{sum(map(len, found.values()))} leaks: {found}")
    assert all(not v for v in found.values()), found


def test_case13_slack_app_logs_are_scrubbed(tmp_path: Path) -> None:
    env = _env(tmp_path, **TOKENS)
    out = _run(["-c", "import logging,os,sys; import bot.slack_app as s\n"
                "def run(settings, http):\n logging.getLogger('bot').error('request failed: %s', "
                "os.environ['SLACK_BOT_TOKEN'])\ns.run = run\nsys.exit(s.main(['--http']))"], env)
    assert "request failed" in out.stderr and not _leaks(out.stderr)
