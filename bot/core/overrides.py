"""Reviewers' fixes to a deck: `knowledge/<deck>.overrides.yaml`, applied on top of the deck when the bank loads.

The deck file itself is never rewritten. A fix replaces an entry's question, reference answer or key points; the
fixed entry is validated like any deck entry, and its content hash changes, so the index re-embeds it and older
attempts (which keep the hash they were graded against) show as made on an earlier version.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.core.bank import Bank, Entry
from bot.errors import CoachError, DeckError

log = logging.getLogger(__name__)
SUFFIX = ".overrides.yaml"
FIELDS = ("question", "answer", "key_points")
HEADER = ("# Reviewers' fixes to {deck}.yaml, applied on top of it when the bank loads; the deck itself is never\n"
          "# rewritten. Written by `python -m bot.cli review` and /interview review.\n")


def is_override_file(path: Path) -> bool:
    """Whether a file of the knowledge folder holds overrides rather than a deck."""
    return path.name.endswith((SUFFIX, ".overrides.yml"))


def override_path(folder: Path, deck: str) -> Path:
    """Where a deck's fixes live: beside it."""
    return folder / f"{deck}{SUFFIX}"


def read_overrides(path: Path) -> dict[str, dict[str, Any]]:
    """The fixes of one file, by entry id ({} when there is no file)."""
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DeckError(f"Cannot read the fixes in {path.name}: {exc.__class__.__name__}.") from exc
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise DeckError(f"{path.name} must be a mapping with 'deck' and 'entries'.")
    return {str(k): v for k, v in entries.items() if isinstance(v, dict)}


def fixed_entry(entry: Entry, changes: dict[str, Any], where: str = "the fix") -> Entry:
    """The entry with the changed fields, validated as a deck entry; CoachError in one sentence when invalid."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise CoachError(f"Only the question, the reference answer and the key points can be fixed, not "
                         f"{', '.join(sorted(unknown))}.")
    data = entry.model_dump(exclude={"probes"}) | changes
    # Probes travel with their points: a point kept word for word keeps its probe, a new one has none yet.
    written = {point: entry.probe(i) for i, point in enumerate(entry.key_points or ())}
    if isinstance(data.get("key_points"), list | tuple):
        data["key_points"] = [{"point": p, "probe": written[p]} if isinstance(p, str) and written.get(p) else p
                              for p in data["key_points"]]
    try:
        return Entry.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "entry"
        raise CoachError(f"In {where}, {field.replace('_', ' ')}: {first['msg']}.") from exc


def apply_overrides(bank: Bank, folder: Path) -> list[str]:
    """Apply every deck's fixes to the bank in place; the ids changed. A fix for an id no longer in its deck is
    skipped with a warning."""
    changed: list[str] = []
    for name in bank.decks:
        path = override_path(folder, name)
        for entry_id, changes in read_overrides(path).items():
            entry = bank.entries.get(entry_id)
            if entry is None or entry.deck != name:
                log.warning("%s fixes '%s', which is not in the deck any more; ignored", path.name, entry_id)
                continue
            try:
                fields = {k: v for k, v in changes.items() if k in FIELDS}
                new = fixed_entry(entry, fields, f"{path.name}, '{entry_id}'")
            except CoachError as exc:   # a bad fix stops the bank like a bad deck entry: one sentence naming it
                raise DeckError(str(exc)) from exc
            _replace(bank, new)
            changed.append(entry_id)
    return changed


def write_override(folder: Path, bank: Bank, entry_id: str, changes: dict[str, Any]) -> Entry:
    """Validate a fix, add it to the deck's override file (atomically) and apply it to the bank; the new entry."""
    entry = bank.get(entry_id)
    new = fixed_entry(entry, changes)
    path = override_path(folder, entry.deck)
    fixes = read_overrides(path)
    merged = {**fixes.get(entry_id, {}), **{k: _plain(v) for k, v in changes.items()}}
    fixes[entry_id] = merged
    text = HEADER.format(deck=entry.deck) + yaml.safe_dump({"deck": entry.deck, "entries": fixes},
                                                           sort_keys=False, allow_unicode=True, width=110)
    # A temporary file then a rename: a crash never leaves half a file that would stop the bank from loading.
    handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{entry.deck}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _replace(bank, new)
    return new


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _replace(bank: Bank, entry: Entry) -> None:
    """Put the fixed entry in the bank (and its deck), where every part of the engine reads it."""
    bank.entries[entry.id] = entry
    deck = bank.decks.get(entry.deck)
    if deck is not None:
        deck.questions = [entry if e.id == entry.id else e for e in deck.questions]
