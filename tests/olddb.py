"""A database as an older release left it, for the migration tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from bot.core.store.db import MIGRATIONS, make_engine, migrate

OLD_USER = ("INSERT INTO users (platform, user_id, time_zone, daily_time, daily_on, created) "
            "VALUES ('{platform}', '{user_id}', 'UTC', '09:00', {daily_on}, '2025-03-01 08:00:00')")


def old_database(path: Path, before: int, *statements: str) -> str:
    """A SQLite file migrated up to (not including) version `before`, then changed by `statements`; its URL."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine, [m for m in MIGRATIONS if m[0] < before])
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()
    return url
