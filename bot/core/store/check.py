"""`doctor`'s look at the database: reachable, writable, migrations applied; it reads, and writes nothing it keeps.

A write is tried inside a transaction that is rolled back; a SQLite file that does not exist yet is not created.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.core.store.db import MIGRATIONS
from bot.logs import hide_password, url_password

LATEST = max(version for version, _ in MIGRATIONS)


@dataclass
class DbCheck:
    """One line of the report: good True (ok), False (a problem) or None (information)."""

    label: str
    good: bool | None
    detail: str


def check_database(url: str, timeout: float = 5.0) -> list[DbCheck]:
    """Every check of the database at url; the URL is shown without its password."""
    shown = hide_password(url)
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - any parse failure is the same finding
        return [DbCheck("database", False, f"COACH_DATABASE_URL ({shown}) is not a database URL; it must look like "
                        "sqlite:////path/to/coach.db or postgresql+psycopg://user:password@host:5432/name.")]
    if parsed.get_backend_name() == "sqlite":
        return _sqlite(parsed.database or "", shown)
    return _server(url, shown, timeout)


def _sqlite(database: str, shown: str) -> list[DbCheck]:
    if database in ("", ":memory:") or database.startswith("file:"):
        return [DbCheck("database", None, f"{shown} (in memory: nothing is kept after the process ends)")]
    path = Path(database).expanduser()
    if not path.exists():
        folder = _existing_parent(path)
        if os.access(folder, os.W_OK):
            return [DbCheck("database", None, f"{shown}: not created yet; it is created on first use")]
        return [DbCheck("database", False, f"{shown} does not exist and cannot be created: {folder} is not writable "
                        "(COACH_DATA_DIR or COACH_DATABASE_URL).")]
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=2)
    except sqlite3.Error as exc:
        return [DbCheck("database", False, f"{shown} cannot be opened for writing ({exc}); check its permissions.")]
    try:
        writable = _sqlite_writable(conn, path)
        if writable.good is False:  # a read-only WAL database cannot even be read: one line says it all
            return [DbCheck("database", False, f"{shown}: {writable.detail}")]
        return [DbCheck("database", True, f"{shown}: reachable"), _sqlite_version(conn), writable]
    finally:
        conn.close()


def _existing_parent(path: Path) -> Path:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _sqlite_version(conn: sqlite3.Connection) -> DbCheck:
    try:
        row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc):
            return DbCheck("migrations", None, "none applied yet; they are applied at the next start")
        return DbCheck("migrations", False, f"the database cannot be read ({exc}); it may be damaged.")
    return _version_line(row[0] if row else None)


def _sqlite_writable(conn: sqlite3.Connection, path: Path) -> DbCheck:
    try:
        conn.execute("BEGIN IMMEDIATE")  # takes the write lock, as saving an answer does; nothing is written
        conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return DbCheck("writable", None, "another process is writing right now; try again to check")
        return DbCheck("writable", False, f"answers cannot be saved ({exc}); make {path} and its folder writable, "
                       "or set COACH_DATA_DIR or COACH_DATABASE_URL to one that is.")
    return DbCheck("writable", True, "yes (a write transaction was opened and rolled back)")


def _version_line(version: int | None) -> DbCheck:
    if version is None:
        return DbCheck("migrations", None, "none applied yet; they are applied at the next start")
    if version > LATEST:
        return DbCheck("migrations", False, f"the database is at version {version}, newer than this coach knows "
                       f"({LATEST}); upgrade the coach before using this database.")
    if version < LATEST:
        return DbCheck("migrations", None, f"version {version}; {LATEST - version} migration(s) are applied at the "
                       "next start")
    return DbCheck("migrations", True, f"all applied (version {version})")


def _server(url: str, shown: str, timeout: float) -> list[DbCheck]:
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.engine import make_url

    from bot.explain import database_sentence

    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    args = {"connect_timeout": int(timeout)} if parsed.get_backend_name() == "postgresql" else {}
    try:
        engine = create_engine(parsed, connect_args=args)
    except Exception as exc:  # noqa: BLE001 - a bad URL or a missing driver is one finding
        return [DbCheck("database", False, database_sentence(exc, url, opening=True) or f"{shown}: {exc}.")]
    try:
        with engine.connect() as conn:
            checks = [DbCheck("database", True, f"{shown}: reachable")]
            tables = set(inspect(conn).get_table_names())
            version = conn.execute(text("SELECT max(version) FROM schema_version")).scalar() \
                if "schema_version" in tables else None
            checks.append(_version_line(version))
            checks.append(_server_writable(conn, tables, url_password(url)))
            return checks
    except Exception as exc:  # noqa: BLE001 - unreachable, refused, bad password: one sentence each
        return [DbCheck("database", False, database_sentence(exc, url, opening=True) or f"{shown}: {exc}.")]
    finally:
        engine.dispose()


def _server_writable(conn: object, tables: set[str], password: str | None) -> DbCheck:
    from sqlalchemy import text
    from sqlalchemy.engine import Connection

    assert isinstance(conn, Connection)
    try:
        conn.rollback()  # end the reads' implicit transaction; the write test gets one of its own
        with conn.begin() as tx:
            if "processed_events" in tables:
                conn.execute(text("INSERT INTO processed_events (event_id, created) VALUES ('coach-doctor-check', "
                                  "CURRENT_TIMESTAMP)"))
            else:
                conn.execute(text("CREATE TABLE coach_doctor_check (x integer)"))
            tx.rollback()  # nothing is kept
    except Exception as exc:  # noqa: BLE001 - a refused write is the finding
        reason = (str(getattr(exc, "orig", exc)).strip().splitlines() or ["refused"])[0]
        reason = reason.replace(password, "***") if password else reason
        return DbCheck("writable", False, f"answers cannot be saved ({reason}); grant this user "
                       "INSERT, UPDATE and CREATE on the coach's database.")
    return DbCheck("writable", True, "yes (a write was tried in a transaction and rolled back)")
