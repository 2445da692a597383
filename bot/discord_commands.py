"""Registering the /interview commands with Discord: only when they changed, and never fatal when refused."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bot.discord_views import tree_payload

log = logging.getLogger(__name__)


def commands_digest(tree: app_commands.CommandTree[Any], guild_id: int | None) -> str:
    """A fingerprint of what would be registered, and where (the application and the development guild)."""
    scope = {"application": tree.client.application_id, "guild": guild_id, "commands": tree_payload(tree)}
    return hashlib.sha256(json.dumps(scope, sort_keys=True).encode()).hexdigest()


async def sync_commands(tree: app_commands.CommandTree[Any], guild_id: int | None, state: Path | None) -> bool:
    """Register the commands (in the development guild when one is set) unless `state` says they are already there.

    Discord limits how often commands may be registered, so a restart with the same commands registers nothing.
    A refusal (missing `applications.commands` scope, that limit) is logged: the bot runs with what is registered.
    """
    digest = commands_digest(tree, guild_id)
    if state is not None and state.is_file() and state.read_text().strip() == digest:
        log.info("The /interview commands are registered already; not syncing them again")
        return False
    try:
        if guild_id:
            guild = discord.Object(id=guild_id)
            tree.copy_global_to(guild=guild)
            await tree.sync(guild=guild)
        else:
            await tree.sync()
    except discord.HTTPException as exc:
        log.warning("Discord refused to register the /interview commands (%s %s); the bot goes on with the commands "
                    "registered before. Re-invite it with the applications.commands scope if they are missing.",
                    exc.status, exc.text)
        return False
    if state is not None:
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(digest + "\n")
    return True
