"""The operator sub-commands of the terminal adapter: index, ask, grade, stats, doctor."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.cli import print_json
from bot.cli_practice import PRACTICE_COMMANDS
from bot.config import Settings
from bot.core.render import critique_text, score_text
from bot.core.runtime import Runtime
from bot.errors import CoachError

err = Console(stderr=True)
out = Console()


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on standard error, fed by (done, total) callbacks."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """Build or refresh the index; a no-op when nothing changed."""
    runtime = Runtime(settings)
    with progress_bar("Embedding entries") as update:
        report = runtime.reindex(rebuild=args.rebuild, progress=update)
    bank = runtime.bank
    if not report.changed:
        out.print(f"Index is up to date: {len(bank)} entries, nothing changed ({report.seconds:.2f} s).")
    else:
        out.print(f"Indexed {len(bank)} entries in {report.seconds:.2f} s: {len(report.added)} added, "
                  f"{len(report.updated)} updated, {len(report.removed)} removed, {report.unchanged} unchanged"
                  + (" (rebuilt)." if report.rebuilt else "."))
        for label, ids in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
            if ids and len(ids) <= 20:
                out.print(f"  {label}: {', '.join(ids)}")
    drafted = [e.id for e in bank.entries.values() if not e.key_points or e.drafted_points]
    if drafted:
        out.print(f"{len(drafted)} entries have no hand-written key points; their rubric comes from the reference "
                  f"answer (drafted, not reviewed): {', '.join(drafted[:20])}{' …' if len(drafted) > 20 else ''}")
    runtime.close()
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Retrieval over the bank; an interactive prompt when no text is given."""
    runtime = Runtime(settings)
    with progress_bar("Indexing") as update:
        index = runtime.index(progress=update)
    text = " ".join(args.text).strip()
    if text:
        _show_hits(index.search(text, k=max(1, args.k)), args.json)
        return 0
    err.print("Type a question to search the bank (empty line to quit).")
    while True:
        try:
            text = input("ask> ").strip()
        except EOFError:
            return 0
        if not text:
            return 0
        _show_hits(index.search(text, k=max(1, args.k)), args.json)


def _show_hits(hits: list[Any], as_json: bool) -> None:
    if as_json:
        print_json({"results": [h.to_json() for h in hits]})
        return
    table = Table(show_lines=True)
    for col in ("score", "id", "question", "topics"):
        table.add_column(col)
    for h in hits:
        table.add_row(f"{h.score:.3f}", h.entry.id, escape(h.entry.question), ", ".join(h.entry.topics))
    out.print(table)


def cmd_grade(args: argparse.Namespace, settings: Settings) -> int:
    """Grade the answer on standard input against the entry that best matches --question."""
    answer = sys.stdin.buffer.read().decode("utf-8", errors="replace")
    runtime = Runtime(settings, use_llm=not args.no_llm)
    hits = runtime.index().search(args.question, k=1)
    if not hits:
        raise CoachError("No bank entry matches that question.")
    entry = hits[0].entry
    if runtime.llm is not None:
        runtime.llm.start()
    grade = runtime.grader.grade(entry, answer, use_llm=not args.no_llm)
    if args.json:
        print_json(grade.to_json())
    else:
        data = grade.to_json()
        out.print(f"[bold]{escape(entry.question)}[/bold]")
        out.print(escape(score_text(grade.view())))
        out.print(escape(critique_text(data)))
        if grade.follow_up:
            out.print(f"Follow-up: {escape(grade.follow_up)}")
    runtime.close()
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    """A user's progress; --plot writes the chart as PNG."""
    from bot.core.replies import Action, Request, UserRef

    runtime = Runtime(settings, use_llm=False)
    user = UserRef("cli", args.user or getpass.getuser())
    reply = next(runtime.coach.act(Request(user, Action.STATS, chart=bool(args.plot))))
    if args.plot and reply.image:
        with open(args.plot, "wb") as handle:
            handle.write(reply.image)
    if args.json:
        print_json(reply.data)
    else:
        out.print(escape(reply.text))
        if args.plot:
            out.print(f"Chart written to {escape(args.plot)}.")
    runtime.close()
    return 0


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
