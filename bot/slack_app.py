"""Slack adapter: `python -m bot.slack_app` (Socket Mode) or `python -m bot.slack_app --http` (Events API).

It only turns Slack events into Coach calls and Coach replies into Slack messages. Every request is acknowledged
first, in the request thread (Bolt ack functions with `process_before_response=True`); the engine work runs in
Bolt lazy listeners on the listener pool, so a slow model or a full pool never delays an ack.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import Ack, App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.core.replies import Action
from bot.errors import CoachError, ConfigError
from bot.slack_blocks import ACTION_ID, ANSWER_MODAL, DAILY_TOGGLE, SEND_CHART
from bot.slack_handlers import SlackCoach
from bot.slack_messages import SlackPoster
from bot.slack_practice import (
    FLAG_MODAL,
    FORGET_CONFIRM,
    REVIEW_DISMISS,
    REVIEW_FIX,
    REVIEW_MODAL,
    SHARE,
    TEAM_ANSWER,
    TEAM_DM,
)

# The rest of the engine (store, schedule, runtime) is imported where it is used, so that a missing token is
# reported before anything heavy loads.
if TYPE_CHECKING:
    from bot.config import Settings
    from bot.core.coach import Coach
    from bot.core.runtime import Runtime

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
COMMAND = "/interview"
BUTTONS = re.compile(r"^coach_(hint|skip|reveal|stop|start)$")
FLAG_BUTTON = ACTION_ID.format(Action.FLAG.value)


def _just_ack(ack: Ack) -> None:
    """Acknowledge at once; the work runs in the lazy listener."""
    ack()


def drop_retried_events(coach: Coach) -> Callable[..., BoltResponse | None]:
    """Global middleware: an Events API delivery whose event_id was already seen is acknowledged and dropped."""
    def middleware(body: dict[str, Any], next_: Callable[[], None], logger: logging.Logger) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not coach.first_delivery(event_id):
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
    app.middleware(drop_retried_events(coach))
    app.command(COMMAND)(ack=_just_ack, lazy=[handlers.on_command])
    app.event("message")(ack=_just_ack, lazy=[handlers.on_message])
    app.event("app_home_opened")(ack=_just_ack, lazy=[handlers.on_home_opened])
    app.action(ACTION_ID.format(Action.ANSWER.value))(handlers.open_answer_modal)
    app.action(BUTTONS)(ack=_just_ack, lazy=[handlers.on_button])
    app.action(re.compile(f"^({DAILY_TOGGLE}|{SEND_CHART})$"))(ack=_just_ack, lazy=[handlers.on_home_button])
    app.view(ANSWER_MODAL)(ack=_just_ack, lazy=[handlers.on_answer_submitted])
    practice = handlers.practice
    app.action(FLAG_BUTTON)(practice.open_flag_modal)
    app.action(TEAM_ANSWER)(practice.open_team_answer)
    app.action(REVIEW_FIX)(practice.open_fix_modal)
    app.action(TEAM_DM)(ack=_just_ack, lazy=[practice.on_team_dm])
    app.action(SHARE)(ack=_just_ack, lazy=[practice.on_share])
    app.action(REVIEW_DISMISS)(ack=_just_ack, lazy=[practice.on_dismiss])
    app.action(FORGET_CONFIRM)(ack=_just_ack, lazy=[practice.on_forget])
    app.view(FLAG_MODAL)(ack=_just_ack, lazy=[practice.on_flag_submitted])
    app.view(REVIEW_MODAL)(ack=_just_ack, lazy=[practice.on_fix_submitted])
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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bot.slack_app", description="Run Interview Coach on Slack.")
    parser.add_argument("--http", action="store_true",
                        help="serve the Events API on COACH_SLACK_PORT at /slack/events instead of Socket Mode")
    return parser.parse_args(argv)


def connect(settings: Settings, http: bool) -> tuple[WebClient, str]:
    """The Web API client and the app token or signing secret, checked with Slack before anything heavy loads."""
    bot_token, secret = check_tokens(settings, http)
    client = web_client(bot_token, settings.slack_api_url)
    try:
        client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')}).") from None
    except OSError as exc:
        raise CoachError(f"Cannot reach the Slack Web API at {client.base_url} ({exc}).") from None
    return client, secret


def serve(runtime: Runtime, settings: Settings, client: WebClient, secret: str, http: bool, *,
          stop: threading.Event | None = None) -> None:
    """Serve Slack on the process's engine until stopped: the app, the daily sender and the upkeep.

    Alone (`stop` None) the app serves on this thread; beside Discord it serves on threads of its own until `stop`.
    """
    from bot.core.daily import Ticker
    from bot.slack_daily import daily_sender
    from bot.slack_team import team_sender

    coach = runtime.coach
    app, handlers = build_app(coach, client, signing_secret=secret if http else None)
    ticker = Ticker([daily_sender(coach, handlers.poster).tick, team_sender(coach, handlers.poster).tick,
                     coach.upkeep], name="slack-daily")
    ticker.start()
    try:
        if http:
            log.info("Serving Slack events on port %s at %s", settings.slack_port, EVENTS_PATH)
            server = http_server(app, settings.slack_port)
            if stop is None:
                server.serve_forever()
                return
            threading.Thread(target=server.serve_forever, name="slack-http", daemon=True).start()
            stop.wait()
            server.shutdown()
            return
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(app, secret, web_client=client)
        if stop is None:
            handler.start()
            return
        handler.connect()
        stop.wait()
        handler.close()
    finally:
        ticker.stop()


def run(settings: Settings, http: bool) -> None:
    """Build the engine and the app, start the daily sender, and serve until interrupted."""
    from bot.core.runtime import Runtime

    client, secret = connect(settings, http)
    runtime = Runtime(settings)
    # The embedder, the index and the model load in the background: the app answers Slack at once.
    runtime.warm_up_in_background()
    try:
        serve(runtime, settings, client, secret, http)
    finally:
        runtime.close()


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
