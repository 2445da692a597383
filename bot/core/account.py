"""The STATS, TOPICS and DAILY actions: a user's progress, the deck's topics and their daily-question settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from bot.core import render
from bot.core.localtime import local_date, next_daily, parse_daily_time, zone_problem
from bot.core.replies import Action, Reply, ReplyKind, Request
from bot.errors import CoachError

if TYPE_CHECKING:
    from bot.core.coach import Coach


class Account:
    """What a user asks about themselves rather than an interview."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach

    def actions(self) -> dict[Action, Callable[[Request], Iterator[Reply]]]:
        return {Action.STATS: self.stats, Action.TOPICS: self.topics, Action.DAILY: self.daily}

    def stats(self, request: Request) -> Iterator[Reply]:
        """Progress: attempts, averages by topic, trend, streak, due reviews, and a PNG chart."""
        from bot.core.charts import progress_chart
        from bot.core.stats import user_stats

        data = user_stats(self.coach.store, request.user, now=self.coach.clock(), bank=self.coach.bank)
        yield Reply(ReplyKind.STATS, render.stats_text(data), image=progress_chart(data) if request.chart else None,
                    data=data)

    def topics(self, request: Request) -> Iterator[Reply]:
        counts = self.coach.topic_counts(request.user, request.space)
        yield Reply(ReplyKind.INFO, "Topics: " + ", ".join(f"{t} ({n})" for t, n in counts.items()),
                    data={"topics": counts})

    def daily(self, request: Request) -> Iterator[Reply]:
        """Turn the daily question on or off, at a local time in a time zone; with neither, its status."""
        fields: dict[str, Any] = {}
        if request.time is not None:
            hhmm = parse_daily_time(request.time)
            if hhmm is None:
                raise CoachError(f"'{request.time[:20]}' is not a 24-hour time; use HH:MM, such as 08:30.")
            fields["daily_time"] = hhmm
        if request.zone:
            problem = zone_problem(request.zone)
            if problem:
                raise CoachError(problem)
            fields["time_zone"] = request.zone.strip()
        if request.daily is not None:
            fields["daily_on"] = request.daily
        user = self.coach.store.get_or_create_user(request.user)
        self.coach.decks.remember_space(request.user, request.space)
        if fields:
            user = self.coach.store.update_user(request.user, **fields)
        upcoming = None
        if user.daily_on:
            now = self.coach.clock()
            sent = self.coach.store.daily_send(request.user, local_date(user.zone, now)) is not None
            upcoming = next_daily(user.zone, user.daily_time, now, sent_today=sent)
        data = {"daily_on": user.daily_on, "daily_time": user.daily_time, "time_zone": user.time_zone,
                "next": upcoming.isoformat() if upcoming else None}
        yield Reply(ReplyKind.INFO, render.daily_text(data, changed=request.daily is not None), data=data)

