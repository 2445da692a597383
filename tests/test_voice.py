"""Spoken answers through the coach with a scripted transcriber: transcript first, delivery stored, bad audio."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from bot.core.bank import load_bank
from bot.core.charts import progress_chart
from bot.core.coach import Coach
from bot.core.embedder import HashEmbedder
from bot.core.phases import Phase
from bot.core.replies import Action, ReplyKind, Request, UserRef
from bot.core.speech.audio import AudioClip, wav_bytes
from bot.core.speech.base import BadAudio
from bot.core.speech.worker import SpeechWorker
from bot.core.store.db import MIGRATIONS, make_engine, migrate
from bot.core.store.sql import SqlStore
from bot.core.testing import FakeLLM, FakeTranscriber, fake_coach, fake_transcript
from bot.core.voice import VoiceAnswers
from bot.errors import USER_BUSY, ModelError, UserBusyError
from tests.narrow import must

ALICE = UserRef("test", "alice")
DECKS = Path(__file__).resolve().parent / "data" / "decks"
CRITIQUE = {"strengths": ["You explained the main mechanism."], "improvements": ["Say when it is switched off."],
            "follow_up": "What changes at inference time?"}


def build(tmp_path: Path, llm: FakeLLM) -> tuple[Coach, SqlStore]:
    """The real coach on the mini deck with a fast embedder and a scripted critique."""
    bank = load_bank(DECKS)
    store = SqlStore(f"sqlite:///{tmp_path / 'coach.db'}")
    return fake_coach(bank, store, llm=llm), store


def strong_answer(coach: Coach, store: SqlStore, user: UserRef) -> str:
    """An answer that states every key point of the current question."""
    session = must(store.open_session(user))
    entry = coach.bank.get(must(session.current_question_id))
    return " ".join(p.rstrip(".") + "." for p in entry.points)
TONE = wav_bytes(0.1 * np.sin(2 * np.pi * 220 * np.arange(16000 * 2) / 16000))   # 2 s of real audio


@pytest.fixture()
def setup(tmp_path: Path):
    coach, store = build(tmp_path, FakeLLM(respond=lambda prompt: json.dumps(CRITIQUE)))
    speech = FakeTranscriber()
    yield coach, store, speech, VoiceAnswers(coach, speech)
    store.close()


def test_transcript_comes_first_then_the_usual_grading_with_delivery(setup) -> None:
    coach, store, speech, voice = setup
    list(coach.act(Request(ALICE, Action.START, count=2)))
    answer = strong_answer(coach, store, ALICE)
    speech.results.append("Um, " + answer)
    replies = list(voice.answer(ALICE, TONE, filename="answer.wav", use_llm=False))
    kinds = [r.kind for r in replies]
    assert kinds[0] is ReplyKind.TRANSCRIPT and kinds[1] is ReplyKind.SCORE
    assert answer in replies[0].text and replies[0].data["transcript"].endswith(answer)
    assert speech.calls[0][1] == ALICE.key          # the worker is told whose recording it is
    assert speech.prompts[0] == coach.bank.get(replies[0].data["question_id"]).question   # and what was asked
    score = replies[1]
    assert score.data["delivery"]["fillers"] == {"um": 1}
    assert "Delivery (how you said it; not part of the score)" in score.text
    assert score.text.index("Score:") < score.text.index("Delivery")   # beside the rubric's points, after them
    stored = store.attempts(ALICE)
    assert len(stored) == 1 and stored[0].delivery == score.data["delivery"]
    assert stored[0].answer == "Um, " + answer


def test_delivery_never_changes_the_score(setup) -> None:
    coach, store, speech, voice = setup
    list(coach.act(Request(ALICE, Action.START, count=1)))
    entry = coach.bank.get(store.open_session(ALICE).current_question_id)
    answer = "It switches off some neurons while training."
    speech.results.append(fake_transcript(answer, wpm=260, pauses={2: 6.0}))   # fast, with a long pause
    spoken = [r for r in voice.answer(ALICE, TONE, use_llm=False) if r.kind is ReplyKind.SCORE][0]
    typed = coach.grader.rubric_grade(entry, answer).to_json()   # the same words, typed
    assert spoken.data["score"] == typed["score"] and spoken.data["key_points"] == typed["key_points"]
    assert spoken.data["delivery"]["long_pauses"] == 1
    assert store.attempts(ALICE)[0].score == typed["score"]


@pytest.mark.parametrize("failure", [BadAudio("silence", "The recording is silent: I couldn't hear anything."),
                                     BadAudio("language", "I heard French, but the coach grades answers in English.")])
def test_bad_audio_is_one_sentence_and_the_question_stays_open(setup, failure: BadAudio) -> None:
    coach, store, speech, voice = setup
    list(coach.act(Request(ALICE, Action.START, count=2)))
    before = store.open_session(ALICE)
    speech.results.append(failure)
    replies = list(voice.answer(ALICE, TONE))
    assert len(replies) == 1 and replies[0].kind is ReplyKind.ERROR and replies[0].text == str(failure)
    assert replies[0].data["bad_audio"] == failure.reason
    after = store.open_session(ALICE)
    assert (after.id, after.position, after.phase) == (before.id, before.position, Phase.AWAITING_ANSWER)
    assert store.attempts(ALICE) == []


def test_a_file_that_is_not_audio_never_reaches_the_transcriber(setup) -> None:
    coach, store, speech, voice = setup
    list(coach.act(Request(ALICE, Action.START, count=1)))
    for data, name, mime in ((b"%PDF-1.4 not a recording", "cv.pdf", None), (TONE, "photo.png", "image/png"),
                             (b"", "empty.ogg", "audio/ogg")):
        replies = list(voice.answer(ALICE, data, filename=name, mime=mime))
        assert [r.kind for r in replies] == [ReplyKind.ERROR] and replies[0].text.endswith(".")
    assert speech.calls == [] and store.attempts(ALICE) == []
    assert store.open_session(ALICE).phase is Phase.AWAITING_ANSWER


def test_no_interview_means_nothing_is_transcribed(setup) -> None:
    _, _, speech, voice = setup
    replies = list(voice.answer(ALICE, TONE))
    assert replies[0].kind is ReplyKind.ERROR and "no interview" in replies[0].text and speech.calls == []


def test_a_skip_while_transcribing_is_refused_as_busy_and_the_recording_graded(setup) -> None:
    coach, store, speech, voice = setup
    list(coach.act(Request(ALICE, Action.START, count=3)))
    refused = []

    class SkipMeanwhile(FakeTranscriber):
        def transcribe(self, clip, *, user_key=None, prompt=None):
            refused.extend(coach.act(Request(ALICE, Action.SKIP)))   # Skip pressed while the recording is transcribed
            return fake_transcript("Dropout randomly deactivates neurons during training.")

    voice.transcriber = SkipMeanwhile()
    replies = list(voice.answer(ALICE, TONE, use_llm=False))
    assert [r.kind for r in refused] == [ReplyKind.ERROR] and refused[0].text == USER_BUSY
    assert [r.kind for r in replies][:2] == [ReplyKind.TRANSCRIPT, ReplyKind.SCORE]
    assert [a.skipped for a in store.attempts(ALICE)] == [False]   # graded for the question it answered


def test_a_skip_after_the_transcript_leaves_the_new_question_ungraded(setup) -> None:
    coach, store, speech, voice = setup
    list(coach.act(Request(ALICE, Action.START, count=3)))
    speech.results.append("An answer to the question that was skipped.")
    replies = []
    for reply in voice.answer(ALICE, TONE, use_llm=False):
        replies.append(reply)
        if reply.kind is ReplyKind.TRANSCRIPT:   # Skip lands while the adapter posts the transcript
            list(coach.act(Request(ALICE, Action.SKIP)))
    assert [r.kind for r in replies] == [ReplyKind.TRANSCRIPT, ReplyKind.ERROR]
    assert "changed" in replies[1].text
    assert [a.skipped for a in store.attempts(ALICE)] == [True]   # only the skip, no grade for question 2
    assert store.open_session(ALICE).position == 1


def test_a_spoken_follow_up_is_stored_with_its_delivery(setup) -> None:
    coach, store, speech, voice = setup
    store.create_session(ALICE, ["dropout"])   # a question with written probes, whatever the day's order
    list(coach.act(Request(ALICE, Action.ANSWER, text=strong_answer(coach, store, ALICE)), use_llm=True))
    assert must(store.open_session(ALICE)).phase is Phase.AWAITING_FOLLOW_UP
    speech.results.append("At inference every neuron is used and the outputs are scaled.")
    replies = list(voice.answer(ALICE, TONE, use_llm=False))
    assert [r.kind for r in replies][:2] == [ReplyKind.TRANSCRIPT, ReplyKind.SCORE]
    follow = [a for a in store.attempts(ALICE) if a.is_follow_up]
    assert len(follow) == 1 and follow[0].delivery["target_seconds"] == [15, 60]


def test_stats_and_chart_show_spoken_answers(setup) -> None:
    coach, store, speech, voice = setup
    list(coach.act(Request(ALICE, Action.START, count=3)))
    speech.results.extend([fake_transcript("Um, it reduces overfitting by dropping neurons.", wpm=120),
                           fake_transcript("The gradient flows backwards through the layers.", wpm=180)])
    list(voice.answer(ALICE, TONE, use_llm=False))
    list(coach.act(Request(ALICE, Action.ANSWER, text="A typed answer about weights."), use_llm=False))
    list(voice.answer(ALICE, TONE, use_llm=False))
    reply = next(coach.act(Request(ALICE, Action.STATS)))
    spoken = reply.data["delivery"]
    assert spoken["answers"] == 2 and [p["wpm"] for p in spoken["points"]][0] < spoken["points"][1]["wpm"]
    assert spoken["fillers_per_minute"] > 0 and "Spoken answers: 2" in reply.text
    typed_only = progress_chart({k: v for k, v in reply.data.items() if k != "delivery"})
    assert reply.image is not None and reply.image.startswith(b"\x89PNG")
    assert _png_height(reply.image) > _png_height(typed_only)   # a third panel for delivery


def _png_height(png: bytes) -> int:
    return int.from_bytes(png[20:24], "big")


# ---- the speech worker --------------------------------------------------------------------------------------------


def test_worker_builds_the_model_on_its_thread_and_serves_one_job_per_user() -> None:
    threads: list[str] = []
    gate = threading.Event()

    class Slow(FakeTranscriber):
        def transcribe(self, clip, *, user_key=None, prompt=None):
            threads.append(threading.current_thread().name)
            gate.wait(5)
            return fake_transcript("fine")

    def factory():
        threads.append(threading.current_thread().name)
        return Slow()

    worker = SpeechWorker(factory)
    clip = AudioClip.from_samples(np.zeros(16000, np.float32))
    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(worker.transcribe(clip, user_key="a").text))
    first.start()
    deadline = time.monotonic() + 5
    while not worker.pending()["busy_users"] and time.monotonic() < deadline:
        time.sleep(0.01)
    with pytest.raises(UserBusyError):
        worker.transcribe(clip, user_key="a")   # a second recording of the same user while the first runs
    gate.set()
    first.join(5)
    assert results == ["fine"] and set(threads) == {"speech-worker"} and len(threads) == 2
    assert worker.transcribe(clip, user_key="a").text == "fine"   # free again once done
    worker.close()


def test_worker_reports_a_model_that_fails_to_load_as_one_sentence() -> None:
    def broken():
        raise RuntimeError("bad weights")

    worker = SpeechWorker(broken).start()
    clip = AudioClip.from_samples(np.zeros(16000, np.float32))
    for _ in range(2):
        with pytest.raises(ModelError, match="could not be loaded"):
            worker.transcribe(clip, user_key="a")
    assert worker.failed is not None and not worker.ready
    worker.close()


# ---- the store -------------------------------------------------------------------------------------------------------


def test_an_older_database_gains_the_delivery_column(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate(engine, MIGRATIONS[:1])
    with engine.begin() as conn:   # the first release's attempts table had no delivery column
        conn.execute(text("ALTER TABLE attempts DROP COLUMN delivery"))
    migrate(engine)
    with engine.connect() as conn:
        columns = {row[1] for row in conn.execute(text("PRAGMA table_info(attempts)"))}
        versions = list(conn.execute(text("SELECT version FROM schema_version ORDER BY version")).scalars())
    engine.dispose()
    assert "delivery" in columns and versions == [v for v, _ in MIGRATIONS]


def test_the_limits_are_settings(tmp_path: Path) -> None:
    from bot.config import Settings
    from bot.core.runtime import Runtime

    settings = Settings(COACH_DATA_DIR=str(tmp_path), COACH_MAX_AUDIO_SECONDS="10", COACH_MAX_AUDIO_MB="0.5")
    speech = FakeTranscriber()
    runtime = Runtime(settings, use_llm=False, embedder=HashEmbedder(), transcriber=speech)
    try:
        list(runtime.coach.act(Request(ALICE, Action.START, count=1)))
        twenty = wav_bytes(0.1 * np.sin(2 * np.pi * 220 * np.arange(16000 * 20) / 16000))   # 640 kB, 20 s
        eight = wav_bytes(0.1 * np.sin(2 * np.pi * 220 * np.arange(8000 * 8) / 8000), rate=8000)   # 128 kB, 8 s
        too_big = list(runtime.voice.answer(ALICE, twenty))
        assert too_big[0].data["bad_audio"] == "too_large" and "0.6 MB" in too_big[0].text
        assert "at most 0.5 MB" in too_big[0].text
        runtime.settings.max_audio_mb = 25.0
        for built in ("voice", "coach"):   # the coach and its voice answers are made from the settings
            runtime.__dict__.pop(built)
        too_long = list(runtime.voice.answer(ALICE, twenty))
        assert too_long[0].data["bad_audio"] == "too_long" and "at most 10 seconds" in too_long[0].text
        speech.results.append("Dropout switches off neurons.")
        assert [r.kind for r in runtime.voice.answer(ALICE, eight, use_llm=False)][:2] == [ReplyKind.TRANSCRIPT,
                                                                                          ReplyKind.SCORE]
        assert len(speech.calls) == 1   # the refused files never reached the speech model
    finally:
        runtime.close()
