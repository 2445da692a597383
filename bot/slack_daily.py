"""Daily questions on Slack: each user's question at their local time, recorded before it is sent.

The engine's `coach.daily_question` picks the question from the user's schedule, claims it in the store (one row
per user and local day in `daily_sends`) and opens its session; this module posts it, then `coach.daily_sent`.
Why a restart neither skips nor repeats a day:

- died before the claim: nothing was recorded and nothing was posted, so the next pass sends the day's question;
- died between the claim and the post: the claim stays "claimed"; once it is older than `stale_after` a pass
  takes it over (`reclaim_daily`, a compare-and-set, so only one sender wins) and posts the claimed question;
- died between the post and `mark_daily_sent`: before re-posting, the taker looks for the message in the DM
  (each daily message carries metadata with its local day) and only marks it sent;
- a claim younger than `stale_after` belongs to a sender that may still be working (retrying a 429): left alone.
`stale_after` (10 minutes) must exceed the longest a single send may take, rate-limit retries included.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.core.replies import Reply, UserRef
from bot.core.schedule import local_date, local_day_start
from bot.core.store.records import DailySendRecord, SessionRecord, UserRecord, utc_now
from bot.errors import CoachError
from bot.slack_messages import SlackPoster

if TYPE_CHECKING:
    from bot.core.coach import Coach

log = logging.getLogger(__name__)
DAILY_EVENT = "coach_daily"          # event_type of the metadata attached to each daily message
STALE_AFTER = timedelta(minutes=10)  # the engine's schedule takes over claims after the same delay
HISTORY_PAGES = 5                    # of 200 messages: a day of DMs with the coach
Job = Callable[[datetime], Any]


class DailySender:
    """`tick(now)` sends every daily question that is due at `now`; each user gets at most one per local day."""

    def __init__(self, coach: Coach, poster: SlackPoster, *, stale_after: timedelta = STALE_AFTER,
                 post_interval: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.coach = coach
        self.store = coach.store
        self.poster = poster
        self.stale_after = stale_after
        self.post_interval = post_interval   # Slack allows about one message per second; stay under it
        self.sleep = sleep
        self.monotonic = monotonic
        self._last_post: float | None = None

    def tick(self, now: datetime) -> int:
        """One pass: send every due question; returns how many were posted."""
        posted = 0
        for user in self.coach.scheduler.daily_due(now):
            try:
                posted += self._send(user, now)
            except (CoachError, SlackApiError) as exc:
                # One user's failure must not hold back the others; an unsent claim is taken over later.
                log.warning("Daily question for %s not sent: %s", user.ref.key, exc)
        return posted

    def _send(self, user: UserRecord, now: datetime) -> int:
        """Claim (through the engine) and post the user's question for their local day; 1 when one was posted."""
        ref, day = user.ref, local_date(user.zone, now)
        session = self.coach.open_session(ref)
        if session is not None and not session.extra.get("daily"):
            return 0  # never interrupt a mock interview: a later pass sends it once the interview ends
        record = self.store.daily_send(ref, day)
        channel = self.poster.dm_channel(ref.user_id)
        if record is not None:
            if record.status != "claimed" or not self._stale(record):
                return 0  # sent, or claimed recently by a sender that may still be at it
            found = self._already_posted(channel, day, local_day_start(user.zone, now))
            if found is not None:
                self.coach.daily_sent(ref, day, channel=channel, message_ref=found)
                return 0
        reply = self._question(ref, day, now, channel, session, record)
        if reply is None:
            return 0
        ts = self._post(channel, reply, day)
        self.coach.daily_sent(ref, day, channel=channel, message_ref=ts)
        return 1

    def _question(self, ref: UserRef, day: str, now: datetime, channel: str, session: SessionRecord | None,
                  record: DailySendRecord | None) -> Reply | None:
        """Today's question: the engine claims it and opens its session, or the stale claim of a dead sender."""
        if session is not None and session.extra.get("daily") == day and record is not None:
            # Claimed and opened by a sender that died before posting it: take the claim over and post it.
            if not self.store.reclaim_daily(ref, day, utc_now() - self.stale_after):
                return None
            return self.coach.current(ref)
        if session is not None:
            # An earlier day's question left unanswered: close it, so that today's can be asked.
            self.coach.stop(ref)
        return self.coach.daily_question(ref, channel=channel, now=now)

    def _stale(self, record: DailySendRecord) -> bool:
        """Whether a claim is old enough for its sender to be presumed dead (claims carry wall-clock times)."""
        return record.created is None or record.created < utc_now() - self.stale_after

    def _post(self, channel: str, reply: Reply, day: str) -> str | None:
        """Post one daily question, spaced from the previous post to stay within Slack's rate limits."""
        if self._last_post is not None:
            wait = self.post_interval - (self.monotonic() - self._last_post)
            if wait > 0:
                self.sleep(wait)
        metadata = {"event_type": DAILY_EVENT,
                    "event_payload": {"local_date": day, "question_id": reply.data.get("question_id", "")}}
        try:
            return self.poster.post(channel, reply, metadata=metadata)
        finally:
            self._last_post = self.monotonic()

    def _already_posted(self, channel: str, day: str, since: datetime) -> str | None:
        """The ts of the day's question if a sender that died posted it before marking it sent."""
        # From the start of the local day: the claim's time moves on each takeover, the post does not.
        cursor = None
        for _ in range(HISTORY_PAGES):
            try:
                page = self.poster.client.conversations_history(channel=channel, oldest=f"{since.timestamp():.6f}",
                                                                include_all_metadata=True, limit=200, cursor=cursor)
            except SlackApiError as exc:
                # Without the history (scope im:history missing?) a repeat is better than a skipped day.
                log.warning("conversations.history failed for %s: %s", channel, exc.response.get("error"))
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


def next_daily(user: UserRecord, now: datetime, sent_today: bool) -> datetime:
    """When the user's next daily question is due (in their zone): today at their time, or tomorrow once sent."""
    local = now.astimezone(user.zone)
    hour, minute = (int(part) for part in user.daily_time.split(":"))
    day = local.date() + timedelta(days=1 if sent_today else 0)
    return datetime.combine(day, clock_time(hour, minute), tzinfo=user.zone)


class Ticker:
    """Runs jobs once a minute on a daemon thread (the first pass at once, to catch up after a restart)."""

    def __init__(self, jobs: Iterable[Job], *, clock: Callable[[], datetime] = utc_now, period: float = 60.0,
                 margin: float = 0.5) -> None:
        self.jobs = list(jobs)
        self.clock = clock
        self.period = period
        self.margin = margin
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slack-daily", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current pass."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            for job in self.jobs:
                try:
                    job(self.clock())
                except Exception:  # a failing pass is logged and retried next minute, never fatal
                    log.exception("Periodic job %s failed", getattr(job, "__name__", job))
            # Wake just after the top of the next minute, so a 09:00 question goes out at 09:00:0x, not 09:01.
            self._stop.wait(self.period - (time.time() % self.period) + self.margin)
