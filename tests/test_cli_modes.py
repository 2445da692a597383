"""The terminal driven through standard input: interviewer mode resumed after the process ends mid-interview, and a
deck chosen with --deck (a wrong one is one sentence and exit status 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(args: list[str], stdin: str, tmp_path: Path, knowledge: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "DISCORD_", "SLACK_"))}
    env |= {"COACH_DATA_DIR": str(tmp_path / "data"), "COACH_KNOWLEDGE_DIR": str(knowledge), "COACH_N_THREADS": "1",
            "COLUMNS": "200", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "bot.cli", "interview", "--no-llm", "--user", "ada", *args],
                          cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=300)


def test_interviewer_mode_in_the_terminal_resumes_after_the_process_ends(tmp_path: Path, two_decks: Path) -> None:
    args = ["--mode", "interviewer", "--deck", "mini", "--topic", "cnn", "--count", "1"]
    first = run(args, "Pooling reduces the spatial size of feature maps.\n\n/hint\n", tmp_path, two_decks)
    assert first.returncode == 0, first.stderr[-2000:]
    out = first.stdout
    assert "Interview (interviewer mode): 1 question on cnn" in out and "Time budget: 4:00" in out
    assert "Score" not in out and "/100" not in out   # nothing graded on screen during the interview
    assert "Follow-up:" in out and "Noted (" in out
    assert "Interviewer mode has no hints or example answers" in out
    assert "Your interview is saved" in out
    second = run(args, "It has no learnable parameters.\n\n/skip\n", tmp_path, two_decks)
    assert second.returncode == 0, second.stderr[-2000:]
    out = second.stdout
    assert "Resuming your interview where you left it" in out and "Follow-up:" in out
    assert "Interview report" in out and "Verdict:" in out
    assert 'you said: "Pooling reduces the spatial size of feature maps."' in out   # the answer given before
    assert 'You answered: "It has no learnable parameters."' in out
    assert "Traceback" not in first.stderr + second.stderr


def test_a_deck_for_one_interview_and_a_wrong_one(tmp_path: Path, two_decks: Path) -> None:
    wrong = run(["--deck", "kubernetes"], "", tmp_path, two_decks)
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == "Error: There is no deck 'kubernetes'. Decks: databases, mini."
    chosen = run(["--deck", "databases", "--count", "2"], "/stop\n", tmp_path, two_decks)
    assert chosen.returncode == 0, chosen.stderr[-2000:]
    assert "Mock interview: 2 questions from the deck 'databases'." in chosen.stdout and "Report card" in chosen.stdout
    assert "(indexing" in chosen.stdout or "(transactions" in chosen.stdout
