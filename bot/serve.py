"""`python -m bot.serve [--discord] [--slack] [--http]`: both platforms in one process, on one model and one store.

With neither flag, every platform whose token is set is served. Discord runs on the main thread's event loop;
Slack (Socket Mode, or HTTP with --http) on threads of its own; the engine (model, index, store) is built once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import threading
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot.errors import CoachError, ConfigError

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bot.serve",
                                     description="Serve Interview Coach on Discord and Slack from one process.")
    parser.add_argument("--discord", action="store_true", help="serve Discord (DISCORD_TOKEN)")
    parser.add_argument("--slack", action="store_true", help="serve Slack (SLACK_BOT_TOKEN and SLACK_APP_TOKEN)")
    parser.add_argument("--http", action="store_true",
                        help="Slack over the Events API on COACH_SLACK_PORT instead of Socket Mode")
    return parser.parse_args(argv)


def platforms(settings: Settings, args: argparse.Namespace) -> tuple[bool, bool]:
    """Which platforms to serve: the ones asked for, else every one whose bot token is set."""
    if args.discord or args.slack:
        return args.discord, args.slack
    discord_on = bool(settings.discord_token and settings.discord_token.get_secret_value().strip())
    slack_on = bool(settings.slack_bot_token and settings.slack_bot_token.get_secret_value().strip())
    if not discord_on and not slack_on:
        raise ConfigError("Neither DISCORD_TOKEN nor SLACK_BOT_TOKEN is set: put the token of the bot to serve in the "
                          "environment or in .env (see docs/discord.md and docs/slack.md).")
    return discord_on, slack_on


def run(settings: Settings, *, discord_on: bool, slack_on: bool, http: bool) -> None:
    """Check every token first, build the engine once, then serve until interrupted."""
    from bot import discord_bot, slack_app
    from bot.core.runtime import Runtime

    token = discord_bot.discord_token(settings) if discord_on else None
    slack = slack_app.connect(settings, http) if slack_on else None
    runtime = Runtime(settings)
    runtime.warm_up_in_background()
    stop = threading.Event()
    workers: list[threading.Thread] = []
    if slack is not None:
        client, secret = slack
        worker = threading.Thread(target=slack_app.serve, args=(runtime, settings, client, secret, http),
                                  kwargs={"stop": stop}, name="slack", daemon=True)
        worker.start()
        workers.append(worker)
    try:
        if token is not None:
            asyncio.run(discord_bot.serve(runtime, settings, token))
        else:
            stop.wait()
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
        runtime.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point: a setup error is one sentence on standard error and exit status 2."""
    from bot.config import get_settings
    from bot.logs import setup_logging

    args = parse_args(argv)
    try:
        settings = get_settings()
        setup_logging(settings.secrets())   # every record scrubbed of the tokens
        discord_on, slack_on = platforms(settings, args)
        run(settings, discord_on=discord_on, slack_on=slack_on, http=args.http)
    except ValidationError as exc:
        error = exc.errors()[0]
        print(f"Error: setting {'.'.join(str(p) for p in error['loc'])} is invalid: {error['msg']}.", file=sys.stderr)
        return 2
    except CoachError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
