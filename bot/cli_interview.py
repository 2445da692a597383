"""The terminal interview: rich rendering of the coach's replies, answers read from standard input."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading
from collections.abc import Callable, Iterable

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from bot.config import Settings
from bot.core.replies import Reply, ReplyKind, UserRef
from bot.core.runtime import Runtime
from bot.errors import CoachError

COMMANDS = {"/hint": "hint", "/skip": "skip", "/reveal": "reveal", "/stop": "stop", "/help": "help"}
HELP = ("Type your answer and finish it with an empty line. Commands: /hint a nudge, /skip next question, "
        "/reveal an example answer, /stop end with the report card. Ctrl-C or Ctrl-D leaves the interview "
        "resumable.")
STYLE = {ReplyKind.QUESTION: "cyan", ReplyKind.FOLLOW_UP: "cyan", ReplyKind.SCORE: "green",
         ReplyKind.REPORT: "magenta", ReplyKind.ERROR: "red", ReplyKind.REVEAL: "yellow"}


class Terminal:
    """Renders replies on a rich console and reads answers (several lines, ended by an empty line)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.streamed = False

    def show(self, replies: Iterable[Reply]) -> Reply | None:
        """Print each reply; returns the last one."""
        last = None
        for reply in replies:
            self.show_one(reply)
            last = reply
        return last

    def show_one(self, reply: Reply) -> None:
        """One reply, styled by its kind."""
        if reply.kind is ReplyKind.CRITIQUE and self.streamed:
            self.streamed = False
            if not reply.data.get("llm") or reply.data.get("revised"):
                # A streamed line failed its check against the rubric: the checked critique is what counts.
                if reply.data.get("llm"):
                    self.console.print("\nChecked against the rubric:", style="dim")
                self.console.print(escape(reply.text))
            return
        style = STYLE.get(reply.kind)
        if reply.kind in (ReplyKind.QUESTION, ReplyKind.REPORT, ReplyKind.FOLLOW_UP):
            self.console.print(Panel(escape(reply.text), border_style=style or "white"))
        else:
            self.console.print(escape(reply.text), style=style)

    def token(self, piece: str) -> None:
        """A piece of the streaming critique, printed as it arrives."""
        if not self.streamed:
            self.streamed = True
        self.console.print(escape(piece), end="", soft_wrap=True)
        self.console.file.flush()

    def read_answer(self, on_line: Callable[[str], None] | None = None) -> str | None:
        """Lines until an empty line (a command is one line); None at end of input. on_line gets the answer so
        far after each line (the model evaluates it while the next one is typed)."""
        lines: list[str] = []
        while True:
            try:
                line = input("> " if not lines else "  ")
            except EOFError:
                return "\n".join(lines) if lines else None
            if not lines and line.strip().lower() in COMMANDS:
                return line.strip().lower()
            if not line.strip():
                if lines:
                    return "\n".join(lines)
                continue
            lines.append(line)
            if on_line is not None:
                on_line("\n".join(lines))


def cmd_interview(args: argparse.Namespace, settings: Settings) -> int:
    """A mock interview in the terminal, resumable after Ctrl-C."""
    term = Terminal()
    runtime = Runtime(settings, use_llm=not args.no_llm, parallel=1)  # one user: one sequence of KV cache
    _assemble_model_first(runtime, term)
    user = UserRef("cli", args.user or _login())
    coach = runtime.coach
    current = coach.current(user)
    if current is not None:
        term.console.print("Resuming your interview where you left it.", style="dim")
        term.show([current])
    else:
        term.show(coach.start(user, topic=args.topic, count=args.count))
    term.console.print(HELP, style="dim")
    threading.Thread(target=_warm_up, args=(runtime,), name="warm-up", daemon=True).start()
    try:
        code = _loop(runtime, user, term, use_llm=not args.no_llm)
    except KeyboardInterrupt:
        term.console.print("\nYour interview is saved; run the same command to resume it.", style="dim")
        code = 130
    runtime.close()
    # Every answer is committed; torch and llama.cpp threads may still be loading, and tearing them down
    # through the interpreter's shutdown aborts the process, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _loop(runtime: Runtime, user: UserRef, term: Terminal, *, use_llm: bool) -> int:
    while True:
        text = term.read_answer(on_line=lambda typed: runtime.prewarm_typed(user, typed) if use_llm else None)
        if text is None:
            term.console.print("Your interview is saved; run the same command to resume it.", style="dim")
            return 0
        if text == "/help":
            term.console.print(HELP, style="dim")
            continue
        try:
            last = term.show(_dispatch(runtime, user, text, term, use_llm))
        except CoachError as exc:
            term.show_one(Reply(ReplyKind.ERROR, str(exc)))
            continue
        if last is not None and last.kind is ReplyKind.REPORT:
            return 0


def _dispatch(runtime: Runtime, user: UserRef, text: str, term: Terminal, use_llm: bool) -> Iterable[Reply]:
    coach = runtime.coach
    command = COMMANDS.get(text)
    if command == "hint":
        return [coach.hint(user)]
    if command == "skip":
        return coach.skip(user)
    if command == "reveal":
        return coach.reveal(user)
    if command == "stop":
        return [coach.stop(user)]
    if runtime.llm is not None and not runtime.llm.ready and runtime.llm.failed is None:
        term.console.print("(the model is still loading; the critique follows the score)", style="dim")
    return coach.answer(user, text, use_llm=use_llm, on_token=term.token)


def _warm_up(runtime: Runtime) -> None:
    """Load torch, the embedder, the index and the model behind the first question."""
    try:
        runtime.warm_up()
    except CoachError as exc:
        print(f"Warning: {exc}", file=sys.stderr)


def _assemble_model_first(runtime: Runtime, term: Terminal) -> None:
    """On the very first run, build the packaged model with a progress bar before the interview starts."""
    if runtime.llm is None or runtime.settings.model_path or runtime.settings.llm_base_url:
        return
    from bot.core.llm.modelfile import model_ready, resolve_model_path

    if model_ready(runtime.settings):
        return
    from bot.cli_commands import progress_bar

    term.console.print("First run: assembling the model from its packages (once).", style="dim")
    try:
        with progress_bar("Assembling the model") as update:
            resolve_model_path(runtime.settings, progress=update)
    except CoachError as exc:
        term.console.print(f"{escape(str(exc))} Grading continues with the rubric only.", style="yellow")


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"
