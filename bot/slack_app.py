"""Slack adapter: `python -m bot.slack_app` (Socket Mode) or `python -m bot.slack_app --http` (Events API).

It only turns Slack events into Coach calls and Coach replies into Slack messages. Every request is acknowledged
first, in the request thread (Bolt ack functions with `process_before_response=True`); the engine work runs in
Bolt lazy listeners on the listener pool, so a slow model or a full pool never delays an ack.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import Ack, App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.core.replies import Action, Reply, ReplyKind, UserRef
from bot.errors import CoachError, ConfigError
from bot.slack_blocks import (
    ACTION_ID,
    ANSWER_BLOCK,
    ANSWER_INPUT,
    ANSWER_MODAL,
    DAILY_TOGGLE,
    HELP,
    SEND_CHART,
    answer_modal,
    escape,
    home_view,
    section,
    text_sections,
)
from bot.slack_messages import SlackPoster

# The rest of the engine (store, schedule, runtime) is imported where it is used, so that a missing token is
# reported before anything heavy loads.
if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.coach import Coach

log = logging.getLogger(__name__)
PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
COMMAND = "/interview"
# Replies that belong under the message they answer; questions and report cards start a new line of talk.
THREADED = {ReplyKind.SCORE, ReplyKind.CRITIQUE, ReplyKind.FOLLOW_UP, ReplyKind.HINT, ReplyKind.REVEAL,
            ReplyKind.SKIPPED, ReplyKind.ERROR}
# A plain message, a thread reply also sent to the conversation, or a message with a file attached.
ANSWER_SUBTYPES = {None, "thread_broadcast", "file_share"}
BUTTONS = re.compile(r"^coach_(hint|skip|reveal|stop|start)$")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")
NO_SESSION = "No question is waiting for an answer. Type `/interview start` for a mock interview, or `/interview help`."
STALE = "That question is no longer open; answer the latest one."
SORRY = "Something went wrong on my side; please try again (an answer you saw scored is saved)."


def user_ref(user_id: str) -> UserRef:
    """The engine's reference for a Slack user."""
    return UserRef(PLATFORM, user_id)


class SlackCoach:
    """Handlers: each turns one Slack request into Coach calls and posts the replies in the user's DM."""

    def __init__(self, coach: Coach, poster: SlackPoster) -> None:
        self.coach = coach
        self.poster = poster

    # ------------------------------------------------------------------ posting

    def _post_all(self, channel: str, replies: list[Reply], thread_ts: str | None) -> None:
        for reply in replies:
            self.poster.post(channel, reply, thread_ts=thread_ts if reply.kind in THREADED else None)

    def _safely(self, channel: str, thread_ts: str | None, call: Callable[[], list[Reply]]) -> None:
        """Run an engine call and post its replies; its one-sentence error otherwise."""
        try:
            replies = call()
        except CoachError as exc:
            replies = [Reply(ReplyKind.ERROR, str(exc))]
        except Exception:
            # A bug must not leave the user waiting in silence; the details go to the log.
            log.exception("Engine call failed")
            replies = [Reply(ReplyKind.ERROR, SORRY)]
        self._post_all(channel, replies, thread_ts)

    # ------------------------------------------------------------------ answers

    def answer(self, user_id: str, channel: str, text: str, thread_ts: str | None) -> None:
        """Grade an answer: score first, the critique streamed into one message, then what comes next."""
        ref = user_ref(user_id)
        stream = self.poster.stream(channel, thread_ts)
        try:
            for reply in self.coach.answer(ref, text, on_token=stream.feed):
                if reply.kind is ReplyKind.CRITIQUE:
                    stream.finish(reply)
                else:
                    self.poster.post(channel, reply, thread_ts=thread_ts if reply.kind in THREADED else None)
        except CoachError as exc:
            self.poster.post(channel, Reply(ReplyKind.ERROR, str(exc)), thread_ts=thread_ts)
        except Exception:
            log.exception("Grading failed")
            self.poster.post(channel, Reply(ReplyKind.ERROR, SORRY), thread_ts=thread_ts)
        finally:
            stream.close()

    def on_message(self, event: dict[str, Any]) -> None:
        """A DM from a person is an answer (top level or in a question's thread)."""
        if event.get("bot_id") or event.get("subtype") not in ANSWER_SUBTYPES or event.get("channel_type") != "im" \
                or not event.get("user"):
            return  # the bot's own messages, other bots, edits and deletions are not answers
        user_id, channel, text = event["user"], event["channel"], event.get("text") or ""
        thread_ts = event.get("thread_ts") or event.get("ts")
        if self.coach.open_session(user_ref(user_id)) is None:
            self.poster.say(channel, NO_SESSION, thread_ts=thread_ts)
            return
        self.answer(user_id, channel, text, thread_ts)

    def open_answer_modal(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Answer button: ack and open the modal at once (the trigger_id expires after 3 seconds)."""
        ack()
        message = body.get("message") or {}
        action = body["actions"][0]
        question = (message.get("text") or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        metadata = {"channel": body["channel"]["id"], "thread_ts": message.get("thread_ts") or message.get("ts"),
                    "value": action.get("value", "")}
        try:
            client.views_open(trigger_id=body["trigger_id"], view=answer_modal(question, metadata))
        except SlackApiError as exc:
            # Already acknowledged: Slack shows no error, and a reply in the thread still counts as the answer.
            log.warning("views.open failed: %s", exc.response.get("error"))

    def on_answer_submitted(self, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The modal's answer: echoed in the question's thread, then graded there."""
        user_id = body["user"]["id"]
        meta = json.loads(view.get("private_metadata") or "{}")
        text = view["state"]["values"][ANSWER_BLOCK][ANSWER_INPUT].get("value") or ""
        channel = meta.get("channel") or self.poster.dm_channel(user_id)
        thread_ts = meta.get("thread_ts")
        if self._stale(user_id, meta.get("value", "")):
            self.poster.say(channel, STALE, thread_ts=thread_ts)
            return
        # A modal leaves no trace in the conversation: echo the answer above its score.
        self.poster.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text="Your answer",
                                            blocks=[section("*Your answer:*")] + text_sections(text, 10))
        self.answer(user_id, channel, text, thread_ts)

    def _stale(self, user_id: str, value: str) -> bool:
        """Whether a button's question is no longer the one the user's open session waits on."""
        session_id, _, question_id = value.partition(":")
        session = self.coach.open_session(user_ref(user_id))
        if session is None:
            return True
        return str(session.id) != session_id or bool(question_id and session.current_question_id != question_id)

    # ------------------------------------------------------------------ buttons

    def on_button(self, body: dict[str, Any]) -> None:
        """Hint, Skip, Reveal, Stop on a question; "New interview" on a report card or the Home tab."""
        user_id = body["user"]["id"]
        action = body["actions"][0]
        name = action["action_id"].removeprefix("coach_")
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or self.poster.dm_channel(user_id)
        thread_ts = message.get("thread_ts") or message.get("ts")
        ref = user_ref(user_id)
        if name == Action.START.value:
            self.start(user_id, "", None)
            return
        if self._stale(user_id, action.get("value", "")):
            self.poster.say(channel, STALE, thread_ts=thread_ts)
            return
        calls: dict[str, Callable[[], list[Reply]]] = {
            "hint": lambda: [self.coach.hint(ref)],
            "skip": lambda: self.coach.skip(ref),
            "reveal": lambda: self.coach.reveal(ref),
            "stop": lambda: [self.coach.stop(ref)],
        }
        self._safely(channel, thread_ts, calls[name])

    # ------------------------------------------------------------------ the slash command

    def on_command(self, command: dict[str, Any], respond: Callable[..., Any]) -> None:
        """`/interview start|stop|stats|daily|topics|help`."""
        user_id = command["user_id"]
        words = (command.get("text") or "").split()
        sub, args = (words[0].lower(), words[1:]) if words else ("help", [])
        if sub == "start":
            self.start(user_id, " ".join(args), respond, command.get("channel_id"))
        elif sub == "stop":
            self._in_dm(user_id, respond, command.get("channel_id"),
                        lambda: [self.coach.stop(user_ref(user_id))])
        elif sub == "stats":
            self._in_dm(user_id, respond, command.get("channel_id"),
                        lambda: [self.coach.stats(user_ref(user_id))])
        elif sub == "daily":
            respond(**_ephemeral(_or_sorry(lambda: self.daily(user_id, args))))
        elif sub == "topics":
            respond(**_ephemeral(_or_sorry(lambda: escape(self.coach.topics().text))))
        else:
            respond(**_ephemeral(HELP))

    def start(self, user_id: str, args: str, respond: Callable[..., Any] | None,
              channel_id: str | None = None) -> None:
        """Open a mock interview in the user's DM: `[topic] [count]` in any order."""
        words = args.split()
        counts = [int(w) for w in words if w.isdigit()]
        topic = " ".join(w for w in words if not w.isdigit()) or None
        ref = user_ref(user_id)
        self._in_dm(user_id, respond, channel_id,
                    lambda: self.coach.start(ref, topic=topic, count=counts[0] if counts else 5,
                                             channel=self.poster.dm_channel(user_id)))

    def _in_dm(self, user_id: str, respond: Callable[..., Any] | None, channel_id: str | None,
               call: Callable[[], list[Reply]]) -> None:
        """Run a call whose replies go to the user's DM; say so where the command was typed elsewhere."""
        channel = self.poster.dm_channel(user_id)
        self._safely(channel, None, call)
        if respond is not None and channel_id and channel_id != channel:
            respond(**_ephemeral("Sent to our direct messages (the *Messages* tab of Interview Coach)."))

    def daily(self, user_id: str, args: list[str]) -> str:
        """`daily on [HH:MM]` / `daily off`: the daily question in the user's Slack time zone; returns mrkdwn."""
        ref = user_ref(user_id)
        if not args or args[0].lower() not in ("on", "off"):
            return "Use `/interview daily on [HH:MM]` or `/interview daily off`."
        on = args[0].lower() == "on"
        when = args[1] if on and len(args) > 1 else None
        if when is not None and _TIME.match(when):
            when = when.zfill(5)  # "9:30" -> "09:30"
        reply = self.coach.set_daily(ref, on, time=when, tz=self.time_zone(user_id) if on else None)
        return escape(reply.text)

    def time_zone(self, user_id: str) -> str | None:
        """The user's IANA time zone from their Slack profile (users.info), None if Slack does not say."""
        try:
            return self.poster.client.users_info(user=user_id)["user"].get("tz") or None
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return None

    # ------------------------------------------------------------------ App Home

    def on_home_opened(self, event: dict[str, Any]) -> None:
        """Publish the Home tab when the user opens it (the Messages tab sends the same event)."""
        if event.get("tab", "home") == "home":
            self.publish_home(event["user"])

    def publish_home(self, user_id: str) -> None:
        """The user's progress as text, the next daily question, and buttons (views.publish)."""
        ref = user_ref(user_id)
        self._follow_time_zone(ref)
        stats = self.coach.stats(ref, chart=False)
        self.poster.client.views_publish(user_id=user_id, view=home_view(stats.text, *self._daily_line(ref)))

    def _follow_time_zone(self, ref: UserRef) -> None:
        """Keep a daily user's time zone in step with their Slack profile (they may have travelled)."""
        user = self.coach.store.get_user(ref)
        if user is None or not user.daily_on:
            return
        tz = self.time_zone(ref.user_id)
        if tz and tz != user.time_zone:
            self.coach.set_daily(ref, True, tz=tz)

    def _daily_line(self, ref: UserRef) -> tuple[str, bool]:
        """"Daily question: …" with the next send time, and whether it is on."""
        from bot.core.schedule import local_date
        from bot.core.store.records import utc_now
        from bot.slack_daily import next_daily

        user = self.coach.store.get_or_create_user(ref)
        if not user.daily_on:
            return "Daily question: off.", False
        now = utc_now()
        record = self.coach.store.daily_send(ref, local_date(user.zone, now))
        nxt = next_daily(user, now, sent_today=record is not None)
        return f"Daily question: on, at {user.daily_time} ({user.time_zone}); next {nxt:%a %d %b %H:%M}.", True

    def on_home_button(self, body: dict[str, Any]) -> None:
        """"Send my chart" DMs the PNG; the daily toggle turns daily questions on or off, then refreshes Home."""
        user_id = body["user"]["id"]
        action = body["actions"][0]
        if action["action_id"] == SEND_CHART:
            self._in_dm(user_id, None, None, lambda: [self.coach.stats(user_ref(user_id))])
            return
        on = action.get("value") == "on"
        self.coach.set_daily(user_ref(user_id), on, tz=self.time_zone(user_id) if on else None)
        self.publish_home(user_id)


def _or_sorry(make: Callable[[], str]) -> str:
    """The text an engine call makes; its one-sentence error, or an apology for a bug (logged)."""
    try:
        return make()
    except CoachError as exc:
        return escape(str(exc))
    except Exception:
        log.exception("Command failed")
        return SORRY


def _ephemeral(mrkdwn: str) -> dict[str, Any]:
    """respond() arguments: a message only the user sees."""
    return {"text": mrkdwn, "blocks": [section(mrkdwn)], "response_type": "ephemeral", "replace_original": False}


def _just_ack(ack: Ack) -> None:
    """Acknowledge at once; the work runs in the lazy listener."""
    ack()


def drop_retried_events(store: Any) -> Callable[..., BoltResponse | None]:
    """Global middleware: an Events API delivery whose event_id was already seen is acknowledged and dropped."""
    def middleware(body: dict[str, Any], next_: Callable[[], None], logger: logging.Logger) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not store.claim_event(event_id):
            logger.info("Dropped a retried delivery of %s", event_id)
            return BoltResponse(status=200, body="")
        next_()
        return None
    return middleware


def web_client(token: str, base_url: str | None = None) -> WebClient:
    """The Web API client: honours COACH_SLACK_API_URL and retries 429s after Retry-After."""
    handlers = [ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=5)]
    return WebClient(token=token, base_url=base_url.rstrip("/") + "/" if base_url else WebClient.BASE_URL,
                     retry_handlers=handlers)


def build_app(coach: Coach, client: WebClient, *, signing_secret: str | None = None,
              stream_interval: float = 1.0, workers: int = 32) -> tuple[App, SlackCoach]:
    """The Bolt app with every listener; `signing_secret` None means Socket Mode (no request signatures)."""
    app = App(client=client, signing_secret=signing_secret or "", request_verification_enabled=bool(signing_secret),
              process_before_response=True, listener_executor=ThreadPoolExecutor(workers, "slack-listener"))
    handlers = SlackCoach(coach, SlackPoster(client, stream_interval=stream_interval))
    app.middleware(drop_retried_events(coach.store))
    app.command(COMMAND)(ack=_just_ack, lazy=[handlers.on_command])
    app.event("message")(ack=_just_ack, lazy=[handlers.on_message])
    app.event("app_home_opened")(ack=_just_ack, lazy=[handlers.on_home_opened])
    app.action(ACTION_ID.format(Action.ANSWER.value))(handlers.open_answer_modal)
    app.action(BUTTONS)(ack=_just_ack, lazy=[handlers.on_button])
    app.action(re.compile(f"^({DAILY_TOGGLE}|{SEND_CHART})$"))(ack=_just_ack, lazy=[handlers.on_home_button])
    app.view(ANSWER_MODAL)(ack=_just_ack, lazy=[handlers.on_answer_submitted])
    return app, handlers


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """The standard-library WSGI server, one thread per request, so a slow client never holds up another."""

    daemon_threads = True
    # The default backlog of 5 drops connections in a burst, and a dropped SYN costs the client a 1 s retransmit.
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    """Request lines go to the debug log rather than to standard error."""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


def http_server(app: App, port: int, host: str = "0.0.0.0") -> WSGIServer:
    """A threaded HTTP server for the Events API at /slack/events (call serve_forever on it)."""
    return make_server(host, port, SlackRequestHandler(app, path=EVENTS_PATH),
                       server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None and value.get_secret_value() else None


def check_tokens(settings: Settings, http: bool) -> tuple[str, str]:
    """The bot token and (app token or signing secret); ConfigError names the missing one."""
    bot = _secret(settings.slack_bot_token)
    if not bot:
        raise ConfigError("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) of your Slack app "
                          "into .env (see docs/slack.md).")
    if http:
        other = _secret(settings.slack_signing_secret)
        if not other:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode needs the app's signing secret "
                              "(Basic Information › App Credentials).")
    else:
        other = _secret(settings.slack_app_token)
        if not other:
            raise ConfigError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…) with "
                              "connections:write, or run with --http.")
    return bot, other


def _warm_up(runtime: Any) -> None:
    """Load the heavy parts now rather than on the first answer; a failure here is only logged."""
    try:
        runtime.warm_up()
    except Exception:  # the coach still works (rubric only, or loading on first use)
        log.exception("Warm-up failed")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bot.slack_app", description="Run Interview Coach on Slack.")
    parser.add_argument("--http", action="store_true",
                        help="serve the Events API on COACH_SLACK_PORT at /slack/events instead of Socket Mode")
    return parser.parse_args(argv)


def run(settings: Settings, http: bool) -> None:
    """Build the engine and the app, start the daily sender, and serve until interrupted."""
    from bot.core.runtime import Runtime
    from bot.slack_daily import DailySender, Ticker

    bot_token, secret = check_tokens(settings, http)
    client = web_client(bot_token, settings.slack_api_url)
    try:
        client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')}).") from None
    except OSError as exc:
        raise CoachError(f"Cannot reach the Slack Web API at {client.base_url} ({exc}).") from None
    runtime = Runtime(settings)
    coach = runtime.coach
    # The embedder, the index and the model load in the background: the app answers Slack at once.
    threading.Thread(target=_warm_up, args=(runtime,), name="warm-up", daemon=True).start()
    app, handlers = build_app(coach, client, signing_secret=secret if http else None)
    sender = DailySender(coach, handlers.poster)
    ticker = Ticker([sender.tick, lambda now: coach.store.prune_events(now - timedelta(hours=1))])
    ticker.start()
    try:
        if http:
            log.info("Serving Slack events on port %s at %s", settings.slack_port, EVENTS_PATH)
            http_server(app, settings.slack_port).serve_forever()
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            SocketModeHandler(app, secret, web_client=client).start()
    finally:
        ticker.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point: one clear sentence on standard error and a non-zero status on a setup error."""
    from bot.config import get_settings
    from bot.logs import setup_logging

    args = parse_args(argv)
    settings = get_settings()
    setup_logging(settings.secrets())  # every record scrubbed of the tokens
    try:
        run(settings, args.http)
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except CoachError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
