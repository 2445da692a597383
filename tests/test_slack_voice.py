"""Spoken answers on Slack: an audio clip or an audio file in the DM or the question's thread is an answer.

Signed requests into the real Bolt app served over HTTP on loopback, the fake Web API serving the shared files to the
bot token only (as Slack does), the real Coach on the mini deck, real WebM and M4A audio spoken by espeak-ng; a
scripted transcriber for the flows, and one test with the packaged Whisper base.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.replies import UserRef
from bot.core.testing import FakeTranscriber
from bot.core.voice import NOT_AUDIO
from bot.slack_blocks import VOICE_HINT
from tests import speech_audio as sa
from tests.fake_slack_api import Slack, dm_event, running

SPOKEN = ("Dropout randomly turns off a fraction of the neurons during each training step, so the network cannot "
          "rely on any one neuron, and it is only used during training.")
GOOD_ANSWER = ("Dropout randomly turns off a fraction of neurons during each training step, so neurons cannot rely "
               "on specific other neurons and features become robust. It is only applied during training.")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
U1 = UserRef("slack", "U1")


def _text(message: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b.get("type") == "section")


def _start(slack: Slack, args: str = "regularization 1") -> dict[str, Any]:
    assert slack.command("U1", f"start {args}").status == 200
    return slack.question("U1")


def _share(slack: Slack, file: dict[str, Any], ts: str, thread_ts: str | None = None, text: str = "") -> None:
    event = dm_event("U1", text, ts=ts, thread_ts=thread_ts, subtype="file_share", files=[file])
    assert slack.event(event, f"Ev{ts}").status == 200


def _thread(slack: Slack, thread_ts: str) -> list[dict[str, Any]]:
    return [m for m in slack.dm("U1") if m.get("thread_ts") == thread_ts]


@pytest.fixture()
def voiced(tmp_path: Path):
    speech = FakeTranscriber()
    with running(tmp_path, speech=speech, max_audio_bytes=5_000_000) as served:
        yield served, speech


def test_an_audio_clip_in_the_question_thread_shows_the_transcript_then_the_grade(voiced, espeak: str) -> None:
    slack, speech = voiced
    question = _start(slack)
    webm = sa.spoken(SPOKEN, "webm")
    speech.results.append(GOOD_ANSWER)
    clip = slack.api.add_file(webm, "audio_message.webm", "audio/webm", duration_ms=6500, subtype="slack_audio")
    _share(slack, clip, ts="1000.000100", thread_ts=question["ts"])
    slack.wait_dm("U1", lambda m: _text(m).startswith("*Follow-up"))
    thread = _thread(slack, question["ts"])
    texts = [_text(m) for m in thread]
    assert texts[0].startswith("I heard (") and GOOD_ANSWER[:50] in texts[0]   # what was heard, first
    assert texts[1].startswith("*Score:") and "Delivery" in texts[1]          # then the usual grade
    [download] = slack.api.downloads()
    assert download.args["authorized"] is True                                 # fetched with the bot token
    assert speech.calls[0][0].data == webm and speech.calls[0][0].codec == "opus"
    [attempt] = slack.coach.store.attempts(U1)
    assert attempt.answer == GOOD_ANSWER and attempt.delivery is not None


def test_an_audio_file_at_the_top_of_the_dm_answers_the_open_question(voiced, espeak: str) -> None:
    slack, speech = voiced
    _start(slack)
    m4a = sa.spoken(SPOKEN, "m4a")
    speech.results.append(GOOD_ANSWER)
    # Some events carry only the file's id: the adapter asks files.info for the rest.
    hidden = slack.api.add_file(m4a, "answer.m4a", "audio/mp4", hidden=True)
    _share(slack, hidden, ts="1000.000200")
    transcript = slack.wait_dm("U1", lambda m: _text(m).startswith("I heard"))
    assert transcript["thread_ts"] == "1000.000200"
    slack.wait_dm("U1", lambda m: _text(m).startswith("*Score:"))
    assert slack.api.calls("files.info") and speech.calls[0][0].data == m4a
    assert len(slack.coach.store.attempts(U1)) == 1


def test_a_screenshot_gets_one_sentence_and_leaves_the_question_open(voiced) -> None:
    slack, speech = voiced
    question = _start(slack)
    before = slack.coach.open_session(U1)
    shot = slack.api.add_file(PNG, "screenshot.png", "image/png")
    _share(slack, shot, ts="1000.000300", thread_ts=question["ts"])
    refusal = slack.wait_dm("U1", lambda m: _text(m) == NOT_AUDIO.replace("'", "’") or _text(m) == NOT_AUDIO)
    assert refusal["thread_ts"] == question["ts"]
    time.sleep(0.3)
    assert slack.api.downloads() == [] and speech.calls == [] and slack.coach.store.attempts(U1) == []
    after = slack.coach.open_session(U1)
    assert (after.position, after.phase) == (before.position, before.phase)
    assert not any(_text(m).startswith("*Score:") for m in slack.dm("U1"))


def test_a_file_over_the_limit_is_refused_before_it_is_downloaded(voiced) -> None:
    slack, speech = voiced
    question = _start(slack)
    big = slack.api.add_file(b"\x00" * 16, "lecture.mp3", "audio/mpeg", size=40_000_000)
    _share(slack, big, ts="1000.000400", thread_ts=question["ts"])
    refusal = slack.wait_dm("U1", lambda m: "MB" in _text(m))
    assert "40 MB" in _text(refusal) and "at most 5 MB" in _text(refusal)
    long = slack.api.add_file(b"\x00" * 16, "audio_message.webm", "audio/webm", duration_ms=1_200_000)
    _share(slack, long, ts="1000.000500", thread_ts=question["ts"])
    slack.wait_dm("U1", lambda m: "20 minutes long" in _text(m))
    assert slack.api.downloads() == [] and speech.calls == [] and slack.coach.store.attempts(U1) == []


def test_a_damaged_recording_is_one_sentence_and_the_question_stays_open(voiced) -> None:
    slack, speech = voiced
    question = _start(slack)
    damaged = slack.api.add_file(b"OggS" + bytes(range(256)) * 8, "audio_message.ogg", "audio/ogg")
    _share(slack, damaged, ts="1000.000550", thread_ts=question["ts"])
    refusal = slack.wait_dm("U1", lambda m: "could not be read as audio" in _text(m))
    assert refusal["thread_ts"] == question["ts"] and len(slack.api.downloads()) == 1
    assert speech.calls == [] and slack.coach.store.attempts(U1) == []
    assert slack.coach.open_session(U1).position == 0


def test_a_clip_in_an_old_question_thread_is_refused_and_not_downloaded(voiced, espeak: str) -> None:
    slack, speech = voiced
    first = _start(slack, "2")
    assert slack.event(dm_event("U1", GOOD_ANSWER, ts="1000.000600", thread_ts=first["ts"]), "EvT").status == 200
    slack.wait_dm("U1", lambda m: _text(m).startswith("*Follow-up"))
    slack.event(dm_event("U1", "At inference all neurons are used.", ts="1000.000700", thread_ts=first["ts"]), "EvF")
    slack.api.wait_for(lambda: sum("coach_answer" in json.dumps(m["blocks"]) for m in slack.dm("U1")) >= 3)
    clip = slack.api.add_file(sa.spoken(SPOKEN, "webm"), "audio_message.webm", "audio/webm", duration_ms=6500)
    _share(slack, clip, ts="1000.000800", thread_ts=first["ts"])
    refusal = slack.wait_dm("U1", lambda m: "no longer open" in _text(m))
    assert refusal["thread_ts"] == first["ts"]
    assert slack.api.downloads() == [] and speech.calls == [] and len(slack.coach.store.attempts(U1)) == 2


def test_the_token_never_leaves_for_a_host_that_is_not_slack(voiced) -> None:
    slack, speech = voiced
    _start(slack)
    stray = slack.api.add_file(b"RIFF" + b"\x00" * 40, "answer.wav", "audio/wav")
    stray["url_private_download"] = "https://evil.example.net/answer.wav"
    _share(slack, stray, ts="1000.000900")
    refusal = slack.wait_dm("U1", lambda m: "couldn't fetch" in _text(m).replace("’", "'"))
    assert refusal["thread_ts"] == "1000.000900" and speech.calls == [] and slack.coach.store.attempts(U1) == []


def test_the_answer_modal_says_voice_works(voiced) -> None:
    slack, _ = voiced
    question = _start(slack)
    assert slack.click("U1", "coach_answer", question).status == 200
    view = slack.api.wait_for(lambda: slack.api.calls("views.open"))[0].args["view"]
    hints = [e["text"] for b in view["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert hints == [VOICE_HINT] and "audio clip" in VOICE_HINT


def test_the_manifest_asks_to_read_files() -> None:
    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / "slack" / "manifest.yaml").read_text())
    assert "files:read" in manifest["oauth_config"]["scopes"]["bot"]


# ---- the packaged Whisper base, for real ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_real_audio_clip_is_transcribed_by_whisper_and_graded(tmp_path: Path, whisper: Any, espeak: str) -> None:
    from bot.core.speech.worker import SpeechWorker

    worker = SpeechWorker(lambda: whisper)
    with running(tmp_path, speech=worker) as slack:
        question = _start(slack)
        clip = slack.api.add_file(sa.spoken(SPOKEN, "webm"), "audio_message.webm", "audio/webm",
                                  duration_ms=9000, subtype="slack_audio")
        began = time.monotonic()
        _share(slack, clip, ts="1000.001000", thread_ts=question["ts"])
        transcript = slack.wait_dm("U1", lambda m: _text(m).startswith("I heard"), timeout=120)
        score = slack.wait_dm("U1", lambda m: _text(m).startswith("*Score:"), timeout=60)
        slack.wait_dm("U1", lambda m: _text(m).startswith("*Follow-up"), timeout=60)   # the flow ran to its end
        posts = [c for c in slack.api.calls("chat.postMessage") if c.at > began]
        posted = [next(c.at - began for c in posts if str(c.args.get("text", "")).startswith(start))
                  for start in ("I heard", "Score:")]
        heard = _text(transcript).lower()
        assert all(w in heard for w in ("dropout", "neurons", "fraction"))
        assert float(transcript["ts"]) < float(score["ts"]) and score["thread_ts"] == question["ts"]
        [attempt] = slack.coach.store.attempts(U1)
        assert "dropout" in attempt.answer.lower() and attempt.delivery["words"] >= 20
        print(f"slack audio clip (webm/opus) -> transcript shown {posted[0]:.1f} s, score shown {posted[1]:.1f} s; "
              f"load average {os.getloadavg()[0]:.1f}")
    worker.close()
