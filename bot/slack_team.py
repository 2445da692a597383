"""Team practice on Slack: the platform's side of the engine's team dispatcher (`bot.core.team`).

Each work day the dispatcher claims the team's question (the daily claim-and-takeover rule) and this port posts,
first, the previous question's anonymous results in that question's thread, then the new question in the channel.
Both carry metadata, so a sender that takes over a claim finds what already went out and posts neither twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.core.replies import Reply, UserRef
from bot.core.team import TeamDispatcher
from bot.errors import UserUnreachable
from bot.slack_daily import DAILY_EVENT, SlackDaily
from bot.slack_messages import SlackPoster
from bot.slack_practice import team_message

if TYPE_CHECKING:
    from bot.core.coach import Coach

RESULTS_EVENT = "coach_team_results"
# The channel is gone or the app was removed from it: the team pauses (the dispatcher turns its schedule off).
CHANNEL_GONE = {"not_in_channel", "channel_not_found", "is_archived", "missing_scope"}


class SlackTeamDaily(SlackDaily):
    """The DailyPort of Slack teams: the place is the channel itself."""

    platform = "slack-team"

    def __init__(self, coach: Coach, poster: SlackPoster, **options: Any) -> None:
        super().__init__(poster, **options)
        self.coach = coach

    def place(self, user: UserRef) -> str:
        """The team's channel."""
        return user.user_id

    def send(self, user: UserRef, place: str, reply: Reply, day: str) -> str | None:
        """Yesterday's results in their thread (unless already there), then today's question."""
        try:
            results = self.coach.teams.results(user, day)
            if results is not None:
                thread = str(results.data["message_ref"])
                if not self._results_posted(place, thread):
                    payload = {"local_date": results.data["local_date"]}
                    self.poster.post(place, results, thread_ts=thread,
                                     metadata={"event_type": RESULTS_EVENT, "event_payload": payload})
            metadata = {"event_type": DAILY_EVENT,
                        "event_payload": {"local_date": day, "question_id": reply.data.get("question_id", "")}}
            response = self.poster.client.chat_postMessage(channel=place, unfurl_links=False, unfurl_media=False,
                                                           metadata=metadata, **team_message(reply, day))
            return str(response["ts"])
        except SlackApiError as exc:
            if exc.response.get("error") in CHANNEL_GONE:
                raise UserUnreachable(f"Slack says {exc.response.get('error')} for channel {place}.") from exc
            raise

    def _results_posted(self, channel: str, thread_ts: str) -> bool:
        """Whether the results are already in the question's thread (a sender died after posting them)."""
        try:
            page = self.poster.client.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True,
                                                            limit=200)
        except SlackApiError:
            return False
        messages: list[dict[str, Any]] = page.get("messages", [])
        return any((m.get("metadata") or {}).get("event_type") == RESULTS_EVENT for m in messages)

    def posted(self, user: UserRef, place: str, day: str, since: datetime) -> str | None:
        """The ts of the day's team question if it already went out."""
        return super().posted(user, place, day, since)


def team_sender(coach: Coach, poster: SlackPoster, **options: Any) -> TeamDispatcher:
    """The engine's team dispatcher for Slack channels; `options` go to the port (post_interval, sleep, …)."""
    stale = {"stale_after": options.pop("stale_after")} if "stale_after" in options else {}
    return TeamDispatcher(coach, SlackTeamDaily(coach, poster, **options), **stale)
