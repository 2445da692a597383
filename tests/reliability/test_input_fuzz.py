"""Case 24: random input against the terminal interview and `grade`: 0 crashes, 0 tracebacks, every shown attempt
stored. Most inputs run in-process (real Terminal, Coach, SQLite store and Chroma index; hashing embedder and a
scripted model); a smaller sample runs `python -m bot.cli` itself with the packaged embedder."""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import bot.core.embedder as embedder_module
from bot.cli import main
from bot.core.replies import Reply, ReplyKind, Request, UserRef
from tests.cli_support import (
    TRACEBACK,
    Script,
    attempts,
    cli_env,
    fake_runtime,
    interview_args,
    run_cli,
    stdin_reader,
)

SEED = 17
WORDS = ["dropout", "neurons", "training", "inference", "overfitting", "momentum", "gradient", "descent", "pooling",
         "feature", "maps", "window", "ensemble", "robust", "average", "oscillations", "layer", "the", "a", "of"]
COMMANDS = ["/hint", "/skip", "/reveal", "/help", "/HINT", "/Skip ", "/hnit", "/skpi", "/stpo", "/", "//", "/123",
            "/hint please", "/usr/bin/env", "/reveal all"]
ENDINGS = ["/stop", "/quit", "/quit now", "/exit", "/STOP"]  # rarer: each ends the run early
UNICODE = ("\u202e\u2066", "\u200b\ufeff", "e\u0301\u0301\u0301", "漢字かな交じり文", "😀👩‍💻🏳️‍🌈", "ﷺ",
           "\U0001d54f\U0001d556", "\x1b[31mred\x1b[0m", "[bold red]markup[/]", "[link=file:///etc]x[/link]",
           "\udcef\udcff", "\x00\x01\x07\x08", "\t\t  \r", "ǅ İ ß ﬁ", "Ω≈ç√∫", "\\n\\x00")


def _line(rng: random.Random) -> str | bytes:
    """One random line: words, a command, Unicode oddities, raw bytes, markup, very long, or empty."""
    kind = rng.choices(["words", "command", "unicode", "bytes", "empty", "long"], [30, 14, 18, 18, 16, 4])[0]
    if kind == "words":
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 25)))
    if kind == "command":
        return rng.choice(ENDINGS) if rng.random() < 0.1 else rng.choice(COMMANDS)
    if kind == "unicode":
        return "".join(rng.choice(UNICODE + tuple(WORDS)) + rng.choice(" \t") for _ in range(rng.randint(1, 6)))
    if kind == "bytes":
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 80))).replace(b"\n", b" ")
    if kind == "long":
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(2_000, 5_000)))
    return ""


def _as_line(item: str | bytes) -> str:
    return item.decode("utf-8", errors="replace") if isinstance(item, bytes) else item


class Watched:
    """The replies a terminal showed and the answers sent to the coach, by attempt id; the lines it read."""

    def __init__(self, runtime: Any) -> None:
        from bot.core.text import as_text

        self.sent: dict[int, str] = {}
        self.shown: list[int] = []
        self.reads = 0
        coach = runtime.coach
        original = coach.act

        def act(request: Request, **kwargs: Any) -> Iterator[Reply]:
            for reply in original(request, **kwargs):
                if reply.kind is ReplyKind.SCORE and "attempt_id" in reply.data:
                    self.sent[int(reply.data["attempt_id"])] = as_text(request.text)[:20000]
                yield reply

        coach.act = act  # type: ignore[method-assign]

    def terminal(self, read: Any, buf: io.StringIO) -> Any:
        from bot.cli_interview import Terminal

        def counted(prompt: str) -> str:
            self.reads += 1  # each line read, and the end of input or Ctrl-C that stops the reading
            return str(read(prompt))

        term = Terminal(Console(file=buf, width=120), read=counted)
        show_one = term.show_one

        def show(reply: Reply) -> None:
            if reply.kind is ReplyKind.SCORE and "attempt_id" in reply.data:
                self.shown.append(int(reply.data["attempt_id"]))
            show_one(reply)

        term.show_one = show  # type: ignore[method-assign]
        return term


def test_case24_fuzz_interview_in_process(tmp_path: Path, record: Any) -> None:
    from bot.cli_interview import run_interview

    rng = random.Random(SEED)
    runtimes = {llm: fake_runtime(tmp_path / f"data-{llm}", use_llm=llm) for llm in (True, False)}
    watched = {llm: Watched(rt) for llm, rt in runtimes.items()}
    crashes = tracebacks = runs = 0
    codes: dict[int, int] = {}
    while sum(w.reads for w in watched.values()) < 1_200:
        llm = rng.random() < 0.5
        runtime, watch = runtimes[llm], watched[llm]
        lines = [_line(rng) for _ in range(rng.randint(1, 30))]
        end = rng.choice([EOFError, EOFError, KeyboardInterrupt])
        if rng.random() < 0.4:  # as bytes on standard input, decoded the way the terminal decodes them
            data = b"\n".join(x if isinstance(x, bytes) else x.encode("utf-8", "surrogatepass") for x in lines)
            read: Any = stdin_reader(data[: rng.randint(0, len(data))])  # end of input at a random byte
        else:
            read = Script([_as_line(x) for x in lines], end=end)
        buf = io.StringIO()
        args = interview_args(user=f"u{rng.randint(1, 4)}", no_llm=not llm, count=rng.choice([None, 1, 2, 3]),
                              topic=rng.choice([None, None, "cnn", "optimization"]))
        try:
            code = run_interview(runtime, args, watch.terminal(read, buf), background=False)
            codes[code] = codes.get(code, 0) + 1
        except BaseException as exc:  # noqa: BLE001 - every escape is the finding
            crashes += 1
            print(f"crash: {exc!r} on {lines!r}")
        tracebacks += TRACEBACK in buf.getvalue()
        runs += 1
    inputs = sum(w.reads for w in watched.values())
    missing = []
    for llm, runtime in runtimes.items():
        stored = {a.id: a.answer for u in range(1, 5) for a in runtime.store.attempts(UserRef("cli", f"u{u}"))}
        missing += [i for i in watched[llm].shown if stored.get(i) != watched[llm].sent.get(i)]
        runtime.close()
    shown = sum(len(w.shown) for w in watched.values())
    record(24, "Fuzz: terminal interview (in-process)", f"{inputs} random lines (words, commands, Unicode, raw bytes, "
           f"markup, 10k-word lines, empty) read in {runs} runs, each ended by Ctrl-D or Ctrl-C at a random point",
           f"{crashes} crashes, {tracebacks} tracebacks; {shown} attempts shown, {shown - len(missing)} stored as "
           f"sent; exit codes {dict(sorted(codes.items()))}")
    assert inputs >= 1_000 and crashes == 0 and tracebacks == 0
    assert shown > 100 and missing == []
    assert set(codes) <= {0, 130}


@pytest.fixture()
def shared_embedder(real_embedder: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`python -m bot.cli` in-process with the session's packaged MiniLM instead of loading it per command."""
    monkeypatch.setattr(embedder_module, "SentenceEmbedder", lambda *a, **k: real_embedder)
    return real_embedder


def test_case24_fuzz_grade_in_process(scratch: Path, shared_embedder: Any, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], record: Any) -> None:
    rng = random.Random(SEED + 1)
    for name, value in cli_env(scratch).items():
        if name.startswith("COACH_"):
            monkeypatch.setenv(name, value)
    questions = ["what is dropout", "momentum", "pooling", "dropout", "What is the best recipe for lasagna?", ""]
    outcomes: dict[str, int] = {}
    bad = []
    for _ in range(200):
        question = rng.choice(questions + [_as_line(_line(rng))])
        data = b"\n".join(x if isinstance(x, bytes) else x.encode("utf-8", "surrogatepass")
                          for x in (_line(rng) for _ in range(rng.randint(0, 6))))
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        try:
            code = main(["grade", "--no-llm", "--json", "--question", question])
        except BaseException as exc:  # noqa: BLE001 - every escape is the finding
            code = -1
            bad.append(repr(exc))
        out = capsys.readouterr()
        if code == 0:
            result = json.loads(out.out)
            ok = 0 <= result["score"] <= 100 and not out.err.strip()
        else:
            ok = code == 2 and out.err.count("\n") == 1 and out.err.startswith("Error: ") and out.out == ""
        if not ok or TRACEBACK in out.out + out.err:
            bad.append((question, code, out.err[-300:]))
        key = "graded" if code == 0 else "refused (one sentence)" if code == 2 else f"exit {code}"
        outcomes[key] = outcomes.get(key, 0) + 1
    record(24, "Fuzz: `grade` (in-process)", "200 random answers (bytes, Unicode, empty, 10k words) with random "
           "--question texts, `grade --json --no-llm`", f"{len(bad)} failures; {outcomes}")
    assert bad == []


def _stdin(rng: random.Random, lines: int) -> bytes:
    items = [_line(rng) for _ in range(lines)]
    data = b"\n".join(x if isinstance(x, bytes) else x.encode("utf-8", "surrogatepass") for x in items)
    return data[: rng.randint(len(data) // 2, len(data))]  # end of input at a random point


SCORE_LINE = re.compile(r"^(?:> |  )*Score: \d+/100$", re.M)


def test_case24_fuzz_subprocess_sample(scratch: Path, record: Any) -> None:
    rng = random.Random(SEED + 2)
    env = cli_env(scratch)
    interview = [(["interview", "--no-llm", "--count", "3", "--user", "fuzz"], _stdin(rng, 60)) for _ in range(4)]
    grade = [(["grade", "--no-llm", "--json", "--question", "dropout"], _stdin(rng, 20)) for _ in range(2)]
    runs = interview + grade
    outs = []
    with ThreadPoolExecutor(2) as pool:
        for args, data in runs[:1]:  # the first run builds the index; the others then share it
            outs.append(run_cli(args, env, data))
        outs += list(pool.map(lambda r: run_cli(r[0], env, r[1]), runs[1:]))
    shown = sum(len(SCORE_LINE.findall(o.stdout)) for o in outs[: len(interview)])
    stored = [a for a in attempts(scratch / "coach.db", "fuzz") if not a["skipped"]]
    bad = [(o.returncode, o.stderr[-400:]) for o in outs
           if o.returncode not in (0, 130) or TRACEBACK in o.stdout + o.stderr or "went wrong" in o.stderr]
    lines = sum(data.count(b"\n") + 1 for _, data in runs)
    record(24, "Fuzz: `python -m bot.cli` (subprocess sample)", f"{len(runs)} processes (4 interviews, 2 grades) fed "
           f"{lines} random lines of bytes, cut at a random point", f"{len(bad)} crashes or tracebacks; "
           f"{shown} scores shown, {len(stored)} attempts stored")
    assert bad == [] and shown == len(stored) and shown > 0
    for out in outs[len(interview):]:
        assert 0 <= json.loads(out.stdout)["score"] <= 100
