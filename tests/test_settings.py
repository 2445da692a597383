"""Settings as a user meets them: a misspelt COACH_ name is named with the real one; a wrong value says what it
must be."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from bot.config import NOT_SETTINGS, Settings, load_settings, setting_names
from bot.errors import ConfigError
from tests.cli_support import cli_env, run_cli, scratch_dir


def test_a_misspelt_name_is_warned_once_with_the_real_one_and_the_data_folder_is_not_silently_changed() -> None:
    data = scratch_dir()
    out = run_cli(["stats", "--user", "x"], cli_env(data, COACH_DATADIR=str(data / "zz"),
                                                   COACH_INTERVEIWER_SECONDS="30", COACH_TEST_ANYTHING="1"))
    assert out.returncode == 0, out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines == ["Warning: COACH_DATADIR is not a setting, so it is ignored; did you mean COACH_DATA_DIR?",
                     "Warning: COACH_INTERVEIWER_SECONDS is not a setting, so it is ignored; did you mean "
                     "COACH_INTERVIEWER_SECONDS?"]
    assert "COACH_TEST_ANYTHING" not in out.stderr   # the test harness's own knobs are allowed


def test_doctor_lists_an_unknown_name_as_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.doctor import Report
    from bot.doctor import setting_names as doctor_names

    monkeypatch.setenv("COACH_DATABSE_URL", "sqlite://")
    monkeypatch.setenv("COACH_RELIABILITY_OUT", "/tmp/x")
    console = Console(file=io.StringIO(), width=300)
    report = Report(console)
    doctor_names(report)
    printed = console.file.getvalue()   # type: ignore[attr-defined]
    assert report.problems == 1
    assert "problem" in printed and "COACH_DATABSE_URL is not a setting" in printed and "COACH_DATABASE_URL?" in printed
    assert "RELIABILITY" not in printed


def test_the_allow_list_covers_every_coach_name_the_tests_and_scripts_read() -> None:
    repo = Path(__file__).resolve().parent.parent
    import re

    used: set[str] = set()
    for folder in ("tests", "scripts", "benchmarks", ".ci"):
        for path in (repo / folder).rglob("*"):
            if path.is_file() and path.suffix in ("", ".py", ".sh", ".yml", ".yaml"):
                used |= set(re.findall(r"COACH_[A-Z_]*[A-Z]", path.read_text(errors="replace")))
    stray = {n for n in used if n not in setting_names() and not (n + "_").startswith(NOT_SETTINGS)}
    # Names a test sets on purpose to see them refused or to spell them wrong are fine; none other may appear.
    assert stray <= {"COACH_DATADIR", "COACH_INTERVEIWER_SECONDS", "COACH_TEST_ANYTHING", "COACH_DATABSE_URL"}, stray


@pytest.mark.parametrize(("name", "value", "sentence"), [
    ("COACH_INTERVIEWER_SECONDS", "-5", "COACH_INTERVIEWER_SECONDS is '-5', but it must be a whole number of seconds "
                                        "per question, 0 or more (0 = no time limit)."),
    ("COACH_MAX_AUDIO_MB", "0", "COACH_MAX_AUDIO_MB is '0', but it must be a number of megabytes, more than 0."),
    ("COACH_MAX_AUDIO_SECONDS", "-1", "COACH_MAX_AUDIO_SECONDS is '-1', but it must be a number of seconds, more "
                                      "than 0."),
    ("COACH_N_THREADS", "0", "COACH_N_THREADS is '0', but it must be a whole number of CPU threads, 1 or more."),
    ("COACH_SLACK_PORT", "70000", "COACH_SLACK_PORT is '70000', but it must be a port number from 1 to 65535."),
])
def test_a_value_out_of_bounds_says_what_is_expected(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                                     sentence: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == sentence


def test_every_constrained_setting_names_its_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    constrained = {f.alias: f for f in Settings.model_fields.values() if f.metadata and f.alias}
    assert len(constrained) >= 7
    for name, field in constrained.items():
        low = next(m for m in field.metadata if hasattr(m, "ge") or hasattr(m, "gt"))
        bad = str(int(getattr(low, "ge", getattr(low, "gt", 0))) - 1)
        monkeypatch.setenv(name, bad)
        with pytest.raises(ConfigError) as caught:
            load_settings()
        monkeypatch.delenv(name)
        said = str(caught.value)
        assert "valid value" not in said and ("or more" in said or "more than" in said or " to " in said), said


def test_counts_are_printed_in_the_right_number() -> None:
    from bot.core.text import plural

    assert [plural(n, "attempt") for n in (0, 1, 2)] == ["0 attempts", "1 attempt", "2 attempts"]
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"
