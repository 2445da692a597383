"""The operator sub-commands of the terminal adapter: index, ask, grade, stats, doctor."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.cli import print_json
from bot.cli_practice import PRACTICE_COMMANDS
from bot.config import Settings
from bot.core.bank import Entry
from bot.core.render import critique_text, score_text
from bot.core.runtime import Runtime
from bot.core.text import as_text, plural
from bot.errors import CoachError

err = Console(stderr=True)
out = Console()


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on standard error, fed by (done, total) callbacks."""
    # Only on a terminal: piped or logged, a bar is noise around the one sentence an error prints.
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """Build or refresh the index; a no-op when nothing changed."""
    runtime = Runtime(settings)
    bank = runtime.bank  # a broken deck is reported before the index is opened
    with progress_bar("Embedding entries") as update:
        report = runtime.reindex(rebuild=args.rebuild, progress=update)
    if report.set_aside:
        out.print(f"The damaged index was moved to {escape(report.set_aside)} (kept; delete it when you no longer "
                  "need it) and a new one was built.")
    entries = plural(len(bank), "entry", "entries")
    if not report.changed:
        out.print(f"Index is up to date: {entries}, nothing changed ({report.seconds:.2f} s).")
    else:
        out.print(f"Indexed {entries} in {report.seconds:.2f} s: {len(report.added)} added, "
                  f"{len(report.updated)} updated, {len(report.removed)} removed, {report.unchanged} unchanged"
                  + (" (rebuilt)." if report.rebuilt else "."))
        for label, ids in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
            if ids and len(ids) <= 20:
                out.print(f"  {label}: {', '.join(ids)}")
    drafted = [e.id for e in bank.entries.values() if not e.key_points or e.drafted_points]
    if drafted:
        have = 'has' if len(drafted) == 1 else 'have'
        out.print(f"{plural(len(drafted), 'entry', 'entries')} {have} no hand-written key points; their rubric comes "
                  "from the reference "
                  f"answer (drafted, not reviewed): {', '.join(drafted[:20])}{' …' if len(drafted) > 20 else ''}")
    runtime.close()
    return 0


EMPTY_QUERY = 'The query is empty: give the words to look up, such as ask "why do gradients vanish" --json.'


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Retrieval over the bank; with no text, a prompt on standard error (so --json output stays JSON).

    A query given but blank (`ask ""`), or --json with no query at all, is an error: a script gets one sentence and
    exit status 2, never an empty success."""
    text = as_text(" ".join(args.text)).strip()
    if args.text and not text:
        raise CoachError(EMPTY_QUERY)
    runtime = Runtime(settings)
    with progress_bar("Indexing") as update:
        index = runtime.index(progress=update)
    if text:
        _show_hits(index.search(text, k=args.k), args.json)
        return 0
    err.print("Type a question to search the bank (empty line to quit).")
    asked = False
    while True:
        sys.stderr.write("ask> ")
        sys.stderr.flush()
        line = sys.stdin.readline()
        text = as_text(line).strip()
        if not text:
            if args.json and not asked:
                raise CoachError(EMPTY_QUERY)
            return 0
        asked = True
        _show_hits(index.search(text, k=args.k), args.json)


def _show_hits(hits: list[Any], as_json: bool) -> None:
    if as_json:
        print_json({"results": [h.to_json() for h in hits]})
        return
    # The relevance adds shared words to closeness in meaning, so it can pass 1: it orders, it is not a percentage.
    table = Table(show_lines=True, caption="relevance: closeness in meaning plus shared words; higher is closer")
    table.add_column("relevance", no_wrap=True)
    table.add_column("id", no_wrap=True, overflow="fold")
    table.add_column("question", ratio=1)
    table.add_column("topics", max_width=16, overflow="ellipsis")
    for h in hits:
        table.add_row(f"{h.score:.3f}", h.entry.id, escape(h.entry.question), ", ".join(h.entry.topics))
    out.print(table)


# `grade --question`: the closest entry is used only when the text is about it. The best cosine between the text and
# the entry's question, key points or first paragraph: 0.63 or more for every in-deck wording of
# tests/data/grade_questions.yaml, 0.33 or less for every off-topic question (tune and holdout halves alike).
QUESTION_MATCH = 0.45


def entry_for(runtime: Runtime, question: str) -> Entry:
    """The bank entry --question names (by id, or by its words); CoachError when none is close enough."""
    text = as_text(question).strip()
    if text in runtime.bank.entries:
        return runtime.bank.entries[text]
    hits = runtime.index().search(text, k=1) if text else []
    if not hits:
        raise CoachError("--question is empty; give the question's words or its id (see `python -m bot.cli ask`).")
    entry = hits[0].entry
    texts = [text, entry.question, " ".join(entry.key_points or ()) or entry.question, entry.answer.split("\n")[0]]
    vectors = runtime.embedder.embed(texts)
    if float((vectors[1:] @ vectors[0]).max()) < QUESTION_MATCH:
        shown = text if len(text) <= 80 else text[:79] + "…"
        raise CoachError(f"No question of the bank is about “{shown}”, so nothing was graded; give --question the "
                         "words or the id of a bank question (`python -m bot.cli ask TEXT` lists the closest ones).")
    return entry


def cmd_grade(args: argparse.Namespace, settings: Settings) -> int:
    """Grade the answer on standard input (or spoken in --audio) against the entry that best matches --question."""
    if args.audio:
        from bot.cli_voice import cmd_grade_audio

        return cmd_grade_audio(args, settings)
    answer = as_text(sys.stdin.buffer.read())
    runtime = Runtime(settings, use_llm=not args.no_llm, parallel=1)  # one answer: one sequence
    entry = entry_for(runtime, args.question)
    if runtime.llm is not None:
        runtime.llm.start()
    grade = runtime.grader.grade(entry, answer, use_llm=not args.no_llm)
    why = _model_not_used(runtime)
    if why:
        err.print(f"The model is not used: {escape(why)} Grading continues with the rubric only.", style="yellow")
    if args.json:
        print_json(grade.to_json())
    else:
        data = grade.view()
        out.print(f"[bold]{escape(entry.question)}[/bold]")
        out.print(escape(score_text(grade.view())))
        out.print(escape(critique_text(data)))
        if grade.follow_up:
            out.print(f"Follow-up: {escape(grade.follow_up)}")
    runtime.close()
    return 0


def _model_not_used(runtime: Runtime) -> str | None:
    """Why the model was asked for but not used (it failed to load, or its file cannot be a model)."""
    if runtime.llm is None:
        return None
    if runtime.llm.failed is not None:
        return str(runtime.llm.failed)
    if runtime.settings.model_path is not None and not runtime.settings.llm_base_url:
        from bot.core.llm.modelfile import unusable_reason

        problem = unusable_reason(runtime.settings.model_path.expanduser())
        return str(problem) if problem else None
    return None


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """A user's progress; --plot writes the chart as PNG."""
    from bot.core.replies import Action, Request, UserRef

    plot = Path(args.plot).expanduser() if args.plot else None
    if plot is not None:
        _check_writable(plot)
    runtime = Runtime(settings, use_llm=False)
    user = UserRef("cli", args.user or getpass.getuser())
    reply = next(runtime.coach.act(Request(user, Action.STATS, chart=plot is not None)))
    if plot is not None and reply.image:
        plot.write_bytes(reply.image)
    if args.json:
        print_json(reply.data)
    else:
        out.print(escape(reply.text))
        if plot is not None:
            out.print(f"Chart written to {escape(str(plot))}.")
    runtime.close()
    return 0


def _check_writable(path: Path) -> None:
    """A chart's file can be written: its folder exists and it is not a folder; checked before any work."""
    if path.is_dir():
        raise CoachError(f"--plot {path} is a folder; give a file name such as {path / 'progress.png'}.")
    if path.suffix.lower() != ".png":
        # Refused rather than renamed: the file written is then exactly the one named.
        raise CoachError(f"--plot {path}: the chart is a PNG image, so the file name must end in .png (such as "
                         f"{path.with_suffix('.png').name}); nothing was written.")
    if not path.parent.is_dir():
        raise CoachError(f"Cannot write the chart to {path}: the folder {path.parent} does not exist; create it or "
                         "choose another path.")
    if not os.access(path.parent, os.W_OK):
        raise CoachError(f"Cannot write the chart to {path}: the folder {path.parent} is not writable.")


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Model file, size and checksum; GPU offload; index freshness; database; tokens set or not."""
    from bot.doctor import run_doctor

    return run_doctor(settings, out)


def _interview(args: argparse.Namespace, settings: Settings) -> int:
    from bot.cli_interview import cmd_interview

    return cmd_interview(args, settings)


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "interview": _interview,
    "index": cmd_index,
    "ask": cmd_ask,
    "grade": cmd_grade,
    "stats": cmd_stats,
    "doctor": cmd_doctor,
    **PRACTICE_COMMANDS,
}
