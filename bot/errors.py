"""Errors a user may see: each carries one clear sentence."""


class CoachError(Exception):
    """An error whose message is one sentence fit to show a user or operator."""


class DeckError(CoachError):
    """A deck file is unreadable or invalid."""


class ModelError(CoachError):
    """The model file is missing, truncated or fails its checksum."""


class IndexBusyError(CoachError):
    """Another process holds the Chroma folder."""


class ConfigError(CoachError):
    """A required setting (such as a token) is missing or invalid."""


class UserBusyError(CoachError):
    """The user's previous request is still queued or running; one at a time per user."""

    def __init__(self, message: str = "Your previous request is still being processed; please wait for it to "
                                      "finish before sending another.") -> None:
        super().__init__(message)


class IndexDamagedError(CoachError):
    """The embedded Chroma store cannot be read; `index --rebuild` sets it aside and builds a new one."""
