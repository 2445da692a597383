"""The Chroma store: the client, its collections (the live one, rebuilds swapped in when complete), damage turned
into one sentence, a damaged folder set aside.

chromadb's client cache is private; it is reached here only, for the versions checked below.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.errors import CoachError, IndexDamagedError

log = logging.getLogger(__name__)
COLLECTION = "coach-entries"
BUILDING_PREFIX = f"{COLLECTION}-building-"  # a rebuild in progress
READY_PREFIX = f"{COLLECTION}-ready-"        # a finished rebuild not yet swapped in
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


def open_client(path: Path | None, url: str | None) -> Any:
    """A Chroma client with telemetry off: HttpClient for a URL, otherwise PersistentClient."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if url:
        from urllib.parse import urlparse

        parsed = urlparse(url)
        host, port = parsed.hostname or "localhost", parsed.port or 8000
        try:
            return chromadb.HttpClient(host=host, port=port, ssl=parsed.scheme == "https", settings=settings)
        except ValueError:  # chromadb's "Could not connect to a Chroma server": say which one
            raise CoachError(f"The Chroma server at {parsed.scheme or 'http'}://{host}:{port} is not reachable; "
                             "start it (chroma run) or unset COACH_CHROMA_URL.") from None
    try:
        with damage_guard(path):
            return chromadb.PersistentClient(path=str(path), settings=settings)
    except IndexDamagedError:
        forget_client(Path(str(path)))  # chromadb caches the half-started client; the next attempt starts clean
        raise


def _names(client: Any) -> set[str]:
    return {c.name if hasattr(c, "name") else c for c in client.list_collections()}


def live_collection(client: Any) -> Any | None:
    """The live collection, finishing a swap that a crash cut short; None when there is none."""
    names = _names(client)
    if COLLECTION not in names:
        ready = sorted(n for n in names if n.startswith(READY_PREFIX))
        if not ready:
            return None
        swap_in(client, ready[-1])
    return client.get_collection(COLLECTION, embedding_function=None)


def swap_in(client: Any, ready: str) -> None:
    """Replace the live collection by a complete one."""
    if COLLECTION in _names(client):
        client.delete_collection(COLLECTION)
    client.get_collection(ready, embedding_function=None).modify(name=COLLECTION)


def drop_stale_builds(client: Any, *, shared: bool, older_than: float = 3600.0) -> None:
    """Remove rebuilds that never finished (on a shared server, only those older than an hour: others may be
    building right now)."""
    for name in _names(client):
        if not name.startswith(BUILDING_PREFIX):
            continue
        meta = client.get_collection(name, embedding_function=None).metadata or {}
        if not shared or time.time() - float(meta.get("started", 0)) > older_than:
            client.delete_collection(name)
