"""Daily questions on Slack: the platform's side of the engine's daily dispatcher (`bot.core.daily`).

The dispatcher claims each day's question and decides when to post it; this port opens the user's DM, posts the
question with metadata naming its local day (spaced to stay within Slack's rate limits), and finds it again in
the DM's history when a sender died between posting and marking it sent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.core.daily import DailyDispatcher
from bot.core.replies import Reply, UserRef
from bot.errors import UserUnreachable
from bot.slack_messages import SlackPoster

if TYPE_CHECKING:
    from bot.core.coach import Coach

log = logging.getLogger(__name__)
DAILY_EVENT = "coach_daily"          # event_type of the metadata attached to each daily message
HISTORY_PAGES = 5                    # of 200 messages: a day of DMs with the coach
# Errors that will not go away by retrying: the user was deactivated, left, or cannot be messaged by an app.
GONE = {"user_disabled", "user_not_found", "user_not_visible", "cannot_dm_bot", "is_archived", "channel_not_found"}


class SlackDaily:
    """The DailyPort of Slack: the user's DM, posts spaced `post_interval` apart, metadata for finding them."""

    platform = "slack"

    def __init__(self, poster: SlackPoster, *, post_interval: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.poster = poster
        self.post_interval = post_interval   # Slack allows about one message per second; stay under it
        self.sleep = sleep
        self.monotonic = monotonic
        self._last_post: float | None = None

    def place(self, user: UserRef) -> str:
        """The app's DM with the user."""
        with _gone(user):
            return self.poster.dm_channel(user.user_id)

    def send(self, user: UserRef, place: str, reply: Reply, day: str) -> str | None:
        """Post one daily question, spaced from the previous post; its ts."""
        if self._last_post is not None:
            wait = self.post_interval - (self.monotonic() - self._last_post)
            if wait > 0:
                self.sleep(wait)
        metadata = {"event_type": DAILY_EVENT,
                    "event_payload": {"local_date": day, "question_id": reply.data.get("question_id", "")}}
        try:
            with _gone(user):
                return self.poster.post(place, reply, metadata=metadata)
        finally:
            self._last_post = self.monotonic()

    def posted(self, user: UserRef, place: str, day: str, since: datetime) -> str | None:
        """The ts of the day's question if it was posted at or after `since`."""
        cursor = None
        for _ in range(HISTORY_PAGES):
            try:
                page = self.poster.client.conversations_history(channel=place, oldest=f"{since.timestamp():.6f}",
                                                                include_all_metadata=True, limit=200, cursor=cursor)
            except SlackApiError as exc:
                # Without the history (scope im:history missing?) a repeat is better than a skipped day.
                log.warning("conversations.history failed for %s: %s", place, exc.response.get("error"))
                return None
            messages: list[dict[str, Any]] = page.get("messages", [])
            for msg in messages:
                meta = msg.get("metadata") or {}
                if meta.get("event_type") == DAILY_EVENT and (meta.get("event_payload") or {}).get("local_date") == day:
                    return msg.get("ts")
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None


@contextmanager
def _gone(user: UserRef) -> Iterator[None]:
    """Turns Slack's 'this user cannot be reached' errors into UserUnreachable; others pass through."""
    try:
        yield
    except SlackApiError as exc:
        if exc.response.get("error") in GONE:
            raise UserUnreachable(f"Slack says {exc.response.get('error')} for {user.user_id}.") from exc
        raise


def daily_sender(coach: Coach, poster: SlackPoster, **options: Any) -> DailyDispatcher:
    """The engine's daily dispatcher for Slack users; `options` go to SlackDaily (post_interval, sleep, …)."""
    stale = {"stale_after": options.pop("stale_after")} if "stale_after" in options else {}
    return DailyDispatcher(coach, SlackDaily(poster, **options), **stale)
