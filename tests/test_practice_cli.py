"""The terminal, driven through standard input: /flag in an interview, review, export and forget."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.core.bank import load_bank
from bot.core.replies import Action, Request, UserRef
from bot.core.store.sql import SqlStore
from bot.core.testing import fake_coach
from tests.narrow import must

REPO = Path(__file__).resolve().parent.parent
ANSWER = "Pooling reduces the spatial size of feature maps, and max pooling keeps the largest value in each window."


def cli(tmp_path: Path, knowledge: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "COACH_"))}
    env.update(PYTHONPATH=str(REPO), COACH_DATA_DIR=str(tmp_path / "data"), COACH_KNOWLEDGE_DIR=str(knowledge))
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture()
def seeded(tmp_path: Path, knowledge: Path) -> Path:
    """The data folder with answers by alice and bob (graded by the real coach on fast parts)."""
    (tmp_path / "data").mkdir()
    store = SqlStore(f"sqlite:///{tmp_path / 'data' / 'coach.db'}")
    coach = fake_coach(load_bank(knowledge), store)
    for user in ("alice", "bob"):
        ref = UserRef("cli", user)
        store.create_session(ref, ["pooling"])
        list(coach.act(Request(ref, Action.ANSWER, text=f"{ANSWER} ({user})")))
    store.close()
    return tmp_path


def test_flag_in_the_interview_then_review_fix_through_stdin(tmp_path: Path, knowledge: Path) -> None:
    run = cli(tmp_path, knowledge, "--no-llm", "--user", "carol", "--count", "1", stdin="/flag the answer is wrong\n")
    assert run.returncode == 0, run.stderr
    assert "flagged for review" in run.stdout
    queue = json.loads(cli(tmp_path, knowledge, "review", "--json").stdout)
    [item] = queue["flags"]
    assert item["reason"] == "the answer is wrong" and "carol" not in json.dumps(item)
    typed = "f\nk\nFirst fixed point\nSecond fixed point\nThird fixed point\n\n"
    run = cli(tmp_path, knowledge, "review", stdin=typed)
    assert run.returncode == 0 and f"Fixed '{item['question_id']}'" in run.stdout, run.stdout + run.stderr
    fixes = yaml.safe_load((knowledge / "mini.overrides.yaml").read_text())
    assert fixes["entries"][item["question_id"]]["key_points"][0] == "First fixed point"
    assert must(load_bank(knowledge).get(item["question_id"]).key_points)[2] == "Third fixed point"
    assert json.loads(cli(tmp_path, knowledge, "review", "--json").stdout) == {"flags": []}
    run = cli(tmp_path, knowledge, "review", "--dismiss", str(item["id"]))
    assert run.returncode == 2 and run.stderr.strip().endswith("or there is no such flag.")
    assert "Traceback" not in run.stderr


def test_export_writes_one_users_attempts_in_each_format(seeded: Path, knowledge: Path) -> None:
    out = seeded / "alice.csv"
    run = cli(seeded, knowledge, "export", "--format", "csv", "--user", "alice", "--out", str(out))
    assert run.returncode == 0 and "Wrote 1 attempt of cli:alice to" in run.stdout, run.stderr
    [row] = list(csv.DictReader(io.StringIO(out.read_text())))
    assert row["answer"].endswith("(alice)") and int(row["score"]) > 0 and row["question_id"] == "pooling"
    run = cli(seeded, knowledge, "export", "--user", "alice", "--out", "-")
    [line] = run.stdout.splitlines()
    assert json.loads(line)["answer"].endswith("(alice)") and "(bob)" not in run.stdout
    run = cli(seeded, knowledge, "export", "--format", "anki", "--user", "alice")
    assert run.returncode == 0 and (seeded / "interview-coach-cli-alice.apkg").read_bytes()[:2] == b"PK"
    run = cli(seeded, knowledge, "export", "--user", "nobody")
    assert run.returncode == 2 and run.stderr.strip() == ("Error: You have no answers to export yet: answer a "
                                                         "question first.")


def test_forget_needs_the_typed_confirmation(seeded: Path, knowledge: Path) -> None:
    run = cli(seeded, knowledge, "forget", "--user", "alice", stdin="alcie\n")
    assert run.returncode == 1 and "nothing was deleted" in run.stderr
    run = cli(seeded, knowledge, "forget", "--user", "alice", stdin="alice\n")
    assert run.returncode == 0 and "Deleted: 1 attempt, 1 session, 1 review card and your settings." in run.stdout
    assert cli(seeded, knowledge, "export", "--user", "alice").returncode == 2
    [bob] = cli(seeded, knowledge, "export", "--user", "bob", "--out", "-").stdout.splitlines()
    assert json.loads(bob)["answer"].endswith("(bob)")
    run = cli(seeded, knowledge, "forget", "--user", "bob", "--yes")
    assert run.returncode == 0 and "Deleted" in run.stdout
    assert "Nothing is stored about you" in cli(seeded, knowledge, "forget", "--user", "bob", "--yes").stdout
