"""The terminal interview: rich rendering of the coach's replies, answers read from standard input."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import getpass
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from bot.config import Settings
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.core.runtime import Runtime
from bot.core.text import as_text
from bot.errors import CoachError

COMMANDS = {"/hint": "hint", "/skip": "skip", "/reveal": "reveal", "/stop": "stop", "/help": "help",
            "/quit": "quit", "/exit": "quit"}
HELP = ("Type your answer and finish it with an empty line. Commands: /hint a nudge, /skip next question, "
        "/reveal an example answer, /stop end with the report card, /audio FILE answer with a recording, /flag REASON "
        "report a wrong question, /quit (or Ctrl-D, Ctrl-C) leave the interview resumable; an unfinished answer is "
        "kept, not sent.")
# A first word like /word is a command, known or mistyped; an answer may still start with a path (/usr/bin).
_COMMAND_WORD = re.compile(r"^/[A-Za-z][A-Za-z_-]*$")


@dataclass(frozen=True)
class Typed:
    """What the user typed: an answer, a command, an unknown /word, or the end of input (with any unfinished text)."""

    kind: str  # "answer" | "command" | "unknown" | "end" | "record" | "audio" (text: the file) | "flag" (the reason)
    text: str = ""
INTERVIEWER_HELP = ("Type your answer and finish it with an empty line. Commands: /skip next question, /stop end with "
                    "the report, /audio FILE answer with a recording, /flag REASON report a wrong question, /quit (or "
                    "Ctrl-D, Ctrl-C) leave the interview resumable.")
STYLE = {ReplyKind.QUESTION: "cyan", ReplyKind.FOLLOW_UP: "cyan", ReplyKind.SCORE: "green",
         ReplyKind.REPORT: "magenta", ReplyKind.ERROR: "red", ReplyKind.REVEAL: "yellow"}


class Terminal:
    """Renders replies on a rich console and reads answers (several lines, ended by an empty line)."""

    def __init__(self, console: Console | None = None, read: Callable[[str], str] | None = None,
                 voice: bool = False) -> None:
        self.console = console or Console(highlight=False)
        self.read = read or input
        self.streamed = False
        self.model_noted = False  # the reason the model is not used is said once
        self.voice = voice   # --voice: an empty line starts a recording
        self.help = HELP     # the commands of the interview's mode, for /help

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

    def read_answer(self, on_line: Callable[[str], None] | None = None) -> Typed:
        """Lines until an empty line; a /command is one line. End of input (Ctrl-D) never sends a half answer.
        on_line gets the answer so far after each line (the model evaluates it while the next one is typed)."""
        lines: list[str] = []
        while True:
            try:
                line = as_text(self.read("> " if not lines else "  "))
            except EOFError:
                return Typed("end", "\n".join(lines))
            except KeyboardInterrupt:
                raise Interrupted("\n".join(lines)) from None
            if not lines:
                words = line.split(maxsplit=1)
                if words and _COMMAND_WORD.match(words[0]):
                    word = words[0].lower()
                    rest = words[1].strip() if len(words) > 1 else ""
                    if word == "/audio":
                        return Typed("audio", rest.strip("'\""))
                    if word == "/flag":
                        return Typed("flag", rest)
                    return Typed("command", COMMANDS[word]) if word in COMMANDS else Typed("unknown", words[0])
            if not line.strip():
                if lines:
                    return Typed("answer", "\n".join(lines))
                if self.voice:
                    return Typed("record")
                continue
            lines.append(line)
            if on_line is not None:
                on_line("\n".join(lines))


class Interrupted(KeyboardInterrupt):
    """Ctrl-C while typing; carries the unfinished answer so it is kept."""

    def __init__(self, unfinished: str) -> None:
        super().__init__()
        self.unfinished = unfinished


def unknown_command(word: str) -> str:
    """One sentence for a mistyped command, with the closest one."""
    close = difflib.get_close_matches(word.lower(), [*COMMANDS, "/audio", "/flag"], n=1, cutoff=0.5)
    guess = f" Did you mean {close[0]}?" if close else ""
    return (f"{word} is not a command, so nothing was sent and the question is still open.{guess} "
            "Commands: /hint, /skip, /reveal, /stop, /audio FILE, /flag REASON, /quit, /help.")


class Drafts:
    """An unfinished answer, kept in the data folder when the user leaves mid-answer and shown on return."""

    def __init__(self, folder: Path, user: UserRef) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", user.key)[:100]
        self.path = folder / "drafts" / f"{safe}.json"

    def keep(self, question: dict[str, object], text: str) -> bool:
        """Save text for this question; False when it could not be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"question": question, "text": text}, ensure_ascii=False),
                                 encoding="utf-8")
        except OSError:
            return False
        return True

    def take(self, question: dict[str, object]) -> str | None:
        """The draft for this question (then forgotten), or None."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("question") != question or not isinstance(data.get("text"), str):
            return None
        self.forget()
        return str(data["text"])

    def forget(self) -> None:
        """Remove the draft (best effort)."""
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


def cmd_interview(args: argparse.Namespace, settings: Settings) -> int:
    """A mock interview in the terminal, resumable after Ctrl-C or Ctrl-D."""
    runtime = Runtime(settings, use_llm=not args.no_llm, parallel=1)  # one user: one sequence of KV cache
    code = run_interview(runtime, args, Terminal(voice=getattr(args, "voice", False)))
    runtime.close()
    # Every answer is committed; torch and llama.cpp threads may still be loading, and tearing them down
    # through the interpreter's shutdown aborts the process, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_interview(runtime: Runtime, args: argparse.Namespace, term: Terminal, *, background: bool = True) -> int:
    """The interview loop on a runtime; the exit status (2 when it cannot start).

    `background`: assemble the packaged model first if needed, and warm the heavy parts up on a thread.
    """
    from bot.core.ratelimit import RateLimiter

    problem = runtime.coach.topic_problem(args.topic)  # a broken deck or a wrong topic stops here, before slow work
    if problem is not None:
        print(f"Error: {problem}", file=sys.stderr)
        return 2
    user = UserRef("cli", args.user or _login())
    coach = runtime.coach
    # The flood limit protects other users of a shared bot; the terminal has one, who may paste answers quickly.
    coach.rate_limiter = RateLimiter(limit=sys.maxsize)
    if background:
        _assemble_model_first(runtime, term)
    _model_note(runtime, term)
    current = coach.current(user)
    if current is not None:
        chosen = args.topic or args.count is not None or getattr(args, "deck", None) \
            or getattr(args, "mode", "coach") != "coach"
        asked = " (--topic, --count, --mode and --deck apply to a new interview: /stop this one first)" \
            if chosen else ""
        term.console.print(f"Resuming your interview where you left it{asked}.", style="dim")
        term.show([current])
    else:
        start = Request(user, Action.START, topic=args.topic, count=args.count or 5,
                        mode=getattr(args, "mode", None), deck=getattr(args, "deck", None))
        for reply in coach.act(start):
            if reply.kind is ReplyKind.ERROR:   # a wrong topic, deck or mode: one sentence, nothing started
                print(f"Error: {reply.text}", file=sys.stderr)
                return 2
            term.show_one(reply)
    session = coach.open_session(user)
    interviewer = session is not None and session.mode.value == "interviewer"
    term.help = INTERVIEWER_HELP if interviewer else HELP
    term.console.print(term.help, style="dim")
    if term.voice:
        from bot.cli_voice import start_voice

        term.voice = start_voice(runtime, term.console)
    if background:
        threading.Thread(target=_warm_up, args=(runtime,), name="warm-up", daemon=True).start()
    drafts = Drafts(runtime.settings.data_dir, user)
    try:
        return _loop(runtime, user, term, drafts, use_llm=not args.no_llm)
    except Interrupted as stop:
        _leave(runtime, user, term, drafts, stop.unfinished, newline=True)
        return 130
    except KeyboardInterrupt:
        _leave(runtime, user, term, drafts, "", newline=True)
        return 130


def _leave(runtime: Runtime, user: UserRef, term: Terminal, drafts: Drafts, unfinished: str, *,
           newline: bool = False) -> None:
    """Say the interview is saved; keep an unfinished answer (never sent) for the next run."""
    lead = "\n" if newline else ""
    kept = ""
    if unfinished.strip():
        current = runtime.coach.current(user)
        if current is not None and drafts.keep(_where(current), unfinished):
            kept = " Your unfinished answer was not sent; it is kept and shown when you come back."
        else:
            kept = " Your unfinished answer was not sent."
    term.console.print(f"{lead}Your interview is saved; run the same command to resume it.{kept}", style="dim")


def _where(reply: Reply) -> dict[str, object]:
    """The question (and follow-up) a reply stands for, to match a draft with it."""
    return {"question_id": reply.data.get("question_id"), "session_id": reply.data.get("session_id"),
            "follow_up": reply.data.get("follow_up")}


def _loop(runtime: Runtime, user: UserRef, term: Terminal, drafts: Drafts, *, use_llm: bool) -> int:
    current = runtime.coach.current(user)
    draft = drafts.take(_where(current)) if current is not None else None
    if draft:
        term.console.print("Your unfinished answer from last time (not sent; copy what you need):", style="dim")
        term.console.print(escape(draft))
    while True:
        typed = term.read_answer(on_line=lambda text: runtime.prewarm_typed(user, text) if use_llm else None)
        if typed.kind == "end" or (typed.kind == "command" and typed.text == "quit"):
            _leave(runtime, user, term, drafts, typed.text if typed.kind == "end" else "")
            return 0
        if typed.kind == "unknown":
            term.show_one(Reply(ReplyKind.ERROR, unknown_command(typed.text)))
            continue
        if typed.kind == "command" and typed.text == "help":
            term.console.print(term.help, style="dim")
            continue
        _model_note(runtime, term)
        try:
            last = term.show(_dispatch(runtime, user, typed, term, use_llm))
        except CoachError as exc:
            term.show_one(Reply(ReplyKind.ERROR, str(exc)))
            continue
        _model_note(runtime, term)
        if last is not None and last.kind is ReplyKind.REPORT:
            return 0


def _dispatch(runtime: Runtime, user: UserRef, typed: Typed, term: Terminal, use_llm: bool) -> Iterable[Reply]:
    coach = runtime.coach
    command = typed.text if typed.kind == "command" else None
    if typed.kind == "flag":
        return coach.act(Request(user, Action.FLAG, text=typed.text))
    if command is not None:
        return coach.act(Request(user, Action(command)))
    if typed.kind in ("audio", "record"):
        from bot.cli_voice import voice_dispatch

        return voice_dispatch(runtime, user, typed, term.console, use_llm, on_token=term.token)
    if runtime.llm is not None and not runtime.llm.ready and runtime.llm.failed is None:
        term.console.print("(the model is still loading; the critique follows the score)", style="dim")
    return coach.act(Request(user, Action.ANSWER, text=typed.text), use_llm=use_llm, on_token=term.token)


def _model_note(runtime: Runtime, term: Terminal) -> None:
    """Say once, in one sentence, why the model is not used (grading goes on with the rubric)."""
    llm = runtime.llm
    if llm is None or term.model_noted:
        return
    reason = llm.failed or _model_file_problem(runtime)
    if reason is not None:
        term.model_noted = True
        term.console.print(f"The model is not used: {escape(str(reason))} Grading continues with the rubric only.",
                           style="yellow")


def _model_file_problem(runtime: Runtime) -> CoachError | None:
    """A COACH_MODEL_PATH that cannot be a model (missing, empty, not GGUF, truncated), known without loading it."""
    if runtime.settings.model_path is None or runtime.settings.llm_base_url:
        return None
    from bot.core.llm.modelfile import unusable_reason

    return unusable_reason(Path(runtime.settings.model_path).expanduser())


def _warm_up(runtime: Runtime) -> None:
    """Load torch, the embedder and the model behind the first question (no index: an interview searches none)."""
    try:
        runtime.warm_up(index=False)
    except CoachError as exc:
        print(f"Warning: {exc}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - a background failure is one sentence, never a thread traceback
        from bot.explain import explain
        from bot.logs import write_crash

        settings = runtime.settings
        sentence = explain(exc, settings)
        logged = write_crash(exc, settings.log_path, settings.secrets())
        where = f"; details are in {settings.log_path}" if logged else ""
        print(f"Warning: {sentence or f'loading in the background failed ({exc.__class__.__name__}){where}.'}",
              file=sys.stderr)


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
        term.model_noted = True
        term.console.print(f"The model is not used: {escape(str(exc))} Grading continues with the rubric only.",
                           style="yellow")


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"
