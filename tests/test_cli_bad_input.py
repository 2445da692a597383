"""Bad options a new user types: one sentence, exit status 2, nothing done."""

from __future__ import annotations

import json
from pathlib import Path

from bot.core.replies import Action, ReplyKind, UserRef
from tests.cli_support import cli_env, run_cli, scratch_dir
from tests.test_coach import act, build


def test_count_above_twenty_is_refused_not_silently_cut() -> None:
    data = scratch_dir()
    out = run_cli(["interview", "--no-llm", "--count", "21"], cli_env(data))
    assert out.returncode == 2
    assert out.stderr.strip().endswith("A mock interview has 1 to 20 questions; 21 is too many.")
    assert "Question 1 of 20" not in out.stdout and not (data / "coach.db").exists()


def test_the_engine_refuses_a_count_out_of_range_for_every_adapter(tmp_path: Path) -> None:
    coach, store = build(tmp_path)
    [reply] = act(coach, UserRef("slack", "U1"), Action.START, count=30)
    assert reply.kind is ReplyKind.ERROR and reply.text == "A mock interview has 1 to 20 questions; 30 is too many."
    assert store.open_session(UserRef("slack", "U1")) is None
    store.close()


def test_an_empty_query_with_json_is_one_sentence_and_a_failure() -> None:
    out = run_cli(["ask", "", "--json"], cli_env(scratch_dir()))
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip() == ('Error: The query is empty: give the words to look up, such as ask "why do '
                                  'gradients vanish" --json.')


def test_a_chart_is_written_only_to_a_png_name() -> None:
    data = scratch_dir()
    target = data / "p.txt"
    out = run_cli(["stats", "--user", "x", "--plot", str(target)], cli_env(data))
    assert out.returncode == 2 and not target.exists()
    assert out.stderr.strip() == (f"Error: --plot {target}: the chart is a PNG image, so the file name must end in "
                                  ".png "
                                  "(such as p.png); nothing was written.")


def test_grade_replaces_a_few_undecodable_bytes_and_grades_the_answer() -> None:
    out = run_cli(["grade", "--no-llm", "--json", "--question", "dropout"], cli_env(scratch_dir()),
                  stdin=b"Dropout \xff\xfe randomly turns off a fraction of neurons during each training step.\n")
    assert out.returncode == 0, out.stderr
    graded = json.loads(out.stdout)
    assert graded["score"] > 0 and not any("binary" in line for line in graded["feedback"])
    assert graded["key_points"][0]["covered"]
