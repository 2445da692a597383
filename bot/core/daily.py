"""Daily questions on every platform: one claim-and-takeover rule, a port per platform, and a ticker for the passes.

Each day's question is claimed in the store (one row per user and local day) before it is sent, then marked
sent. Why a restart neither skips nor repeats a day:

- died before the claim: nothing was recorded and nothing posted, so the next pass sends the day's question;
- died between the claim and the post: the claim stays "claimed". The process that made it takes it over on its
  next pass (its earlier pass failed before sending); any other process waits until the claim is older than
  `stale_after`, since its sender may still be at work (retrying a 429). `reclaim_daily` is a compare-and-set:
  one sender wins;
- died between the post and the mark: before posting again, the taker asks the platform's port whether the
  day's question already went out, and then only marks it sent.

`stale_after` (10 minutes) must exceed the longest a single send may take, rate-limit retries included.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.localtime import local_date, local_day_start
from bot.core.phases import Phase
from bot.core.replies import Reply, UserRef
from bot.core.store.records import UserRecord, utc_now
from bot.errors import UserBusyError, UserUnreachable

if TYPE_CHECKING:
    from bot.core.coach import Coach

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=10)
Job = Callable[[datetime], Any]


class DailyPort(Protocol):
    """What a platform does for the daily dispatcher: where a user's question goes, posting it, finding it."""

    platform: str

    def place(self, user: UserRef) -> str:
        """The user's direct-message place; UserUnreachable when the platform refuses one for good."""
        ...

    def send(self, user: UserRef, place: str, reply: Reply, day: str) -> str | None:
        """Post the day's question, marked with its local day; its message reference. UserUnreachable as above."""
        ...

    def posted(self, user: UserRef, place: str, day: str, since: datetime) -> str | None:
        """The reference of the day's question if it already went out (posted at or after `since`), else None."""
        ...


@dataclass
class _Claimed:
    """A question claimed for a user's local day, with its session opened, ready to post."""

    reply: Reply
    day: str
    place: str
    taken_over: bool


class DailyDispatcher:
    """`tick(now)` sends every daily question of one platform that is due at `now`; one per user and local day."""

    def __init__(self, coach: Coach, port: DailyPort, *, stale_after: timedelta = STALE_AFTER) -> None:
        self.coach = coach
        self.port = port
        self.stale_after = stale_after

    def tick(self, now: datetime) -> int:
        """One pass over the users whose time has come; returns how many questions were posted."""
        posted = 0
        for user in self.due(now):
            try:
                posted += self.send(user, now)
            except UserBusyError:
                continue  # the user is answering something right now: the next pass sends it
            except Exception as exc:  # one user's failure must not hold back the others; the claim is retried
                log.warning("Daily question for %s not sent: %s", user.ref.key, exc)
        return posted

    def due(self, now: datetime) -> list[UserRecord]:
        """The port's users whose daily time has come and whose day's question is not sent yet."""
        return self.coach.scheduler.daily_due(now, platform=self.port.platform)

    def send(self, user: UserRecord, now: datetime) -> int:
        """Claim the user's question for their local day, post it and mark it sent; 1 when one was posted."""
        ref = user.ref
        try:
            place = self.port.place(ref)
            claimed = self._claim(user, now, place)
            if claimed is None:
                return 0
            if claimed.taken_over:
                found = self.port.posted(ref, place, claimed.day, local_day_start(user.zone, now))
                if found is not None:   # the sender that died had posted it: only the mark was missing
                    self.coach.store.mark_daily_sent(ref, claimed.day, channel=place, message_ref=found)
                    return 0
            message = self.port.send(ref, place, claimed.reply, claimed.day)
        except UserUnreachable as exc:
            # Retrying every pass would only hammer the platform: the user turns daily questions on again later.
            log.warning("Daily questions turned off for %s: %s", ref.key, exc)
            self.coach.store.update_user(ref, daily_on=False)
            return 0
        self.coach.store.mark_daily_sent(ref, claimed.day, channel=place, message_ref=message)
        return 1

    def _claim(self, user: UserRecord, now: datetime, place: str) -> _Claimed | None:
        """Today's question: claimed now, or a claim taken over; its one-question session opened. None: not ours."""
        ref, day = user.ref, local_date(user.zone, now)
        coach, store = self.coach, self.coach.store
        with coach.gate.hold(ref):
            session = store.open_session(ref)
            open_day = session.extra.get("daily") if session is not None else None
            if session is not None and not open_day:
                return None  # never interrupt a mock interview: a later pass sends it once the interview ends
            record = store.daily_send(ref, day)
            note = None
            if record is None:
                entry, note = coach.decks.daily_question(coach.scheduler, ref, now)
                if entry is None or not store.claim_daily(ref, day, entry.id, owner=coach.id):
                    return None
                taken_over = False
            elif record.status != "claimed" or record.question_id not in coach.bank.entries:
                return None
            elif not store.reclaim_daily(ref, day, utc_now() - self.stale_after, owner=coach.id):
                return None  # another process's recent claim: its sender may still be at work
            else:
                entry, taken_over = coach.bank.get(record.question_id), True
            if session is None or open_day != day or session.current_question_id != entry.id:
                if session is not None:
                    # An earlier day's question left unanswered: close it, so that today's can be asked.
                    session.phase = Phase.STOPPED
                    store.save_session(session)
                session = store.create_session(ref, [entry.id], topic=None, channel=place)
                session.extra["daily"] = day
                store.save_session(session)
            reply = coach.question_reply(session)
        if note:   # the user's deck is no longer installed: say so with the question
            reply.text = f"{note}\n\n{reply.text}"
        reply.data.update(daily=True, local_date=day)
        return _Claimed(reply, day, place, taken_over)


class Ticker:
    """Runs jobs once a period on a daemon thread (the first pass at once, to catch up after a restart)."""

    def __init__(self, jobs: Iterable[Job], *, clock: Callable[[], datetime] = utc_now, period: float = 60.0,
                 margin: float = 0.5, name: str = "daily") -> None:
        self.jobs = list(jobs)
        self.clock = clock
        self.period = period
        self.margin = margin
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the current pass."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            for job in self.jobs:
                try:
                    job(self.clock())
                except Exception:  # a failing pass is logged and retried next period, never fatal
                    log.exception("Periodic job %s failed", getattr(job, "__name__", job))
            # Wake just after the top of the next period, so a 09:00 question goes out at 09:00:0x, not 09:01.
            self._stop.wait(self.period - (time.time() % self.period) + self.margin)
