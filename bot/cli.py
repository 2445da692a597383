"""Terminal adapter and operator commands: `python -m bot.cli [interview|index|ask|grade|stats|doctor]`."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from typing import Any

from bot.config import Settings, debug_enabled, load_settings
from bot.errors import CoachError, ConfigError
from bot.logs import write_crash

Command = Callable[[argparse.Namespace, Settings], int]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.cli", description="Interview Coach in the terminal. With no command: a mock interview.",
        epilog="Run `python -m bot.cli COMMAND --help` for a command's options. COACH_DEBUG=1 prints the details "
               "of an unexpected error on standard error.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    interview = sub.add_parser("interview", help="a mock interview (the default)")
    _interview_args(interview)
    index = sub.add_parser("index", help="build or refresh the index of the bank")
    index.add_argument("--rebuild", action="store_true",
                       help="re-embed every entry (a damaged index is set aside and rebuilt)")
    ask = sub.add_parser("ask", help="find bank entries for a text")
    ask.add_argument("text", nargs="*", help="the text to look up (interactive prompt when left out)")
    ask.add_argument("--k", type=_positive, default=3, help="how many entries to list, closest first (default 3)")
    ask.add_argument("--json", action="store_true", help="print the results as JSON")
    grade = sub.add_parser("grade", help="grade an answer (read from standard input, or spoken in --audio FILE)")
    grade.add_argument("--question", required=True, help="the bank question (its words or its id)")
    grade.add_argument("--audio", default=None, metavar="FILE", help="a recording (wav, ogg/opus, mp3, m4a, webm)")
    grade.add_argument("--json", action="store_true")
    grade.add_argument("--no-llm", action="store_true")
    stats = sub.add_parser("stats", help="progress of a user")
    stats.add_argument("--user", default=None)
    stats.add_argument("--plot", default=None, metavar="FILE.png")
    stats.add_argument("--json", action="store_true")
    sub.add_parser("doctor", help="check the model file, the GPU, the database, the index and the settings")
    from bot.cli_practice import add_parsers

    add_parsers(sub)
    return parser


def _positive(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


def _count(text: str) -> int:
    """An argparse type: the number of questions, in the range the engine allows (its own sentence when not)."""
    from bot.core.replies import count_problem

    value = _positive(text)
    problem = count_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _interview_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--topic", default=None)
    p.add_argument("--count", type=_count, default=None, help="number of questions, 1 to 20 (default 5)")
    p.add_argument("--mode", choices=("coach", "interviewer"), default="coach",
                   help="coach: score and feedback after each answer; interviewer: a report at the end")
    p.add_argument("--deck", default=None, help="the deck this interview's questions come from")
    p.add_argument("--no-llm", action="store_true")
    p.add_argument("--user", default=None)
    p.add_argument("--voice", action="store_true", help="answer by speaking into the microphone")


def _commands() -> dict[str, Command]:
    from bot.cli_commands import COMMANDS

    return COMMANDS


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are one sentence on standard error and a non-zero exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["interview", *argv]
    args = _parser().parse_args(argv)
    text_streams()
    settings: Settings | None = None
    try:
        try:
            settings = load_settings()
        except ConfigError as exc:
            if args.command != "doctor":
                raise
            from bot.doctor import doctor_without_settings

            return doctor_without_settings(exc)
        if args.command == "interview":  # the fast path: nothing imported that the first question does not need
            from bot.cli_interview import cmd_interview

            return cmd_interview(args, settings)
        return _commands()[args.command](args, settings)
    except CoachError as exc:
        if debug_enabled():
            write_crash(exc, None, settings.secrets() if settings else [], echo=True)
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - never a bare traceback: one sentence, details in the log file
        return report_failure(exc, settings)


def report_failure(exc: BaseException, settings: Settings | None) -> int:
    """One sentence for an exception: what to fix when it is the set-up, else where the details are."""
    from bot.explain import explain

    sentence = explain(exc, settings)
    secrets = settings.secrets() if settings else []
    logged = write_crash(exc, settings.log_path if settings else None, secrets, echo=debug_enabled())
    if sentence:
        print(f"Error: {sentence}", file=sys.stderr)
        return 2
    where = f"details are in {settings.log_path}" if logged and settings else "no log file could be written"
    hint = "" if debug_enabled() else "; run again with COACH_DEBUG=1 to see them here"
    print(f"Error: something went wrong ({exc.__class__.__name__}); {where}{hint}.", file=sys.stderr)
    return 1


def text_streams() -> None:
    """Standard input and output as text that never fails: undecodable bytes become U+FFFD, unprintable ones '?'."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # a closed or detached stream: nothing to do there
                reconfigure(errors="replace")


def print_json(data: Any) -> None:
    """JSON on standard output, nothing else."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
