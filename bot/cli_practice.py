"""Operator commands for flags and a user's data: `review` (the flag queue), `export` and `forget`."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.core.text import plural
from bot.errors import CoachError

PLATFORMS = ("cli", "discord", "slack")


def add_parsers(sub: Any) -> None:
    """The sub-commands' arguments."""
    review = sub.add_parser("review", help="the queue of flagged questions: fix or dismiss each")
    review.add_argument("--json", action="store_true", help="print the queue as JSON and stop")
    review.add_argument("--dismiss", type=int, metavar="FLAG", help="dismiss one flag without prompting")
    review.add_argument("--fix", type=int, metavar="FLAG", help="fix the question of one flag without prompting")
    review.add_argument("--question", help="with --fix: the new question")
    review.add_argument("--answer", help="with --fix: the new reference answer")
    review.add_argument("--key-point", action="append", dest="key_points", help="with --fix: a key point (repeat)")
    export = sub.add_parser("export", help="a user's attempts as JSON lines, CSV or an Anki deck")
    export.add_argument("--format", choices=("jsonl", "csv", "anki"), default="jsonl")
    export.add_argument("--user", default=None, help="a terminal user, or platform:id (slack:U123, discord:42)")
    export.add_argument("--out", default=None, metavar="FILE", help="where to write it (default: a file named after "
                        "the user in the current folder; '-' for standard output)")
    forget = sub.add_parser("forget", help="delete everything stored about a user")
    forget.add_argument("--user", required=True, help="a terminal user, or platform:id (slack:U123, discord:42)")
    forget.add_argument("--yes", action="store_true", help="do not ask for the typed confirmation")


def user_of(name: str | None) -> UserRef:
    """A terminal user by name, or a platform user as platform:id."""
    name = (name or "").strip() or getpass.getuser()
    platform, sep, user_id = name.partition(":")
    if sep and platform in PLATFORMS and user_id:
        return UserRef(platform, user_id)
    return UserRef("cli", name)


def _one(replies: Any) -> Reply:
    """The single reply of a quick request; an ERROR becomes the one sentence on standard error."""
    last = None
    for reply in replies:
        if reply.kind is ReplyKind.ERROR:
            raise CoachError(reply.text)
        last = reply
    assert last is not None
    return last


def _runtime(settings: Settings) -> Any:
    from bot.core.runtime import Runtime

    return Runtime(settings, use_llm=False)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write one user's attempts to a file (or standard output)."""
    runtime = _runtime(settings)
    try:
        user = user_of(args.user)
        reply = _one(runtime.coach.act(Request(user, Action.EXPORT, op=args.format)))
        content: bytes = reply.data["content"]
        if args.out == "-":
            if args.format == "anki":
                raise CoachError("An Anki deck is a binary file: give --out FILE.apkg instead of '-'.")
            sys.stdout.buffer.write(content)
            return 0
        path = Path(args.out or reply.data["filename"])
        try:
            path.write_bytes(content)
        except OSError as exc:
            raise CoachError(f"Cannot write {path}: {exc.strerror or exc.__class__.__name__}.") from exc
        unit = "card" if args.format == "anki" else "attempt"
        print(f"Wrote {plural(reply.data['count'], unit)} of {user.key} to {path}.")
        return 0
    finally:
        runtime.close()


def cmd_forget(args: argparse.Namespace, settings: Settings) -> int:
    """Delete a user's data after a typed confirmation (or --yes)."""
    runtime = _runtime(settings)
    try:
        user = user_of(args.user)
        coach = runtime.coach
        preview = _one(coach.act(Request(user, Action.FORGET)))
        if not preview.data.get("confirm_needed"):
            print(preview.text)
            return 0
        if not args.yes:
            print(f"{preview.text.removesuffix(' Confirm to delete.')}\nType the user ({user.user_id}) to confirm: ",
                  end="", flush=True)
            typed = sys.stdin.readline().strip()
            if typed != user.user_id:
                print("Not confirmed: nothing was deleted.", file=sys.stderr)
                return 1
        print(_one(coach.act(Request(user, Action.FORGET, confirm=True))).text)
        return 0
    finally:
        runtime.close()


def cmd_review(args: argparse.Namespace, settings: Settings) -> int:
    """The flag queue: --json, one --dismiss/--fix, or each flag in turn with a prompt on standard input."""
    from bot.cli import print_json

    runtime = _runtime(settings)
    operator = UserRef("cli", getpass.getuser())

    def act(**fields: Any) -> Reply:
        return _one(runtime.coach.act(Request(operator, Action.REVIEW, admin=True, **fields)))

    try:
        if args.dismiss is not None:
            print(act(op="dismiss", target=str(args.dismiss)).text)
            return 0
        if args.fix is not None:
            changes = {"question": args.question, "answer": args.answer, "key_points": args.key_points}
            print(act(op="fix", target=str(args.fix), fields=changes).text)
            return 0
        queue = act()
        if args.json:
            print_json({"flags": queue.data["flags"]})
            return 0
        print(queue.text.splitlines()[0])
        for item in queue.data["flags"]:
            _review_one(item, act)
        return 0
    finally:
        runtime.close()


def _review_one(item: dict[str, Any], act: Callable[..., Reply]) -> None:
    """Show one flag and settle it as the operator types: fix (question, answer or key points), dismiss or skip."""
    print(f"\n#{item['id']} · {item['question_id']}\nQuestion: {item['question'] or '(no longer in the bank)'}\n"
          f"Reason given: {item['reason']}")
    if item["question"]:
        print(f"Reference answer:\n{item['answer']}\nKey points:")
        print("\n".join(f"  - {p}" for p in item["key_points"]) or "  (none: the rubric comes from the answer)")
    while True:
        choice = _ask("[f]ix, [d]ismiss or [s]kip? ").lower()[:1]
        if choice in ("", "s"):
            print("Skipped; it stays in the queue.")
            return
        try:
            if choice == "d":
                print(act(op="dismiss", target=str(item["id"])).text)
                return
            if choice == "f":
                print(act(op="fix", target=str(item["id"]), fields=_ask_fix()).text)
                return
        except CoachError as exc:
            print(f"Error: {exc}")
            continue
        print("Type f, d or s.")


def _ask_fix() -> dict[str, Any]:
    part = _ask("Fix the [q]uestion, the reference [a]nswer or the [k]ey points? ").lower()[:1]
    if part == "q":
        return {"question": _ask("New question: ")}
    if part == "a":
        return {"answer": "\n".join(_lines("New reference answer (end with an empty line):"))}
    if part == "k":
        return {"key_points": _lines("New key points, one per line (end with an empty line):")}
    raise CoachError("Choose q, a or k.")


def _ask(prompt: str) -> str:
    print(prompt, end="", flush=True)
    line = sys.stdin.readline()
    if not line:
        raise CoachError("The input ended before the review did; unsettled flags stay in the queue.")
    return line.strip()


def _lines(prompt: str) -> list[str]:
    print(prompt)
    lines = []
    while (line := sys.stdin.readline()) and line.strip():
        lines.append(line.rstrip("\n"))
    return lines


PRACTICE_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "review": cmd_review, "export": cmd_export, "forget": cmd_forget}
