"""The embedded Chroma store's folder: damage turned into one sentence, a damaged store set aside.

chromadb's client cache is private; it is reached here only, for the versions checked below.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import CoachError, IndexDamagedError

log = logging.getLogger(__name__)
LOCK_NAME = ".coach.lock"
REBUILD = "python -m bot.cli index --rebuild"


def _is_damage(exc: BaseException) -> bool:
    """Whether exc is Chroma failing to read its own files (rather than a bug or a bad argument)."""
    from chromadb.errors import InternalError

    if isinstance(exc, InternalError | sqlite3.DatabaseError):
        return True
    # A client whose start failed stays half-built in chromadb's cache and fails like this afterwards.
    return isinstance(exc, AttributeError) and "bindings" in str(exc)


@contextmanager
def damage_guard(path: Path | None) -> Iterator[None]:
    """Turn Chroma's low-level read failures into IndexDamagedError, one sentence naming the folder and the fix."""
    try:
        yield
    except CoachError:
        raise
    except Exception as exc:
        if not _is_damage(exc):
            raise
        reason = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:160].rstrip(".")
        if path is None:
            raise CoachError(f"The Chroma server failed to read the index ({reason}); check the server "
                             "(COACH_CHROMA_URL) or rebuild with `" + REBUILD + "`.") from exc
        raise IndexDamagedError(f"The index in {path} is damaged ({reason}); run `{REBUILD}` to set it aside and "
                                "build a new one (nothing else is lost: answers live in the database).") from exc


def forget_client(path: Path) -> None:
    """Drop chromadb's cached system for a folder, so the next client opens it afresh."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    if not chromadb.__version__.startswith("1."):  # the cache's layout is known for chromadb 1.x only
        log.warning("chromadb %s: clearing its whole client cache", chromadb.__version__)
        SharedSystemClient.clear_system_cache()
        return
    key = str(path)
    system = SharedSystemClient._identifier_to_system.pop(key, None)
    SharedSystemClient._identifier_to_refcount.pop(key, None)
    if system is not None:
        try:
            system.stop()
        except Exception:  # noqa: BLE001 - a system that never started may fail to stop; it is dropped anyway
            log.debug("stopping a broken chroma system failed", exc_info=True)


def set_aside(path: Path) -> Path:
    """Move the store's files (not the lock we hold) into a sibling folder named for now; returns that folder."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    suffix = 1
    while aside.exists():
        suffix += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{suffix}")
    aside.mkdir(parents=True)
    for item in path.iterdir():
        if item.name != LOCK_NAME:
            item.rename(aside / item.name)
    return aside
