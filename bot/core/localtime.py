"""Users' local time: calendar days in their zone, the daily-question time they chose, when it next comes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_daily_time(text: str) -> str | None:
    """A 24-hour time as HH:MM ("9:30" → "09:30"), None when it is not one."""
    match = _TIME.match(text.strip())
    return f"{int(match[1]):02d}:{match[2]}" if match else None


def zone_problem(name: str) -> str | None:
    """One sentence when the name is not an IANA time zone known here, else None."""
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return f"'{name[:60]}' is not a time zone I know; use a name such as Europe/Paris or America/New_York."
    return None


def local_date(zone: tzinfo, now: datetime) -> str:
    """The local calendar day ('YYYY-MM-DD') of an instant in a time zone."""
    return now.astimezone(zone).date().isoformat()


def local_day_start(zone: tzinfo, now: datetime) -> datetime:
    """The instant (UTC) at which the local day containing `now` began."""
    day = now.astimezone(zone).date()
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def next_daily(zone: tzinfo, daily_time: str, now: datetime, *, sent_today: bool) -> datetime:
    """When the next daily question is due, in the user's zone: today at their time, or tomorrow once sent."""
    hour, minute = (int(part) for part in daily_time.split(":"))
    day = now.astimezone(zone).date() + timedelta(days=1 if sent_today else 0)
    return datetime.combine(day, time(hour, minute), tzinfo=zone)
