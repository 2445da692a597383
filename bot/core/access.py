"""Who may review flagged questions and run team practice, and where reviewers' fixes go: the engine's options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.replies import Request

if TYPE_CHECKING:
    from bot.core.bank import Entry

NOT_REVIEWER = ("Only reviewers can see or settle flagged questions: on Discord, members with Manage Server; on "
                "Slack, workspace admins and the people the operator lists in COACH_SLACK_REVIEWERS.")
NOT_MANAGER = ("Only people who manage the app can set up, stop or pause team practice: workspace admins and owners, "
               "and the people the operator lists in COACH_SLACK_MANAGERS.")


@dataclass(frozen=True)
class Access:
    """Reviewers and team managers named by the operator (user keys such as "slack:U123"), and the fix hooks."""

    reviewers: frozenset[str] = frozenset()
    managers: frozenset[str] = frozenset()
    knowledge_dir: Path | None = None                  # where reviewers' fixes are written (None: fixes refused)
    reindex: Callable[[Entry], None] | None = None      # called with each fixed entry, to re-embed it at once

    def may_review(self, request: Request) -> bool:
        """The platform's own admins (Manage Server, workspace admins, the terminal's operator) or a listed user."""
        return request.admin or request.user.key in self.reviewers

    def may_manage(self, request: Request) -> bool:
        """Who may set up, stop and pause team practice."""
        return request.admin or request.user.key in self.managers
