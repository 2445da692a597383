"""Broken set-ups (cases 25-31): an embedding-model typo, a changed or failing embedder, a damaged Chroma store, a
broken model file, a wrong or unreachable database, wrong settings; and a `doctor` that tells the truth."""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

import bot.core.embedder as embedder_module
from bot.config import Settings
from bot.core.bank import load_bank
from bot.core.embedder import HashEmbedder
from bot.core.index import COLLECTION, ChromaIndex
from bot.doctor import run_doctor
from tests.cli_support import (
    TEST_DECKS,
    TRACEBACK,
    cli_env,
    run_cli,
    snapshot,
    without_dac,
)

MARK = re.compile(r"^\s*(ok|problem|-)\s{2}([^:]+): (.*)$")
SECRET = "s3cretPassw0rd"


def doctor_lines(text: str) -> tuple[list[tuple[str, str, str]], int | None]:
    """Doctor's lines as (mark, label, detail), and the number of problems its last sentence announces."""
    lines = [(m[1], m[2], m[3]) for line in text.splitlines() if (m := MARK.match(line))]
    last = text.strip().splitlines()[-1] if text.strip() else ""
    found = re.match(r"^(\d+) problems? found\.$", last)
    return lines, (0 if last == "All checks passed." else int(found.group(1)) if found else None)


def check_count(text: str, code: int) -> list[tuple[str, str, str]]:
    """Doctor's invariant: the announced count is the count of problem lines, and any problem means exit 1."""
    lines, announced = doctor_lines(text)
    problems = sum(1 for mark, _, _ in lines if mark == "problem")
    assert announced == problems, text
    assert code == (1 if problems else 0), (code, text)
    assert TRACEBACK not in text
    return lines


@pytest.fixture()
def doctor(real_embedder: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str]]:
    """`doctor` in-process on the given settings (the packaged embedder shared, loaded once)."""
    original = embedder_module.SentenceEmbedder

    def embedder(model: str | None = None, **kwargs: Any) -> Any:
        # Only the grading embedder is shared; the index's (all-mpnet-base-v2, given by keyword) is built as is.
        return real_embedder if model is None and not kwargs else original(model, **kwargs)

    monkeypatch.setattr(embedder_module, "SentenceEmbedder", embedder)

    def run(data_dir: Path, **env: Any) -> tuple[int, str]:
        settings = Settings(**({"COACH_DATA_DIR": data_dir, "COACH_KNOWLEDGE_DIR": TEST_DECKS} | env))
        buf = io.StringIO()
        code = run_doctor(settings, Console(file=buf, width=400, soft_wrap=True))
        return code, buf.getvalue()

    return run


def _line(lines: list[tuple[str, str, str]], label: str) -> tuple[str, str, str]:
    return next(line for line in lines if line[1] == label)


# ---------------------------------------------------------------------------------------------- case 25


def test_case25_an_embedding_model_typo_never_touches_the_index(scratch: Path, record: Any) -> None:
    env = cli_env(scratch)
    built = run_cli(["index"], env)
    assert built.returncode == 0, built.stderr
    typo = env | {"COACH_EMBEDDING_MODEL": "does-not-exist"}
    # One at a time: two commands opening the index at once would meet its process lock, not the typo.
    outs = [run_cli(args, typo, b"what is dropout\n") for args in (["doctor"], ["ask", "dropout"], ["index"])]
    after = run_cli(["index"], env)
    sentence = outs[1].stderr.strip()
    record(25, "Embedding-model typo", "COACH_EMBEDDING_MODEL=does-not-exist for `doctor`, `ask`, `index`, then a "
           "normal `index`", f"exits {[o.returncode for o in outs]}; then: “{after.stdout.strip()[:60]}…”",
           sees=f"“{sentence}”")
    assert [o.returncode for o in outs] == [1, 2, 2] and all(TRACEBACK not in o.stderr for o in outs)
    assert sentence.startswith("Error: The embedding model 'does-not-exist' cannot be loaded") and "\n" not in sentence
    assert after.returncode == 0 and "nothing changed" in after.stdout, after.stdout


# ---------------------------------------------------------------------------------------------- case 26


class FailingEmbedder(HashEmbedder):
    """Another embedding model that fails after `ok` batches (a crash, a full disk, Ctrl-C half-way)."""

    def __init__(self, ok: int, error: type[BaseException] = RuntimeError) -> None:
        super().__init__(dim=128, name="another-model")
        self.ok, self.error = ok, error

    def embed(self, texts: Any) -> np.ndarray:
        if len(self.calls) >= self.ok:
            raise self.error("embedding failed half-way")
        return super().embed(texts)


def test_case26_a_changed_embedder_rebuilds_aside_and_a_failure_keeps_the_old_index(tmp_path: Path,
                                                                                     record: Any) -> None:
    bank = load_bank(Path(__file__).resolve().parents[2] / "knowledge")
    path = tmp_path / "chroma"
    first = ChromaIndex(HashEmbedder(dim=64), path=path)
    first.sync(bank)
    before = [h.entry.id for h in first.search("why do gradients vanish", k=3)]
    first.close()
    outcomes = []
    for error in (RuntimeError, KeyboardInterrupt):
        failing = ChromaIndex(FailingEmbedder(ok=2, error=error), path=path)
        with pytest.raises(error):
            failing.sync(bank)
        failing.close()
        old = ChromaIndex(HashEmbedder(dim=64), path=path)
        report = old.sync(bank)
        outcomes.append((report.embedded_texts, [h.entry.id for h in old.search("why do gradients vanish", k=3)]))
        old.close()
    changed = ChromaIndex(HashEmbedder(dim=128, name="another-model"), path=path)
    rebuilt = changed.sync(bank)
    names = {c.name for c in changed.client.list_collections()}
    changed.close()
    record(26, "Changed embedding model", f"a new model (64→128 dims) fails half-way through the rebuild (an error, "
           f"then Ctrl-C); the old model again; then the new one for real ({len(bank)} entries)",
           f"after each failure the old index answers at once: {[n for n, _ in outcomes]} texts re-embedded, the same "
           f"results {all(r == before for _, r in outcomes)}; the real rebuild: {rebuilt.embedded_texts} texts, "
           f"collections left {sorted(names)}", sees="the error of the failed rebuild; the old index keeps answering")
    assert all(n == 0 and r == before for n, r in outcomes), outcomes
    assert rebuilt.rebuilt and len(rebuilt.added) == len(bank) and names == {COLLECTION}


def test_case26_a_swap_cut_short_is_finished_at_the_next_start(tmp_path: Path) -> None:
    bank = load_bank(TEST_DECKS)
    index = ChromaIndex(HashEmbedder(dim=64), path=tmp_path / "chroma")
    index.sync(bank)
    # The state a crash leaves between "rebuild complete" and "swapped in": no live collection, one ready.
    index.client.get_collection(COLLECTION).modify(name=f"{COLLECTION}-ready-0000")
    index.close()
    reopened = ChromaIndex(HashEmbedder(dim=64), path=tmp_path / "chroma")
    report = reopened.sync(bank)
    assert report.embedded_texts == 0 and [h.entry.id for h in reopened.search("dropout", k=1)] == ["dropout"]
    assert {c.name for c in reopened.client.list_collections()} == {COLLECTION}
    reopened.close()


# ---------------------------------------------------------------------------------------------- case 27


def test_case27_a_damaged_store_is_one_sentence_and_rebuild_recovers(scratch: Path, doctor: Any,
                                                                     record: Any) -> None:
    env = cli_env(scratch)
    assert run_cli(["index"], env).returncode == 0
    (scratch / "chroma" / "chroma.sqlite3").write_bytes(os.urandom(8192))
    # One at a time: two commands opening the index at once would meet its process lock, not the damage.
    ask, rebuild_first = (run_cli(args, env) for args in (["ask", "dropout"], ["index"]))
    code, text = doctor(scratch)
    lines = check_count(text, code)
    rebuilt = run_cli(["index", "--rebuild"], env)
    again = run_cli(["ask", "dropout", "--k", "1", "--json"], env)
    aside = sorted(p.name for p in scratch.iterdir() if p.name.startswith("chroma.damaged-"))
    record(27, "Damaged Chroma store", "chroma.sqlite3 overwritten with random bytes; `ask`, `index`, `doctor`, then "
           "`index --rebuild`, then `ask`", f"ask/index exit {ask.returncode}/{rebuild_first.returncode}; --rebuild "
           f"exit {rebuilt.returncode}, damaged files kept in {aside}; ask afterwards exit {again.returncode}",
           sees=f"“{ask.stderr.strip()}”; then `index --rebuild`: “{' '.join(rebuilt.stdout.split())}”")
    for out in (ask, rebuild_first):
        assert out.returncode == 2 and TRACEBACK not in out.stderr and out.stderr.count("\n") == 1
        assert "is damaged" in out.stderr and "python -m bot.cli index --rebuild" in out.stderr
    assert _line(lines, "index")[0] == "problem" and "--rebuild" in _line(lines, "index")[2]
    assert rebuilt.returncode == 0 and "moved to" in rebuilt.stdout and len(aside) == 1
    assert (scratch / aside[0] / "chroma.sqlite3").exists() and again.returncode == 0 and '"dropout"' in again.stdout


# ---------------------------------------------------------------------------------------------- case 28


def _broken_models(folder: Path, tiny_gguf: Path) -> dict[str, Path]:
    models = {"missing": folder / "nowhere.gguf", "empty": folder / "empty.gguf", "text": folder / "text.gguf",
              "truncated": folder / "truncated.gguf", "a folder": folder}
    models["empty"].write_bytes(b"")
    models["text"].write_text("<html><body>404 Not Found</body></html>\n")
    models["truncated"].write_bytes(tiny_gguf.read_bytes()[: tiny_gguf.stat().st_size // 2])
    return models


def test_case28_doctor_names_what_is_wrong_with_the_model_file(tmp_path: Path, tiny_gguf: Path, doctor: Any,
                                                               record: Any) -> None:
    seen = {}
    for name, path in _broken_models(tmp_path, tiny_gguf).items():
        code, text = doctor(tmp_path / "data", COACH_MODEL_PATH=path)
        lines = check_count(text, code)
        mark, _, detail = _line(lines, "model file")
        reason = next(line.strip() for line in text.splitlines() if line.strip().startswith("Model file"))
        seen[name] = reason
        assert mark == "problem" and code == 1 and reason.endswith("."), (name, text)
    code, text = doctor(tmp_path / "data", COACH_MODEL_PATH=tiny_gguf)
    good = check_count(text, code)
    record(28, "Broken COACH_MODEL_PATH in `doctor`", "missing, empty, text (an HTML page), truncated GGUF, a folder; "
           "then the tiny GGUF", f"{len(seen)} of {len(seen)} marked problem with the reason; the tiny GGUF: model "
           f"{_line(good, 'model file')[0]}, llama.cpp load {_line(good, 'llama.cpp load')[0]}",
           sees="; ".join(f"{k}: “{v}”" for k, v in seen.items()))
    assert "is empty (0 bytes)" in seen["empty"] and "text file" in seen["text"] and "truncated" in seen["truncated"]
    assert _line(good, "model file")[0] == "ok" and _line(good, "llama.cpp load")[0] == "ok"


def test_case28_interview_and_grade_say_why_the_model_is_not_used(scratch: Path, tiny_gguf: Path,
                                                                  record: Any) -> None:
    models = _broken_models(scratch, tiny_gguf)
    runs = {"interview (truncated)": (["interview", "--count", "1", "--user", "m"], models["truncated"],
                                      b"Dropout turns off neurons during training.\n\n/stop\n"),
            "grade (text file)": (["grade", "--question", "dropout"], models["text"], b"Dropout turns off neurons."),
            "grade --json (empty)": (["grade", "--question", "dropout", "--json"], models["empty"], b"Dropout.")}
    with ThreadPoolExecutor(2) as pool:  # a data folder each: their indexes are built at the same time
        outs = dict(zip(runs, pool.map(lambda r: run_cli(r[0], cli_env(scratch / r[0][0] / str(len(r[2])),
                                                                         COACH_MODEL_PATH=str(r[1])), r[2]),
                                       runs.values()), strict=True))
    said = {k: next((line.strip() for line in (o.stdout + o.stderr).splitlines() if "model is not used" in line), "")
            for k, o in outs.items()}
    record(28, "Rubric-only fallback says why", "`interview` and `grade` with a truncated, text or empty "
           "COACH_MODEL_PATH", f"exits {[o.returncode for o in outs.values()]}; the reason said once per run",
           sees="; ".join(f"{k}: “{v}”" for k, v in said.items()))
    for name, out in outs.items():
        assert out.returncode == 0 and TRACEBACK not in out.stdout + out.stderr, (name, out.stderr)
        assert said[name].startswith("The model is not used: Model file ") and said[name].endswith(
            "Grading continues with the rubric only."), (name, said[name])
    assert said["interview (truncated)"].count("not used") == 1
    assert outs["grade --json (empty)"].stdout.lstrip().startswith("{")  # the sentence went to standard error


# ---------------------------------------------------------------------------------------------- case 29


def _pg(user: str = "coach", password: str = SECRET, port: int | None = None) -> str:
    from sqlalchemy.engine import make_url

    from tests.test_scale_servers import postgres_url

    url = make_url(postgres_url())
    return url.set(username=user, password=password, port=port or url.port).render_as_string(hide_password=False)


def test_case29_database_urls_doctor_and_interview(scratch: Path, doctor: Any, record: Any) -> None:
    urls = {"garbage": "garbage", "no //": f"postgresql:coach:{SECRET}@127.0.0.1:1/coach",
            "unreachable": f"postgresql+psycopg://coach:{SECRET}@127.0.0.1:1/coach",
            "missing driver": f"mysql://coach:{SECRET}@127.0.0.1/coach"}
    seen = {}
    for name, url in urls.items():
        code, text = doctor(scratch, COACH_DATABASE_URL=url)
        lines = check_count(text, code)
        mark, _, detail = _line(lines, "database")
        seen[name] = detail
        assert mark == "problem" and SECRET not in text and "COACH_DATABASE_URL" in detail, (name, text)
    with ThreadPoolExecutor(2) as pool:
        outs = dict(zip(urls, pool.map(lambda u: run_cli(["interview", "--no-llm"], cli_env(
            scratch, COACH_DATABASE_URL=u), b"an answer\n\n"), urls.values()), strict=True))
    record(29, "Wrong COACH_DATABASE_URL", "garbage, a URL without //, an unreachable PostgreSQL, a driver not "
           "installed: `doctor` and `interview`", f"doctor: {len(seen)} problem lines; interview exits "
           f"{[o.returncode for o in outs.values()]}; the password shown 0 times",
           sees="; ".join(f"{k}: “{o.stderr.strip()}”" for k, o in outs.items()))
    for name, out in outs.items():
        assert out.returncode == 2 and SECRET not in out.stdout + out.stderr, (name, out.stderr)
        assert out.stderr.startswith("Error: ") and out.stderr.count("\n") == 1 and "COACH_DATABASE_URL" in out.stderr
    assert "Connection refused" in outs["unreachable"].stderr  # the driver's reason, only the password masked


def test_case29_a_read_only_data_folder(scratch: Path, record: Any) -> None:
    prefix = without_dac()
    env = cli_env(scratch)
    assert run_cli(["interview", "--no-llm", "--count", "1", "--user", "ro"], env, b"An answer.\n\n").returncode == 0
    for path in [scratch, *scratch.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    before = snapshot(scratch)
    doc = run_cli(["doctor"], env, prefix=prefix)
    interview = run_cli(["interview", "--no-llm", "--user", "ro2"], env, b"An answer.\n\n", prefix=prefix)
    lines = check_count(doc.stdout, doc.returncode)
    problems = [(label, detail) for mark, label, detail in lines if mark == "problem"]
    record(29, "Read-only data folder", "the data folder and its files made read-only (file permissions enforced): "
           "`doctor`, then `interview`", f"doctor: {len(problems)} problems ({', '.join(p[0] for p in problems)}); "
           f"interview exit {interview.returncode}; no file changed", sees=f"doctor: “{problems[0][1]}”; interview: "
           f"“{interview.stderr.strip()}”")
    assert {"data folder", "database"} <= {label for label, _ in problems} and doc.returncode == 1
    assert interview.returncode == 2 and TRACEBACK not in interview.stderr and "read-only" in interview.stderr
    assert snapshot(scratch) == before


@pytest.mark.skipif("COACH_TEST_POSTGRES_URL" not in os.environ, reason="no PostgreSQL test server")
def test_case29_doctor_on_a_real_postgresql(doctor: Any, tmp_path: Path) -> None:
    from sqlalchemy import create_engine, text

    from bot.core.store.sql import SqlStore

    good = _pg()
    SqlStore(good).engine.dispose()  # migrated, as a running bot leaves it
    code, report = doctor(tmp_path / "data", COACH_DATABASE_URL=good)
    lines = check_count(report, code)
    assert [_line(lines, label)[0] for label in ("database", "migrations", "writable")] == ["ok", "ok", "ok"]
    engine = create_engine(good.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP ROLE IF EXISTS coach_reader"))
        conn.execute(text("CREATE ROLE coach_reader LOGIN"))
        conn.execute(text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO coach_reader"))
    try:
        code, report = doctor(tmp_path / "data", COACH_DATABASE_URL=_pg(user="coach_reader"))
        lines = check_count(report, code)
        assert _line(lines, "writable")[0] == "problem" and SECRET not in report
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM processed_events WHERE event_id LIKE 'coach-doctor%'")
                                ).scalar() == 0
    finally:
        with engine.connect() as conn:
            conn.execute(text("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM coach_reader"))
            conn.execute(text("DROP ROLE coach_reader"))
        engine.dispose()


# ---------------------------------------------------------------------------------------------- case 30


def test_case30_settings_and_paths_are_named(scratch: Path, record: Any) -> None:
    a_file = scratch / "a-file"
    a_file.write_text("not a folder")
    runs = {"COACH_N_GPU_LAYERS=abc": (["interview"], {"COACH_N_GPU_LAYERS": "abc"}),
            "COACH_DATA_DIR is a file": (["stats"], {"COACH_DATA_DIR": str(a_file)}),
            "COACH_SLACK_PORT=99999": (["index"], {"COACH_SLACK_PORT": "99999"}),
            "stats --plot into a missing folder": (["stats", "--plot", str(scratch / "no" / "chart.png")], {})}
    with ThreadPoolExecutor(2) as pool:
        outs = dict(zip(runs, pool.map(lambda r: run_cli(r[0], cli_env(scratch, **r[1])), runs.values()),
                        strict=True))
    said = {k: o.stderr.strip() for k, o in outs.items()}
    record(30, "Wrong settings and paths", ", ".join(runs), f"exits {[o.returncode for o in outs.values()]}",
           sees="; ".join(f"“{v}”" for v in said.values()))
    for name, out in outs.items():
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and "went wrong" not in out.stderr, (name, said)
    assert said["COACH_N_GPU_LAYERS=abc"] == ("Error: COACH_N_GPU_LAYERS is 'abc', but it must be a whole number of "
                                              "layers to offload to the GPU, -1 or more (-1 = all, 0 = CPU only).")
    assert "COACH_DATA_DIR" in said["COACH_DATA_DIR is a file"] and "folder" in said["COACH_DATA_DIR is a file"]
    assert "COACH_SLACK_PORT" in said["COACH_SLACK_PORT=99999"]
    assert "does not exist" in said["stats --plot into a missing folder"] and not (scratch / "coach.db").exists()


def test_case30_coach_debug_prints_the_traceback_without_secrets(scratch: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 record: Any) -> None:
    import bot.cli_commands as commands
    from bot.cli import main

    def broken(args: Any, settings: Any) -> int:
        raise RuntimeError(f"a bug that mentions the token {os.environ['DISCORD_TOKEN']}")

    monkeypatch.setitem(commands.COMMANDS, "stats", broken)
    for name, value in cli_env(scratch, DISCORD_TOKEN="MTAdiscordFAKEtoken.abc123").items():
        monkeypatch.setenv(name, value)
    quiet = main(["stats"]), capsys.readouterr().err
    monkeypatch.setenv("COACH_DEBUG", "1")
    loud = main(["stats"]), capsys.readouterr().err
    logged = (scratch / "logs" / "coach.log").read_text()
    record(30, "COACH_DEBUG=1", "an unexpected error (a bug) whose message holds DISCORD_TOKEN, without and with "
           "COACH_DEBUG=1", f"with: {loud[1].count(chr(10))} lines of traceback on stderr; the token shown "
           f"{sum(s.count('MTAdiscordFAKEtoken') for s in (quiet[1], loud[1], logged))} times",
           sees=f"without: “{quiet[1].strip()}”; with: the scrubbed traceback, then that sentence")
    assert quiet[0] == loud[0] == 1 and TRACEBACK not in quiet[1] and "COACH_DEBUG=1" in quiet[1]
    assert TRACEBACK in loud[1] and "RuntimeError" in loud[1] and "[secret]" in loud[1]
    assert "MTAdiscordFAKEtoken" not in quiet[1] + loud[1] + logged


# ---------------------------------------------------------------------------------------------- case 31


def test_case31_doctor_changes_nothing_and_counts_its_lines(scratch: Path, doctor: Any, record: Any) -> None:
    fresh = scratch / "never-used"
    code, text = doctor(fresh)
    fresh_lines = check_count(text, code)
    made = fresh.exists()
    env = cli_env(scratch)
    assert run_cli(["index"], env).returncode == 0
    assert run_cli(["interview", "--no-llm", "--count", "1", "--user", "d"], env, b"An answer.\n\n").returncode == 0
    before = snapshot(scratch)
    code, text = doctor(scratch)
    used_lines = check_count(text, code)
    changed = sorted(k for k in set(before) | set(snapshot(scratch)) if before.get(k) != snapshot(scratch).get(k))
    (scratch / "knowledge").mkdir()
    shutil.copy(TEST_DECKS / "mini.yaml", scratch / "knowledge" / "mini.yaml")
    deck = (scratch / "knowledge" / "mini.yaml").read_text().replace("Max pooling keeps", "Max pooling takes")
    (scratch / "knowledge" / "mini.yaml").write_text(deck)
    code, text = doctor(scratch, COACH_KNOWLEDGE_DIR=scratch / "knowledge")
    stale = check_count(text, code)
    problems = [sum(m == "problem" for m, _, _ in lines) for lines in (fresh_lines, used_lines)]
    record(31, "`doctor` tells the truth", "a data folder never used; one used by an interview (every file's size "
           "and time compared before and after); an edited deck", f"never used: {problems[0]} problems, folder "
           f"created {made}; used: {problems[1]} problems, files changed {changed}; edited deck: index "
           f"“{_line(stale, 'index')[2][-70:]}”")
    assert not made and not any(m == "problem" for m, _, _ in fresh_lines)
    assert changed == [] and not any(m == "problem" for m, _, _ in used_lines)
    assert _line(stale, "index")[0] == "problem" and code == 1
