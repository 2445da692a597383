"""Posting engine replies into Slack: DM messages, threads, the streamed critique and the chart upload."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.llm.jsonstream import LABELS, JsonProse
from bot.core.replies import Reply
from bot.slack_blocks import fallback_text, message, plain_message, streaming_message

CHART_NAME = "progress.png"
log = logging.getLogger(__name__)
# The follow-up question is posted as a message of its own, with its buttons; the critique leaves it out.
CRITIQUE_LABELS = {key: label for key, label in LABELS.items() if key != "follow_up"}


def readable(partial: str) -> str:
    """What the model has written so far, as prose: a JSON critique shows only its labelled values."""
    text = partial.lstrip()
    if not text.startswith("{"):
        return text
    out: list[str] = []
    JsonProse(out.append, CRITIQUE_LABELS)(text)
    return "".join(out)


class CritiqueStream:
    """The critique message in a thread: updated with the model's words at most once per interval, then final.

    The drafts are best effort: sent without retries (a rate-limited draft is dropped, the next one carries more
    text), and never after the final text, which waits for a draft in flight and is retried until it lands.
    """

    def __init__(self, client: WebClient, channel: str, thread_ts: str | None, *, interval: float = 1.0,
                 render: Callable[[str], str] = readable) -> None:
        self.client, self.channel, self.thread_ts = client, channel, thread_ts
        self.drafts = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                                retry_handlers=[])
        self.interval = interval
        self.render = render
        self.ts: str | None = None
        self._pieces: list[str] = []
        self._shown = ""
        self._lock = threading.Lock()
        self._sending = threading.Lock()   # one Slack call at a time, so the final one is the last
        self._final = False
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_send: float | None = None
        self._unreachable = False

    def feed(self, piece: str) -> None:
        """Take one piece of the model's output (called on the engine's thread; never blocks on Slack)."""
        with self._lock:
            self._pieces.append(piece)
            if self._thread is None and not self._done.is_set():
                # Slack calls happen on a thread of our own, so the model is never slowed down by the network.
                self._thread = threading.Thread(target=self._run, name="slack-critique-stream", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        """Flush, then wait an interval, until finished: chat.update is never called faster than once per interval."""
        while not self._done.is_set() and not self._unreachable:
            self._flush()
            self._done.wait(self.interval)

    def _flush(self) -> None:
        with self._lock:
            text = self.render("".join(self._pieces))
        if not text or text == self._shown:
            return
        self._shown = text
        with self._sending:
            if self._final:
                return
            try:
                self._send(self.drafts, streaming_message(text))
            except SlackApiError as exc:
                log.info("A draft of the critique was not shown (%s); the next one follows", exc.response.get("error"))
            except OSError as exc:   # Slack unreachable (refused, reset, timed out): no point sending more drafts
                self._unreachable = True
                log.warning("Slack could not be reached for a draft of the critique (%s); drafts stop, the final "
                            "text is still sent", type(exc).__name__)

    def _send(self, client: WebClient, payload: dict[str, Any]) -> None:
        self._last_send = time.monotonic()
        if self.ts is None:
            response = client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts,
                                               unfurl_links=False, unfurl_media=False, **payload)
            self.ts = response["ts"]
        else:
            client.chat_update(channel=self.channel, ts=self.ts, **payload)

    def close(self) -> None:
        """Stop streaming (waits for an update in flight, so `ts` is known afterwards)."""
        self._done.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=30)

    def finish(self, reply: Reply) -> None:
        """The final message: the whole critique, replacing the streamed text (or posted when nothing streamed)."""
        self.close()
        with self._sending:
            self._final = True
            if self._last_send is not None:
                # The final update keeps the pace too (Slack rate-limits chat.update).
                time.sleep(max(0.0, self.interval - (time.monotonic() - self._last_send)))
            self._send(self.client, message(reply))


class SlackPoster:
    """Sends replies to users' DMs with one Web API client (shared across threads; it is thread-safe)."""

    def __init__(self, client: WebClient, *, stream_interval: float = 1.0) -> None:
        self.client = client
        self.stream_interval = stream_interval
        self._dms: dict[str, str] = {}
        self._lock = threading.Lock()

    def dm_channel(self, user_id: str) -> str:
        """The id of the app's DM with a user (conversations.open, remembered)."""
        with self._lock:
            if user_id in self._dms:
                return self._dms[user_id]
        channel = self.client.conversations_open(users=user_id)["channel"]["id"]
        with self._lock:
            self._dms[user_id] = channel
        return channel

    def post(self, channel: str, reply: Reply, *, thread_ts: str | None = None,
             metadata: dict[str, Any] | None = None) -> str | None:
        """Post a reply (its chart as an upload when it has one); returns the message ts."""
        if reply.image is not None:
            self.upload_chart(channel, reply, thread_ts=thread_ts)
            return None
        response = self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False,
                                                unfurl_media=False, metadata=metadata, **message(reply))
        return response["ts"]

    def say(self, channel: str, mrkdwn: str, *, thread_ts: str | None = None) -> str:
        """Post the adapter's own text (already mrkdwn; never user or model text)."""
        response = self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, **plain_message(mrkdwn))
        return response["ts"]

    def upload_chart(self, channel: str, reply: Reply, *, thread_ts: str | None = None) -> None:
        """Upload the reply's PNG with its text as the comment (files_upload_v2)."""
        assert reply.image is not None
        self.client.files_upload_v2(channel=channel, file=reply.image, filename=CHART_NAME, title="Your progress",
                                    alt_txt="Scores over time and average by topic",
                                    initial_comment=fallback_text(reply.text), thread_ts=thread_ts)

    def stream(self, channel: str, thread_ts: str | None) -> CritiqueStream:
        """A critique message to stream into."""
        return CritiqueStream(self.client, channel, thread_ts, interval=self.stream_interval)

