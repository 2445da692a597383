"""Spoken answers on Discord: a voice message or an audio file in the interview's thread or DM is an answer.

The real adapter on a real discord.Client (the recorder in place of Discord's HTTP API and CDN), the real Coach on
the mini deck, real Ogg/Opus and WebM audio spoken by espeak-ng; a scripted transcriber for the flows, and one test
with the packaged Whisper base.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.core.bank import load_bank
from bot.core.testing import FakeLLM, FakeTranscriber, fake_coach
from bot.core.voice import NOT_AUDIO
from bot.discord_coach import DiscordCoach
from bot.discord_voice import VOICE_HINT
from tests import speech_audio as sa
from tests.discord_harness import GOOD_ANSWER, NOW, TEST_DECKS, Harness, alice, new_bot, say, session_of, started
from tests.fake_discord import ALICE, Call, FakeDiscord, dm_channel
from tests.narrow import must

SPOKEN = ("Dropout randomly turns off a fraction of the neurons during each training step, so the network cannot "
          "rely on any one neuron, and it is only used during training.")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def texts(calls: list[Call], h: Harness) -> list[str]:
    """What the user reads, message by message, in the order the bot sent it."""
    return [c.text() for c in h.fake.sends(calls)]


async def build(fake: FakeDiscord, store: Any, llm: FakeLLM, speech: Any, *, max_audio_mb: float = 25.0
                ) -> DiscordCoach:
    coach = fake_coach(load_bank(TEST_DECKS), store, llm=llm, clock=lambda: NOW, speech=speech,
                       max_audio_bytes=int(max_audio_mb * 1_000_000))
    bot = new_bot(coach, fake, message_content=True)
    await bot.client._async_setup_hook()
    return bot


@pytest_asyncio.fixture()
async def hv(fake: FakeDiscord, store: Any, llm: FakeLLM) -> AsyncIterator[tuple[Harness, FakeTranscriber]]:
    """The bot with the message-content intent and a scripted transcriber."""
    speech = FakeTranscriber()
    bot = await build(fake, store, llm, speech)
    yield Harness(bot, fake), speech
    await bot.client.close()
    bot.shutdown()


@pytest.mark.asyncio
async def test_a_voice_message_in_the_thread_shows_the_transcript_then_the_grade(hv, espeak: str) -> None:
    h, speech = hv
    _, _, thread = await started(h, topic="regularization", count=1)
    ogg = sa.spoken(SPOKEN, "ogg")
    speech.results.append(GOOD_ANSWER)
    voice = h.fake.attachment(ogg, "voice-message.ogg", "audio/ogg", voice_seconds=6.5)
    calls = await say(h, thread, "", attachments=[voice])
    shown = texts(calls, h)
    assert shown[0].startswith("I heard (") and GOOD_ANSWER[:60] in shown[0]    # what was heard comes first
    assert shown[1].startswith("Score: ") and "Delivery" in shown[1]            # then the usual grade
    assert any("You named the mechanism" in c.text() for c in calls)            # and the critique
    assert {c.path for c in h.fake.sends(calls)} == {f"/channels/{thread['id']}/messages"}
    clip, user_key = speech.calls[0]
    assert clip.codec == "opus" and clip.data == ogg and user_key == alice().key   # the real file, downloaded
    [attempt] = h.coach.store.attempts(alice())
    assert attempt.answer == GOOD_ANSWER and attempt.delivery is not None


@pytest.mark.asyncio
async def test_an_audio_file_in_the_dm_is_an_answer(fake: FakeDiscord, store: Any, llm: FakeLLM,
                                                    espeak: str) -> None:
    speech = FakeTranscriber([GOOD_ANSWER])
    bot = await build(fake, store, llm, speech)
    h = Harness(bot, fake)
    bot.client.intents.message_content = False    # DMs carry attachments without the privileged intent
    await h.command("start", channel=dm_channel(ALICE), topic="regularization", count=1)
    webm = sa.spoken(SPOKEN, "webm")
    calls = await say(h, dm_channel(ALICE), "", attachments=[h.fake.attachment(webm, "answer.webm", "video/webm")])
    shown = texts(calls, h)
    assert shown[0].startswith("I heard") and shown[1].startswith("Score: ")
    assert speech.calls[0][0].data == webm and len(h.coach.store.attempts(alice())) == 1
    await bot.client.close()
    bot.shutdown()


@pytest.mark.asyncio
async def test_a_screenshot_gets_one_sentence_and_the_question_stays_open(hv) -> None:
    h, speech = hv
    _, question, thread = await started(h, topic="regularization", count=1)
    before = session_of(h)
    calls = await say(h, thread, "", attachments=[h.fake.attachment(PNG, "screenshot.png", "image/png")])
    assert texts(calls, h) == [NOT_AUDIO]
    assert h.fake.downloads == [] and speech.calls == []                 # nothing fetched, nothing transcribed
    assert h.coach.store.attempts(alice()) == []                          # nothing graded
    after = session_of(h)
    assert (after.position, after.phase) == (before.position, before.phase)
    # Words typed with the screenshot are an answer like any other.
    calls = await say(h, thread, GOOD_ANSWER, attachments=[h.fake.attachment(PNG, "diagram.png", "image/png")])
    assert texts(calls, h)[0].startswith("Score: ") and len(h.coach.store.attempts(alice())) == 1


@pytest.mark.asyncio
async def test_a_file_over_the_limit_is_refused_before_it_is_downloaded(fake: FakeDiscord, store: Any,
                                                                       llm: FakeLLM) -> None:
    speech = FakeTranscriber()
    bot = await build(fake, store, llm, speech, max_audio_mb=1)
    h = Harness(bot, fake)
    _, _, thread = await started(h, topic="regularization", count=1)
    big = h.fake.attachment(b"\x00" * 16, "lecture.mp3", "audio/mpeg", size=30_000_000)
    calls = await say(h, thread, "", attachments=[big])
    [sentence] = texts(calls, h)
    assert "30 MB" in sentence and "at most 1 MB" in sentence
    long = h.fake.attachment(b"\x00" * 16, "voice-message.ogg", "audio/ogg", voice_seconds=1200)
    [sentence] = texts(await say(h, thread, "", attachments=[long]), h)
    assert "20 minutes long" in sentence
    assert h.fake.downloads == [] and speech.calls == [] and h.coach.store.attempts(alice()) == []
    await bot.client.close()
    bot.shutdown()


@pytest.mark.asyncio
async def test_a_damaged_recording_is_one_sentence_and_the_question_stays_open(hv) -> None:
    h, speech = hv
    _, _, thread = await started(h, topic="regularization", count=1)
    damaged = h.fake.attachment(b"OggS" + bytes(range(256)) * 8, "voice-message.ogg", "audio/ogg", voice_seconds=3)
    [sentence] = texts(await say(h, thread, "", attachments=[damaged]), h)
    assert "could not be read as audio" in sentence and len(h.fake.downloads) == 1
    assert speech.calls == [] and h.coach.store.attempts(alice()) == [] and session_of(h).position == 0


@pytest.mark.asyncio
async def test_a_recording_in_an_old_thread_is_not_graded_nor_downloaded(hv, espeak: str) -> None:
    h, speech = hv
    _, question, old_thread = await started(h, topic="regularization", count=1)
    await h.press(question, "stop", channel=old_thread)
    await started(h, topic="regularization", count=1)                      # a new interview in a new thread
    ogg = sa.spoken(SPOKEN, "ogg")
    calls = await say(h, old_thread, "", attachments=[h.fake.attachment(ogg, "voice-message.ogg", "audio/ogg",
                                                                         voice_seconds=6.5)])
    [sentence] = texts(calls, h)
    assert "no longer open" in sentence
    assert h.fake.downloads == [] and speech.calls == [] and h.coach.store.attempts(alice()) == []


@pytest.mark.asyncio
async def test_a_second_message_while_transcribing_is_refused_as_busy(hv, espeak: str) -> None:
    h, speech = hv
    _, _, thread = await started(h, topic="regularization", count=1)
    release = asyncio.Event()
    loop = asyncio.get_running_loop()

    class Slow(FakeTranscriber):
        def transcribe(self, clip: Any, **kwargs: Any) -> Any:
            asyncio.run_coroutine_threadsafe(release.wait(), loop).result(10)
            return super().transcribe(clip, **kwargs)

    h.coach.voice.transcriber = Slow([GOOD_ANSWER])
    ogg = sa.spoken(SPOKEN, "ogg")
    mark = len(h.fake.calls)
    h.bot.client.dispatch("message", _message(h, thread, ogg))
    await asyncio.sleep(0.2)
    typed = await _say_now(h, thread, "A typed answer meanwhile.")
    assert "still being processed" in typed
    release.set()
    await h.settle(ALICE)
    shown = texts(h.fake.since(mark), h)
    assert any(t.startswith("I heard") for t in shown) and len(h.coach.store.attempts(alice())) == 1


def _message(h: Harness, channel: dict[str, Any], ogg: bytes) -> Any:
    from tests.discord_harness import user_message

    return user_message(h, channel, "", attachments=[h.fake.attachment(ogg, "voice-message.ogg", "audio/ogg",
                                                                        voice_seconds=6.5)])


async def _say_now(h: Harness, channel: dict[str, Any], text: str) -> str:
    """Send a typed message and return the first thing the bot says back."""
    from tests.discord_harness import user_message

    mark = len(h.fake.calls)
    h.bot.client.dispatch("message", user_message(h, channel, text))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        sent = h.fake.sends(h.fake.since(mark))
        if sent:
            return sent[0].text()
        await asyncio.sleep(0.01)
    raise AssertionError("no reply")


@pytest.mark.asyncio
async def test_the_answer_form_says_voice_works(hv) -> None:
    h, _ = hv
    _, question, thread = await started(h, topic="regularization", count=1)
    opened = await h.press(question, "answer", channel=thread)
    modal = h.fake.callbacks(opened)[0].payload["data"]
    field = modal["components"][0]["components"][0]
    assert field["placeholder"] == VOICE_HINT and "voice message" in field["placeholder"]
    assert len(VOICE_HINT) <= 100   # Discord's limit for a placeholder


# ---- the packaged Whisper base, for real ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_real_voice_message_is_transcribed_by_whisper_and_graded(fake: FakeDiscord, store: Any, llm: FakeLLM,
                                                                        whisper: Any, espeak: str) -> None:
    from bot.core.speech.worker import SpeechWorker

    worker = SpeechWorker(lambda: whisper)
    bot = await build(fake, store, llm, worker)
    h = Harness(bot, fake)
    _, question, thread = await started(h, topic="regularization", count=1)
    ogg = sa.spoken(SPOKEN, "ogg")
    mark = len(h.fake.calls)
    began = time.monotonic()
    h.bot.client.dispatch("message", _message(h, thread, ogg))
    await asyncio.sleep(0.05)
    await h.settle(ALICE, timeout=120)
    sent = h.fake.sends(h.fake.since(mark))
    shown = [c.text() for c in sent]
    heard = shown[0].lower()
    assert shown[0].startswith("I heard") and all(w in heard for w in ("dropout", "neurons", "fraction"))
    assert shown[1].startswith("Score: ")
    [attempt] = h.coach.store.attempts(alice())
    assert "dropout" in attempt.answer.lower() and must(attempt.delivery)["words"] >= 20
    print(f"discord voice message ({len(ogg)} bytes ogg/opus) -> transcript shown {sent[0].at - began:.1f} s, "
          f"score shown {sent[1].at - began:.1f} s; load average {os.getloadavg()[0]:.1f}")
    worker.close()
    await bot.client.close()
    bot.shutdown()
