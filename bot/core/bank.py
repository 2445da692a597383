"""The question bank: decks of YAML files in `knowledge/`, validated on load."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import DeckError

Kind = Literal["concept", "experience", "scenario"]
MAX_PROBE = 300


class PointSpec(BaseModel):
    """A key point written as a mapping: the statement and the interviewer's probe for it."""

    model_config = ConfigDict(extra="forbid")

    point: str = Field(min_length=1)
    probe: str | None = None

    @field_validator("probe")
    @classmethod
    def _a_question(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = " ".join(value.split())
        if not value.endswith("?"):
            raise ValueError("a probe is a question and must end with a question mark")
        if len(value.split()) < 3 or len(value) > MAX_PROBE:
            raise ValueError(f"a probe must be 3 words to {MAX_PROBE} characters long")
        return value


class Entry(BaseModel):
    """One question with its reference answer and rubric."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")
    question: str = Field(min_length=8, max_length=500)
    topics: tuple[str, ...] = Field(min_length=1)
    difficulty: int = Field(ge=1, le=3)
    kind: Kind = "concept"
    key_points: tuple[str, ...] | None = None
    # The interviewer's follow-up for each key point (None where the deck has none); written in the deck as
    # `- point: …` / `probe: …` and split out here, so key_points stays a tuple of strings.
    probes: tuple[str | None, ...] | None = None
    answer: str = Field(min_length=1)
    deck: str = ""
    drafted_points: bool = False
    drafted_probes: bool = False

    @model_validator(mode="before")
    @classmethod
    def _split_probes(cls, data: Any) -> Any:
        """`{point, probe}` items become a plain point plus a probe alongside; errors name key_points.N.field."""
        if not isinstance(data, dict) or not isinstance(data.get("key_points"), list):
            return data
        if "probes" in data:
            raise ValueError("probes: write each probe next to its point, as '- point: ...' and 'probe: ...'")
        points: list[Any] = []
        probes: list[str | None] = []
        for number, item in enumerate(data["key_points"], 1):
            if isinstance(item, dict):
                try:
                    spec = PointSpec.model_validate(item)
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = ".".join(str(p) for p in first["loc"]) or "point"
                    raise ValueError(f"key_points.{number}.{where}: {first['msg']}") from None
                points.append(spec.point)
                probes.append(spec.probe)
            else:
                points.append(item)
                probes.append(None)
        return {**data, "key_points": points, "probes": tuple(probes) if any(probes) else None}

    @field_validator("key_points")
    @classmethod
    def _three_to_six(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not 3 <= len(value) <= 6:
            raise ValueError(f"needs 3 to 6 key points, has {len(value)}")
        for point in value:
            if not point.strip():
                raise ValueError("a key point is empty")
        return tuple(p.strip() for p in value)

    @field_validator("question", "answer")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty")
        return value.strip()

    def probe(self, index: int) -> str | None:
        """The probe written (or drafted) for key point index, if any."""
        if self.probes is None or not 0 <= index < len(self.probes):
            return None
        return self.probes[index]

    @property
    def points(self) -> tuple[str, ...]:
        """The rubric: the key points, or the reference answer's sentences when there are none."""
        if self.key_points:
            return self.key_points
        from bot.core.grading.drafted import drafted_points

        return drafted_points(self.answer)

    def content_hash(self) -> str:
        """A hash of everything that is embedded, so unchanged entries are never re-embedded."""
        payload = json.dumps([self.question, self.answer, list(self.key_points or ()), list(self.topics)])
        return hashlib.sha256(payload.encode()).hexdigest()[:32]


class Deck(BaseModel):
    """One `knowledge/<deck>.yaml` file."""

    model_config = ConfigDict(extra="forbid")

    deck: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    title: str = Field(min_length=1)
    topics: tuple[str, ...] | None = None
    questions: list[Entry] = Field(min_length=1)

    @model_validator(mode="after")
    def _topics_in_vocabulary(self) -> Deck:
        if self.topics:
            for index, entry in enumerate(self.questions):
                for topic in entry.topics:
                    if topic not in self.topics:
                        name = entry.id or f"#{index + 1}"
                        raise ValueError(f"entry '{name}', field 'topics': '{topic}' is not in the deck's topics "
                                         f"({', '.join(self.topics)})")
        return self


@dataclass
class Bank:
    """Every entry of every deck, by id, in file order."""

    entries: dict[str, Entry]
    decks: dict[str, Deck]

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry:
        """The entry with this id (KeyError if none)."""
        return self.entries[entry_id]

    def topics(self) -> list[str]:
        """Every topic used, sorted."""
        return sorted({t for e in self.entries.values() for t in e.topics})

    def by_topic(self, topic: str | None) -> list[Entry]:
        """Entries of one topic (all entries when topic is None)."""
        if not topic:
            return list(self.entries.values())
        return [e for e in self.entries.values() if topic in e.topics]


def _describe(error: ValidationError, data: Any) -> str:
    """The first validation problem as 'entry <id>, field <f>: message'."""
    first = error.errors()[0]
    loc = list(first["loc"])
    if not loc:  # a check of the whole deck: its message names the entry and the field itself
        return str(first["msg"]).removeprefix("Value error, ")
    message = str(first["msg"])
    where = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
        items = data.get("questions") if isinstance(data, dict) else None
        raw = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        name = raw.get("id") if isinstance(raw, dict) and raw.get("id") else f"#{loc[1] + 1}"
        field_name = ".".join(str(p) for p in loc[2:]) or "entry"
        nested = re.match(r"Value error, ((?:key_points\.\d+\.\w+)|probes): (.*)", message, re.DOTALL)
        if nested and field_name == "entry":
            field_name, message = nested.group(1), nested.group(2)
        where = f"entry '{name}', field '{field_name}'"
    else:
        where = f"field '{where}'"
    return f"{where}: {message}"


def _yaml_where(exc: yaml.YAMLError, raw: bytes) -> str:
    """Where a YAML error is: the line where the broken construct starts (an unclosed quote or bracket), not only
    where the parser gave up, and the entry it is in."""
    problem, context = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
    start = context or problem
    if start is None:
        return ""
    line = start.line + 1
    lines = raw.decode("utf-8", errors="replace").splitlines()[:line]
    ids = [m.group(1) for text in lines if (m := re.match(r"^\s*-\s*id:\s*['\"]?([^'\"\s#]+)", text))]
    where = f" at line {line}" + (f" (entry '{ids[-1]}')" if ids else "")
    what = getattr(exc, "problem", None) or ""
    if context is not None and problem is not None and problem.line != context.line:
        return f"{where}: {what} at line {problem.line + 1}, {getattr(exc, 'context', '')} that starts at line {line}"
    return f"{where}: {what}" if what else where


def load_deck(path: Path) -> Deck:
    """Read and validate one deck file; DeckError names the file, the entry and the field."""
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise DeckError(f"Cannot read deck {path.name}: {exc.__class__.__name__}.") from exc
    except yaml.YAMLError as exc:
        raise DeckError(f"Deck {path.name} is not valid YAML{_yaml_where(exc, raw)}.") from exc
    if not isinstance(data, dict):
        raise DeckError(f"Deck {path.name} must be a mapping with deck, title and questions.")
    try:
        deck = Deck.model_validate(data)
    except ValidationError as exc:
        raise DeckError(f"Deck {path.name}, {_describe(exc, data)}.") from exc
    deck.questions = [e.model_copy(update={"deck": deck.deck}) for e in deck.questions]
    return deck


def load_bank(folder: Path) -> Bank:
    """Load every `*.yaml` deck of a folder; ids must be unique across decks."""
    from bot.core.overrides import apply_overrides, is_override_file

    files = sorted(p for p in list(folder.glob("*.yaml")) + list(folder.glob("*.yml")) if not is_override_file(p))
    if not files:
        what = "does not exist" if not folder.exists() else "is not a folder" if not folder.is_dir() else \
            "holds no deck (*.yaml)"
        raise DeckError(f"The knowledge folder {folder} {what}; set COACH_KNOWLEDGE_DIR to the folder of your decks.")
    entries: dict[str, Entry] = {}
    decks: dict[str, Deck] = {}
    origin: dict[str, str] = {}
    for path in files:
        deck = load_deck(path)
        if deck.deck in decks:
            raise DeckError(f"Deck {path.name}: deck name '{deck.deck}' is already used by another file.")
        decks[deck.deck] = deck
        for entry in deck.questions:
            if entry.id in entries:
                raise DeckError(f"Deck {path.name}, entry '{entry.id}', field 'id': the id is already used "
                                f"in {origin[entry.id]}.")
            entries[entry.id] = entry
            origin[entry.id] = path.name
    bank = Bank(entries=entries, decks=decks)
    apply_overrides(bank, folder)   # reviewers' fixes, beside each deck
    return bank
