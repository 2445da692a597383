"""Errors a user may see: each carries one clear sentence."""

USER_BUSY = "Your previous request is still being processed; please wait for it to finish before sending another."
FAILED = "Something went wrong on my side; please try again (an answer you saw scored is saved)."


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

    def __init__(self, message: str = USER_BUSY) -> None:
        super().__init__(message)


class UserUnreachable(CoachError):
    """The platform will not deliver to this user any more (deactivated, direct messages refused)."""


class IndexDamagedError(CoachError):
    """The embedded Chroma store cannot be read; `index --rebuild` sets it aside and builds a new one."""
