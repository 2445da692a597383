"""Conversation phases of an interview session, persisted by name."""

from __future__ import annotations

from enum import Enum


class Phase(str, Enum):
    """Where a session stands; stored in the database as the member's name."""

    AWAITING_ANSWER = "AWAITING_ANSWER"          # a question is shown, waiting for the answer
    AWAITING_FOLLOW_UP = "AWAITING_FOLLOW_UP"    # a follow-up question is shown, waiting for its answer
    FINISHED = "FINISHED"                        # every question done; report card shown
    STOPPED = "STOPPED"                          # the user stopped early; report card shown

    @property
    def is_open(self) -> bool:
        """Whether the session still waits for the user."""
        return self in (Phase.AWAITING_ANSWER, Phase.AWAITING_FOLLOW_UP)
