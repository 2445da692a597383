"""Input the terminal never expected (cases 20-23): undecodable bytes, unknown /commands, Ctrl-D or Ctrl-C in the
middle of an answer, a topic that does not exist. Each as a new user meets it: `python -m bot.cli` on a scratch data
folder, and in-process for the details."""

from __future__ import annotations

import io
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console

from tests.cli_support import (
    TRACEBACK,
    Script,
    attempts,
    cli_env,
    fake_runtime,
    interview_args,
    open_sessions,
    run_cli,
)

NO_CRASH = ("something went wrong", TRACEBACK)


def _clean(out: subprocess.CompletedProcess[str]) -> bool:
    return not any(bad in out.stdout + out.stderr for bad in NO_CRASH)


# ---------------------------------------------------------------------------------------------- case 20


def test_case20_undecodable_bytes_are_answers_not_crashes(scratch: Path, record: Any) -> None:
    env = cli_env(scratch)
    runs = {
        "interview": (["interview", "--no-llm", "--count", "1", "--user", "bytes"],
                      b"Dropout turns off a na\xefve fraction of neurons \xff\xfe during training\n\n"),
        "ask": (["ask", "--k", "1", "--json", "dropout ne\xefurons".encode("utf-8", "surrogateescape").decode(
            "utf-8", "surrogateescape")], b""),
        "grade": (["grade", "--no-llm", "--json", "--question", "dropout"], b"Dropout \x80\x81 turns off neurons"),
    }
    with ThreadPoolExecutor(2) as pool:
        outs = dict(zip(runs, pool.map(lambda r: run_cli(r[0], env, r[1]), runs.values()), strict=True))
    stored = attempts(scratch / "coach.db", "bytes")
    graded = json.loads(outs["grade"].stdout) if outs["grade"].returncode == 0 else {}
    record(20, "Undecodable bytes in answers",
           "a Latin-1 byte in a piped interview answer; a non-UTF-8 argument to `ask`; random bytes to `grade`",
           f"exit {[o.returncode for o in outs.values()]}; {len(stored)} answer stored",
           sees=f"the answer is graded like any other and kept as “{stored[0]['answer'][:48]}…”; `ask` and `grade` "
           "answer normally" if stored else "nothing stored")
    for name, out in outs.items():
        assert out.returncode == 0 and _clean(out), (name, out.stdout[-1500:], out.stderr[-1500:])
    assert len(stored) == 1 and "na\ufffdve" in stored[0]["answer"] and "\ufffd\ufffd" in stored[0]["answer"]
    assert re.search(r"^(?:> |  )*Score: \d+/100$", outs["interview"].stdout, re.M)
    assert json.loads(outs["ask"].stdout)["results"] and 0 <= graded["score"] <= 100


def test_case20_surrogates_and_nul_from_any_adapter_are_stored_as_text(tmp_path: Path) -> None:
    runtime = fake_runtime(tmp_path / "data")
    from bot.core.replies import Action, ReplyKind, Request, UserRef

    user = UserRef("discord", "u1")
    list(runtime.coach.act(Request(user, Action.START, count=1)))
    text = "Dropout \udcef turns off\x00 neurons during training"
    replies = list(runtime.coach.act(Request(user, Action.ANSWER, text=text)))
    assert replies[0].kind is ReplyKind.SCORE
    stored = runtime.store.attempts(user)
    assert stored[0].answer == "Dropout \ufffd turns off\ufffd neurons during training"
    runtime.close()


# ---------------------------------------------------------------------------------------------- case 21


def test_case21_an_unknown_command_is_not_graded(scratch: Path, record: Any) -> None:
    out = run_cli(["interview", "--no-llm", "--count", "2", "--user", "typo"], cli_env(scratch), b"/hnit\n\n")
    stored = attempts(scratch / "coach.db", "typo")
    sessions = open_sessions(scratch / "coach.db")
    said = next((line for line in out.stdout.splitlines() if "/hnit" in line), "")
    record(21, "Unknown /command", "`/hnit` then an empty line, piped into `interview`",
           f"{len(stored)} answers graded; open session at position {sessions[0]['position'] if sessions else '?'}",
           sees=f"“{said.strip().lstrip('> ')}”")
    assert out.returncode == 0 and _clean(out), out.stderr
    assert stored == [] and len(sessions) == 1 and sessions[0]["position"] == 0
    assert "not a command" in said and "/hint" in said


def test_case21_commands_in_process(tmp_path: Path) -> None:
    from bot.cli_interview import Terminal, run_interview

    runtime = fake_runtime(tmp_path / "data")
    buf = io.StringIO()
    script = Script(["/HINT", "/skpi", "/usr/bin is a folder, not an answer", "", "/Help", "/quit"])
    code = run_interview(runtime, interview_args(count=2), Terminal(Console(file=buf, width=200), read=script),
                         background=False)
    text = buf.getvalue()
    assert code == 0 and "Hint:" in text and "Did you mean /skip?" in text
    stored = runtime.store.attempts(_user())
    # A path is an answer, not a command; /quit leaves the interview open.
    assert [a.answer for a in stored] == ["/usr/bin is a folder, not an answer"]
    assert runtime.store.open_session(_user()) is not None
    runtime.close()


def _user() -> Any:
    from bot.core.replies import UserRef

    return UserRef("cli", "tester")


# ---------------------------------------------------------------------------------------------- case 22


def test_case22_ctrl_d_mid_answer_sends_nothing_and_keeps_the_draft(scratch: Path, record: Any) -> None:
    env = cli_env(scratch)
    half = b"Dropout randomly turns off neurons during training\nso that"
    first = run_cli(["interview", "--no-llm", "--count", "2", "--user", "eof"], env, half)
    stored = attempts(scratch / "coach.db", "eof")
    sessions = open_sessions(scratch / "coach.db")
    again = run_cli(["interview", "--no-llm", "--count", "2", "--user", "eof"], env, b"")
    said = next((line for line in first.stdout.splitlines() if "Your interview is saved" in line), "").strip()
    record(22, "Ctrl-D in the middle of an answer", "two typed lines without the closing empty line, then end of "
           "input; the same command again", f"{len(stored)} answers sent; resumed at "
           f"{'the question' if sessions and sessions[0]['phase'] == 'AWAITING_ANSWER' else 'the follow-up'}; "
           f"the draft shown again on return: {'so that' in again.stdout}",
           sees=f"“{said.lstrip('> ').strip()}”, and on return: “Your unfinished answer from last time (not sent; "
           "copy what you need):” followed by the two lines")
    assert first.returncode == 0 and _clean(first) and _clean(again)
    assert stored == [] and sessions[0]["phase"] == "AWAITING_ANSWER" and sessions[0]["position"] == 0
    assert "Your unfinished answer was not sent; it is kept and shown when you come back." in said
    assert "Resuming your interview" in again.stdout and "so that" in again.stdout


def test_case22_ctrl_c_mid_answer_keeps_the_draft_in_process(tmp_path: Path) -> None:
    from bot.cli_interview import Terminal, run_interview

    runtime = fake_runtime(tmp_path / "data")
    buf = io.StringIO()
    term = Terminal(Console(file=buf, width=200), read=Script(["A first line", "a second"], end=KeyboardInterrupt))
    assert run_interview(runtime, interview_args(), term, background=False) == 130
    assert runtime.store.attempts(_user()) == [] and "was not sent; it is kept" in buf.getvalue()
    buf2 = io.StringIO()
    term2 = Terminal(Console(file=buf2, width=200), read=Script(["/quit"]))
    assert run_interview(runtime, interview_args(), term2, background=False) == 0
    assert "A first line\na second" in buf2.getvalue()
    runtime.close()


# ---------------------------------------------------------------------------------------------- case 23


def test_case23_a_topic_that_does_not_exist_stops_with_one_sentence(scratch: Path, record: Any) -> None:
    out = run_cli(["interview", "--no-llm", "--topic", "nonexistent"], cli_env(scratch), b"an answer\n\n/stop\n")
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    record(23, "`interview --topic nonexistent`", "a topic that is not in the deck", f"exit {out.returncode}; "
           f"prompts shown: {out.stdout.count('>')}", sees=f"“{lines[0] if lines else ''}” (standard error)")
    assert out.returncode == 2 and _clean(out) and len(lines) == 1
    assert lines[0].startswith("Error: There is no topic 'nonexistent'. Topics: ") and "regularization" in lines[0]
    assert "no interview in progress" not in out.stdout and attempts(scratch / "coach.db") == []
