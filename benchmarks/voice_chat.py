"""`python -m benchmarks.voice_chat`: a 30-second voice message through the real Discord and Slack adapters.

The coach is the product's (Runtime: the packaged Whisper base on its worker, the real embedder, rubric only); the
platforms are the test doubles: Discord's HTTP API and CDN recorded (tests/fake_discord.py), Slack's Web API on
loopback serving the shared file to the bot token, the real Bolt app on signed HTTP (tests/fake_slack_api.py).
Measured from the moment the platform hands over the message to the moment the transcript, then the score, reach
the platform's API. Each figure carries the load average at its start and end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, machine, summary
from benchmarks.voice import RESULTS, load, log, thirty_second_clips

PLATFORMS = ("core", "discord", "slack")   # "core": Coach.act with the bytes, no platform in between


def _reader(data: bytes) -> Callable[[int], bytes]:
    """A download that returns the clip's bytes whatever the limit (the clips are far under it)."""
    return lambda limit: data


def _first_at(calls: Callable[[], list[Any]], prefix: str, text: Any, after: float, timeout: float = 180) -> float:
    """Seconds from `after` to the first recorded call whose text starts with prefix (waiting for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c.at for c in list(calls()) if c.at >= after and text(c).startswith(prefix)]
        if found:
            return min(found) - after
        time.sleep(0.01)
    raise TimeoutError(f"no {prefix!r} within {timeout} s")


async def discord_run(coach: Any, audio: list[bytes]) -> dict[str, Any]:
    """Voice messages in the DM of the Discord adapter: → transcript, → score (the first one warms up)."""
    from bot.core.replies import Action, Request
    from tests.discord_harness import Harness, alice, new_bot, user_message
    from tests.fake_discord import ALICE, FakeDiscord, dm_channel

    fake = FakeDiscord()
    bot = new_bot(coach, fake)
    await bot.client._async_setup_hook()   # what login does: the loop attached to the client
    h = Harness(bot, fake)
    place = dm_channel(ALICE)
    list(coach.act(Request(alice(), Action.START, count=2 * len(audio) + 2, place=place["id"])))
    transcript, score = [], []
    start_load = load()
    try:
        for i, data in enumerate([audio[0], *audio]):
            attachment = fake.attachment(data, "voice-message.ogg", "audio/ogg", voice_seconds=30.0)
            began = time.monotonic()
            bot.client.dispatch("message", user_message(h, place, "", attachments=[attachment]))
            sends = lambda: fake.sends()  # noqa: E731
            shown = await asyncio.to_thread(_first_at, sends, "I heard", lambda c: c.text(), began)
            graded = await asyncio.to_thread(_first_at, sends, "Score:", lambda c: c.text(), began)
            await h.settle(ALICE, timeout=120)
            if i:   # the first clip loads the speech model and the grader
                transcript.append(shown)
                score.append(graded)
    finally:
        bot.shutdown()
        await bot.client.close()
    return {"to_transcript_s": summary(transcript, 3), "to_score_s": summary(score, 3),
            "load_average_start": start_load, "load_average_end": load()}


def slack_run(coach: Any, audio: list[bytes]) -> dict[str, Any]:
    """Audio clips sent in the DM (each answers the open question), through the Bolt app on signed HTTP."""
    from bot.slack_app import build_app, http_server, web_client
    from tests.fake_slack_api import SIGNING_SECRET, FakeSlackApi, Slack, dm_event

    with FakeSlackApi() as api:
        app, _ = build_app(coach, web_client("xoxb-test", api.url), signing_secret=SIGNING_SECRET,
                           stream_interval=0.2)
        server = http_server(app, 0, host="127.0.0.1")
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        slack = Slack(api, coach, f"http://127.0.0.1:{server.server_port}/slack/events")
        slack.command("U1", f"start {2 * len(audio) + 2}")
        slack.question("U1")
        transcript, score = [], []
        start_load = load()
        def posts() -> list[Any]:
            return list(api.calls("chat.postMessage"))

        for i, data in enumerate([audio[0], *audio]):
            file = api.add_file(data, "answer.ogg", "audio/ogg", duration_ms=30_000)
            ts = f"2000.{i:06d}"
            began = time.monotonic()
            slack.event(dm_event("U1", "", ts=ts, subtype="file_share", files=[file]), f"EvB{i}")
            shown = _first_at(posts, "I heard", lambda c: str(c.args.get("text", "")), began)
            graded = _first_at(posts, "Score:", lambda c: str(c.args.get("text", "")), began)
            time.sleep(0.5)   # the follow-up or next question is posted before the next clip
            if i:
                transcript.append(shown)
                score.append(graded)
        server.shutdown()
        server.server_close()
    return {"to_transcript_s": summary(transcript, 3), "to_score_s": summary(score, 3),
            "load_average_start": start_load, "load_average_end": load()}


def core_run(coach: Any, audio: list[bytes]) -> dict[str, Any]:
    """The same clips handed to the coach directly (no platform): the adapters' share is the difference."""
    from bot.core.replies import Action, ReplyKind, Request, Upload, UserRef

    user = UserRef("bench", "core")
    list(coach.act(Request(user, Action.START, count=2 * len(audio) + 2)))
    transcript, score = [], []
    start_load = load()
    for i, data in enumerate([audio[0], *audio]):
        upload = Upload(read=_reader(data), filename="answer.ogg", mime="audio/ogg", size=len(data))
        began, shown, graded = time.monotonic(), 0.0, 0.0
        for reply in coach.act(Request(user, Action.ANSWER, uploads=(upload,))):
            if reply.kind is ReplyKind.TRANSCRIPT:
                shown = time.monotonic() - began
            elif reply.kind is ReplyKind.SCORE:
                graded = time.monotonic() - began
        if i:
            transcript.append(shown)
            score.append(graded)
    return {"to_transcript_s": summary(transcript, 3), "to_score_s": summary(score, 3),
            "load_average_start": start_load, "load_average_end": load()}


def main(argv: list[str] | None = None) -> int:
    """Both platforms, the figures printed and written to benchmarks/results/voice_chat.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.voice_chat", description=__doc__)
    parser.add_argument("--out", type=Path, default=RESULTS / "voice_chat.json")
    parser.add_argument("--clips", type=int, default=8, help="30-second clips per platform (after one warm-up)")
    args = parser.parse_args(argv)

    import tempfile

    from bot.config import Settings
    from bot.core.runtime import Runtime
    from tests import speech_audio as sa

    if sa.espeak_path() is None:
        print("espeak-ng is needed (apt-get install espeak-ng).", file=sys.stderr)
        return 2
    log("speaking the clips (espeak-ng) and building 30-second answers")
    audio = thirty_second_clips(sa.clips("dev"))[: args.clips]
    result: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                              "clip_seconds": 30, "clips": len(audio)}
    # One process-wide engine for the three, as `python -m bot.serve` runs both platforms on one model and store.
    runtime = Runtime(Settings(COACH_DATA_DIR=tempfile.mkdtemp(prefix="coach-voice-chat-")), use_llm=False)
    runtime.index()
    try:
        for platform in PLATFORMS:
            log(f"{platform}: {len(audio)} voice messages of 30 s")
            result[platform] = (asyncio.run(discord_run(runtime.coach, audio)) if platform == "discord"
                                else slack_run(runtime.coach, audio) if platform == "slack"
                                else core_run(runtime.coach, audio))
    finally:
        runtime.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("| platform | voice message → transcript shown, p50 (p95) | → score shown, p50 | target | load average |")
    print("|---|---|---|---|---|")
    for platform in PLATFORMS:
        r = result[platform]
        print(f"| {platform} | {r['to_transcript_s']['p50']:.2f} s ({r['to_transcript_s']['p95']:.2f} s) | "
              f"{r['to_score_s']['p50']:.2f} s | ≤ 5 s | {r['load_average_start'][0]} → {r['load_average_end'][0]} |")
    print(f"\nWritten to {args.out}.")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
