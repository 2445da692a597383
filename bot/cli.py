"""Terminal adapter and operator commands: `python -m bot.cli [interview|index|ask|grade|stats|doctor]`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from bot.config import Settings
from bot.errors import CoachError

Command = Callable[[argparse.Namespace, Settings], int]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.cli", description="Interview Coach in the terminal.")
    sub = parser.add_subparsers(dest="command")
    interview = sub.add_parser("interview", help="a mock interview (the default)")
    _interview_args(interview)
    index = sub.add_parser("index", help="build or refresh the index of the bank")
    index.add_argument("--rebuild", action="store_true", help="re-embed every entry")
    ask = sub.add_parser("ask", help="find bank entries for a text")
    ask.add_argument("text", nargs="*", help="the text to look up (interactive prompt when left out)")
    ask.add_argument("--k", type=int, default=3)
    ask.add_argument("--json", action="store_true")
    grade = sub.add_parser("grade", help="grade an answer (read from standard input)")
    grade.add_argument("--question", required=True)
    grade.add_argument("--json", action="store_true")
    grade.add_argument("--no-llm", action="store_true")
    stats = sub.add_parser("stats", help="progress of a user")
    stats.add_argument("--user", default=None)
    stats.add_argument("--plot", default=None, metavar="FILE.png")
    stats.add_argument("--json", action="store_true")
    sub.add_parser("doctor", help="check the model file, the GPU and the index")
    return parser


def _interview_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--topic", default=None)
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--mode", choices=("coach", "interviewer"), default="coach",
                   help="coach: score and feedback after each answer; interviewer: a report at the end")
    p.add_argument("--deck", default=None, help="the deck this interview's questions come from")
    p.add_argument("--no-llm", action="store_true")
    p.add_argument("--user", default=None)


def _commands() -> dict[str, Command]:
    from bot.cli_commands import COMMANDS

    return COMMANDS


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are one sentence on standard error and a non-zero exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("--"):
        argv = ["interview", *argv]
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
        if args.command == "interview":  # the fast path: nothing imported that the first question does not need
            from bot.cli_interview import cmd_interview

            return cmd_interview(args, settings)
        return _commands()[args.command](args, settings)
    except CoachError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nStopped.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - never a bare traceback: one sentence, details in the log file
        where = log_exception(exc)
        print(f"Error: something went wrong ({exc.__class__.__name__}); details are in {where}.", file=sys.stderr)
        return 1


def log_exception(exc: BaseException) -> str:
    """Write the traceback, with secrets scrubbed, to the data folder's log; returns the log's path."""
    import traceback

    from bot.logs import scrub

    try:
        settings = Settings()
        path = settings.data_dir / "logs" / "coach.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(traceback.format_exception(exc))
        with path.open("a", encoding="utf-8") as handle:
            handle.write(scrub(text, settings.secrets()) + "\n")
        return str(path)
    except Exception:  # noqa: BLE001 - the log is best effort
        return "the standard error of a run with COACH_DEBUG=1"


def print_json(data: Any) -> None:
    """JSON on standard output, nothing else."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
