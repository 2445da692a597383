"""One sentence for a failure a user can fix: a folder that cannot be written, the database, a setting."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import TYPE_CHECKING

from bot.logs import hide_password, url_password

if TYPE_CHECKING:
    from bot.config import Settings

_OS_REASONS = {errno.EACCES: "permission denied", errno.EPERM: "permission denied",
               errno.EROFS: "read-only file system", errno.ENOSPC: "the disk is full",
               errno.ENOTDIR: "a file stands where a folder is needed", errno.EISDIR: "it is a folder",
               errno.ENOENT: "it does not exist", errno.EDQUOT: "the disk quota is used up"}


def explain(exc: BaseException, settings: Settings | None) -> str | None:
    """The sentence for exc, or None when it is not a failure of the set-up (then it is a bug: log it)."""
    if isinstance(exc, OSError) and exc.filename:
        return _os_sentence(exc, settings)
    database = database_sentence(exc, settings.resolved_database_url() if settings else None)
    if database:
        return database
    return None


def _os_sentence(exc: OSError, settings: Settings | None) -> str:
    """Which path, why, and which setting points there."""
    path = Path(str(exc.filename))
    reason = _OS_REASONS.get(exc.errno or 0, (exc.strerror or exc.__class__.__name__).lower())
    where = f"Cannot use {path}: {reason}"
    if settings is not None and _inside(path, settings.data_dir):
        return (f"{where}. The data folder (COACH_DATA_DIR={settings.data_dir}) must be a folder you can write to; "
                "fix its permissions or point COACH_DATA_DIR at another folder.")
    return f"{where}."


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.expanduser().resolve())
    except (ValueError, OSError):
        return False
    return True


def database_sentence(exc: BaseException, url: str | None, *, opening: bool = False) -> str | None:
    """A SQLAlchemy or driver failure as one sentence naming COACH_DATABASE_URL; the password never shown.

    `opening`: exc came from connecting, so an ImportError is the URL's driver missing.
    """
    from sqlalchemy import exc as sa

    shown = hide_password(url) if url else "the database"
    if opening and isinstance(exc, ImportError):
        return (f"COACH_DATABASE_URL ({shown}) needs a database driver that is not installed ({exc.name or exc}); "
                "install it, or use sqlite:///… or postgresql+psycopg://… (pip install -e .[postgres]).")
    if isinstance(exc, sa.NoSuchModuleError | sa.ArgumentError):
        return (f"COACH_DATABASE_URL ({shown}) is not a database URL this coach can use; it must look like "
                "sqlite:////path/to/coach.db or postgresql+psycopg://user:password@host:5432/name.")
    if isinstance(exc, sa.OperationalError | sa.InterfaceError):
        detail = _driver_reason(exc, url)
        if "readonly" in detail or "read-only" in detail:
            return (f"The database {shown} is read-only, so answers cannot be saved; make it (and its folder) "
                    "writable, or set COACH_DATA_DIR or COACH_DATABASE_URL to one that is.")
        if "unable to open database file" in detail:
            return (f"The database {shown} cannot be opened or created; check that its folder exists and is "
                    "writable (COACH_DATA_DIR or COACH_DATABASE_URL).")
        return (f"The database {shown} is not reachable ({detail}); start it or fix COACH_DATABASE_URL.")
    if isinstance(exc, sa.DatabaseError):
        detail = _driver_reason(exc, url)
        return f"The database {shown} refused the request ({detail}); check COACH_DATABASE_URL and its permissions."
    return None


def _driver_reason(exc: BaseException, url: str | None) -> str:
    """The driver's first line, without SQL, parameters or the URL's password."""
    original = getattr(exc, "orig", None) or exc
    line = (str(original).strip().splitlines() or [original.__class__.__name__])[0]
    password = url_password(url) if url else None
    return (line.replace(password, "***") if password else line).rstrip(".")[:200]
