"""How a mock interview is run, persisted with its session by name (like Phase)."""

from __future__ import annotations

from enum import Enum

from bot.errors import CoachError


class Mode(str, Enum):
    """Coach mode (score and critique after each answer, the default) or interviewer mode (a report at the end)."""

    COACH = "coach"
    INTERVIEWER = "interviewer"

    @classmethod
    def parse(cls, text: str | None) -> Mode:
        """The mode a user named ('coach', 'interviewer', any case); coach when none; CoachError when unknown."""
        word = (text or "").strip().lower()
        if not word:
            return cls.COACH
        try:
            return cls(word)
        except ValueError:
            raise CoachError(f"There is no mode '{word[:20]}'; use coach or interviewer.") from None

    @classmethod
    def stored(cls, name: str | None) -> Mode:
        """The mode of a stored name; coach for a session saved before modes existed."""
        return cls[name] if name and name in cls.__members__ else cls.COACH
