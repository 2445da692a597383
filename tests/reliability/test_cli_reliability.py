"""The operator commands on wrong input (cases 32-36): an off-deck `grade --question`, `ask --json` at its prompt,
the top-level help, broken decks, and skipped questions in the figures."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from bot.config import REPO_ROOT, Settings
from bot.core.runtime import Runtime
from bot.errors import CoachError
from tests.cli_support import (
    TEST_DECKS,
    TRACEBACK,
    cli_env,
    run_cli,
)

QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "grade_questions.yaml"


# ---------------------------------------------------------------------------------------------- case 32


def test_case32_grade_refuses_a_question_that_is_not_in_the_bank(scratch: Path, record: Any) -> None:
    env = cli_env(scratch)
    off, on = (run_cli(["grade", "--no-llm", "--json", "--question", q], env, b"Layers of pasta and sauce, baked.")
               for q in ["What is the best recipe for lasagna?", "what is dropout"])  # one at a time: one index
    record(32, "`grade --question` off the deck", "“What is the best recipe for lasagna?” (and “what is dropout”)",
           f"exit {off.returncode}, nothing graded; the deck question: exit {on.returncode}, graded against "
           f"{json.loads(on.stdout)['question_id'] if on.returncode == 0 else '?'}", sees=f"“{off.stderr.strip()}”")
    assert off.returncode == 2 and off.stdout == "" and off.stderr.count("\n") == 1 and TRACEBACK not in off.stderr
    assert off.stderr.startswith("Error: No question of the bank is about “What is the best recipe for lasagna?”")
    assert on.returncode == 0 and json.loads(on.stdout)["question_id"] == "dropout"


def test_case32_the_match_threshold_on_questions_it_was_not_tuned_on(real_embedder: Any, tmp_path: Path,
                                                                     record: Any) -> None:
    from bot.cli_commands import entry_for

    settings = Settings(COACH_DATA_DIR=tmp_path, COACH_KNOWLEDGE_DIR=REPO_ROOT / "knowledge")  # type: ignore[call-arg]
    runtime = Runtime(settings, use_llm=False, embedder=real_embedder)
    figures = {}
    for part, groups in yaml.safe_load(QUESTIONS.read_text()).items():
        accepted = {}
        for group, questions in groups.items():
            ok = 0
            for question in questions:
                try:
                    entry_for(runtime, question)
                    ok += 1
                except CoachError:
                    pass
            accepted[group] = (ok, len(questions))
        figures[part] = accepted
    runtime.close()
    record(32, "`grade --question` match threshold", "tests/data/grade_questions.yaml: users' wordings of deck "
           "questions and off-deck questions; `tune` chose the threshold, `holdout` was kept aside",
           "; ".join(f"{part}: deck accepted {f['in_deck'][0]}/{f['in_deck'][1]}, off-deck refused "
                     f"{f['off_topic'][1] - f['off_topic'][0]}/{f['off_topic'][1]}" for part, f in figures.items()))
    for f in figures.values():
        assert f["in_deck"][0] >= 0.95 * f["in_deck"][1] and f["off_topic"][0] <= 0.05 * f["off_topic"][1]


# ---------------------------------------------------------------------------------------------- case 33


def test_case33_ask_json_at_the_prompt_is_pure_json(scratch: Path, record: Any) -> None:
    out = run_cli(["ask", "--json", "--k", "1"], cli_env(scratch), b"dropout\nmomentum\n\n")
    docs = [json.loads(doc) for doc in re.split(r"(?<=\n})\n(?={)", out.stdout.strip())]
    record(33, "`ask --json` at its prompt", "two questions typed at the `ask>` prompt, output read as JSON",
           f"{len(docs)} JSON documents on stdout, ids {[d['results'][0]['id'] for d in docs]}; prompts on stderr: "
           f"{out.stderr.count('ask> ')}", sees="the `ask> ` prompt on the terminal (standard error); only JSON on "
           "standard output")
    assert out.returncode == 0 and "ask>" not in out.stdout and out.stderr.count("ask> ") == 3
    assert [d["results"][0]["id"] for d in docs] == ["dropout", "momentum"]


# ---------------------------------------------------------------------------------------------- case 34


def test_case34_top_level_help_lists_the_commands(scratch: Path, record: Any) -> None:
    out = run_cli(["--help"], cli_env(scratch))
    commands = re.findall(r"^\s{4}(\w+)\s", out.stdout, re.M)
    record(34, "`python -m bot.cli --help`", "the top-level help", f"exit {out.returncode}; commands listed: "
           f"{commands}; interview options shown: {'--topic' in out.stdout}",
           sees=f"“{out.stdout.splitlines()[0]}” then the {len(commands)} commands, one line each")
    assert out.returncode == 0
    assert commands == ["interview", "index", "ask", "grade", "stats", "doctor", "review", "export", "forget"]
    assert "--topic" not in out.stdout


# ---------------------------------------------------------------------------------------------- case 35


def test_case35_broken_decks_name_the_entry_and_the_line(scratch: Path, record: Any) -> None:
    decks = {"quote": scratch / "quote", "topic": scratch / "topic"}
    text = (TEST_DECKS / "mini.yaml").read_text()
    decks["quote"].mkdir()
    (decks["quote"] / "mini.yaml").write_text(text.replace(
        "question: How does momentum speed up gradient descent?", 'question: "How does momentum speed up'))
    decks["topic"].mkdir()
    data = yaml.safe_load(text)
    data["questions"][2]["topics"] = ["pooling"]
    (decks["topic"] / "mini.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with ThreadPoolExecutor(2) as pool:
        outs = dict(zip(decks, pool.map(lambda d: run_cli(["index"], cli_env(scratch, COACH_KNOWLEDGE_DIR=str(d))),
                                        decks.values()), strict=True))
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "momentum speed up" in row)
    said = {k: o.stderr.strip() for k, o in outs.items()}
    record(35, "Broken decks", "an unclosed quote (the parser stops at the end of the file); a topic outside the "
           "deck's list", f"exits {[o.returncode for o in outs.values()]}",
           sees="; ".join(f"“{v}”" for v in said.values()))
    assert all(o.returncode == 2 and o.stderr.count("\n") == 1 for o in outs.values()), said
    assert said["quote"].startswith(f"Error: Deck mini.yaml is not valid YAML at line {line} (entry 'momentum')")
    assert said["topic"] == ("Error: Deck mini.yaml, entry 'pooling', field 'topics': 'pooling' is not in the deck's "
                             "topics (regularization, optimization, cnn).")


# ---------------------------------------------------------------------------------------------- case 36


def test_case36_skipped_questions_are_not_zeros(scratch: Path, record: Any) -> None:
    env = cli_env(scratch)
    run = run_cli(["interview", "--no-llm", "--count", "3", "--user", "skipper"], env,
                  b"/skip\n/skip\nbananas grow on trees in the sun\n\n/skip\n/skip\n")
    stats = run_cli(["stats", "--json", "--user", "skipper"], env)
    data = json.loads(stats.stdout)
    card = run.stdout[run.stdout.rfind("Report card"):]
    average = re.findall(r"Average: \d+/100", card)
    record(36, "Skipped questions in the figures", "two questions skipped, one answered off-topic, through "
           "`interview`; then `stats --json`", f"report card: strongest topic shown {'Strongest' in card}, average "
           f"line {average}; stats: attempts {data['attempts']}, skipped "
           f"{data['skipped']}, average {data['average']}, topics {data['by_topic']}",
           sees="the report card lists the two questions as “skipped”, averages the answered one only, and names no "
           "strongest topic")
    assert run.returncode == 0 and card.count("skipped") == 2 and "Strongest topic" not in card
    assert data["attempts"] == 1 and data["skipped"] == 2 and len(data["by_topic"]) == 1
    assert f"Average: {int(data['average'])}/100" in card
