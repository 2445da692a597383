"""Discord: `python -m bot.discord_bot` runs the bot with DISCORD_TOKEN; `--print-commands` prints, as JSON, the
application commands it would register, without connecting. The adapter itself is `bot.discord_coach`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from typing import TYPE_CHECKING

import discord
from pydantic import ValidationError

from bot.config import Settings, get_settings
from bot.discord_coach import DiscordCoach
from bot.discord_render import NO_MENTIONS
from bot.discord_views import command_payload
from bot.errors import CoachError, ConfigError
from bot.logs import setup_logging

if TYPE_CHECKING:
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)
COMMANDS_STATE = "discord-commands.sha256"   # in the data folder: what was last registered, to skip a re-sync


# ---------------------------------------------------------------------------------------------- running it


def message_content_enabled(settings: Settings) -> bool:
    """Whether plain messages in a session thread count as answers (the privileged message-content intent)."""
    return settings.discord_message_content


def make_client(settings: Settings) -> discord.Client:
    """The Discord client: default intents (plus message content when asked), sharded when configured."""
    intents = discord.Intents.default()
    intents.message_content = message_content_enabled(settings)
    if settings.discord_shards is None:
        return discord.Client(intents=intents, allowed_mentions=NO_MENTIONS)
    return discord.AutoShardedClient(intents=intents, allowed_mentions=NO_MENTIONS,
                                     shard_count=settings.discord_shards or None)


def discord_token(settings: Settings) -> str:
    """The bot token; ConfigError in one sentence when it is missing."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise ConfigError("DISCORD_TOKEN is not set: put your bot's token from the Discord Developer Portal in the "
                          "environment or in .env.")
    return token


async def serve(runtime: Runtime, settings: Settings, token: str) -> None:
    """Connect while the engine warms up in the background; run until stopped."""
    client = make_client(settings)
    adapter = DiscordCoach(runtime.coach, client, guild_id=settings.discord_guild_id,
                           commands_file=settings.data_dir / COMMANDS_STATE)
    runtime.warm_up_in_background()
    try:
        async with client:
            await client.start(token)
    except discord.LoginFailure:
        raise ConfigError("Discord refused DISCORD_TOKEN; copy the bot's token again from the Developer Portal.") \
            from None
    except discord.PrivilegedIntentsRequired:
        raise ConfigError("The message-content intent is not enabled for this bot in the Developer Portal; enable it "
                          "there or unset COACH_DISCORD_MESSAGE_CONTENT.") from None
    finally:
        adapter.shutdown()


def run(settings: Settings) -> int:
    """Build the engine once, then run the bot."""
    from bot.core.runtime import Runtime

    token = discord_token(settings)
    setup_logging(settings.secrets())
    runtime = Runtime(settings)
    try:
        asyncio.run(serve(runtime, settings, token))
    finally:
        runtime.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the bot, or print its commands; errors are one sentence on standard error and exit status 2."""
    parser = argparse.ArgumentParser(prog="python -m bot.discord_bot", description="Interview Coach on Discord.")
    parser.add_argument("--print-commands", action="store_true",
                        help="print the application commands as JSON, without connecting")
    args = parser.parse_args(argv)
    if args.print_commands:
        sys.stdout.write(json.dumps(command_payload(), indent=2) + "\n")
        return 0
    try:
        return run(get_settings())
    except ValidationError as exc:
        error = exc.errors()[0]
        print(f"Error: setting {'.'.join(str(p) for p in error['loc'])} is invalid: {error['msg']}.", file=sys.stderr)
    except CoachError as exc:
        print(f"Error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
