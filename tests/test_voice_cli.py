"""Spoken answers in the terminal: `grade --audio`, `/audio FILE` in an interview, `--voice` and the recorder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bot import cli_voice
from bot.core.speech.audio import AudioClip
from tests import speech_audio as sa
from tests.test_speech_real import QUESTION, SENTENCE, norm

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent


def run(args: list[str], data_dir: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ, COACH_DATA_DIR=str(data_dir), COACH_N_THREADS="2", **env)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin, capture_output=True, text=True,
                          env=environ, cwd=REPO, timeout=600)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voice-cli")


def test_grade_audio_json_adds_transcript_and_delivery_and_matches_the_typed_grade(data_dir: Path, espeak: str,
                                                                                   tmp_path: Path) -> None:
    clip = next(c for c in sa.clips("dev") if c["id"] == "dev-softmax-fillers")   # spoken with um, uh, like
    answer = tmp_path / "answer.m4a"
    answer.write_bytes(sa.clip_audio(clip))
    question = "What does the softmax function do, and where is it used in a neural network?"
    spoken = run(["grade", "--audio", str(answer), "--question", question, "--json", "--no-llm"], data_dir)
    assert spoken.returncode == 0, spoken.stderr[-2000:]
    data = json.loads(spoken.stdout)
    assert {"question_id", "question", "score", "key_points", "feedback", "follow_up", "llm"} <= set(data)
    assert data["question_id"] == "softmax-function" and 0 <= data["score"] <= 100
    assert "softmax" in norm(data["transcript"]) and data["delivery"]["filler_count"] >= 3
    assert data["delivery"]["wpm"] > 0 and data["delivery"]["notes"]
    typed = run(["grade", "--question", question, "--json", "--no-llm"], data_dir, stdin=data["transcript"])
    assert typed.returncode == 0, typed.stderr[-2000:]
    assert json.loads(typed.stdout)["score"] == data["score"]   # the same text, typed: the same score


def test_grade_audio_refuses_what_is_not_an_answer_in_one_sentence(data_dir: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Dropout switches off neurons.")
    for path, expected in ((notes, "could not be read as audio"), (tmp_path / "missing.ogg", "Cannot read")):
        proc = run(["grade", "--audio", str(path), "--question", QUESTION, "--no-llm"], data_dir)
        assert proc.returncode == 2 and expected in proc.stderr, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_interview_answers_with_a_file_and_voice_falls_back_to_typing(data_dir: Path, espeak: str,
                                                                      tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    silent.write_bytes(sa.encode(sa.silence(), 16000, "wav"))
    answer = tmp_path / "answer.m4a"
    answer.write_bytes(sa.spoken(SENTENCE, "m4a"))
    stdin = f"/audio {silent}\n/audio {answer}\n/skip\nI would use a typed answer about weights.\n\n"
    proc = run(["interview", "--voice", "--no-llm", "--count", "3", "--user", "voice-cli", "--topic",
                "regularization"], data_dir, stdin=stdin)
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-2000:]
    assert "Voice input needs a microphone" in out and "type your answers" in out   # no PortAudio device here
    assert "The recording is silent" in out                   # one sentence, the question stays open
    assert out.index("The recording is silent") < out.index("I heard")
    assert "Delivery (how you said it; not part of the score)" in out
    assert out.count("Score:") == 2                          # the spoken answer and the typed one
    assert "Traceback" not in out + proc.stderr


def test_the_recorder_records_until_enter_and_its_audio_is_transcribed(monkeypatch: pytest.MonkeyPatch, whisper,
                                                                       espeak: str) -> None:
    speech, rate = sa.decode_any(sa.speak(SENTENCE))
    speech = sa.resample(speech, rate, 16000)
    fed = threading.Event()

    class InputStream:   # PortAudio's stream, fed from a real recording in blocks like a microphone
        def __init__(self, *, samplerate: int, channels: int, dtype: str, callback: Any) -> None:
            assert (samplerate, channels, dtype) == (16000, 1, "float32")
            self.callback = callback

        def __enter__(self) -> InputStream:
            def feed() -> None:
                for start in range(0, len(speech), 1600):
                    self.callback(speech[start:start + 1600].reshape(-1, 1), 1600, None, None)
                fed.set()
            threading.Thread(target=feed, daemon=True).start()
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    fake = types.SimpleNamespace(InputStream=InputStream,
                                 query_devices=lambda kind=None: {"name": "mic", "max_input_channels": 1})
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    assert cli_voice.recorder_problem() is None
    started = time.monotonic()
    samples = cli_voice.record(Console(file=open(os.devnull, "w")), 300, wait=lambda: fed.wait(10))  # noqa: SIM115
    assert time.monotonic() - started < 10 and abs(len(samples) - len(speech)) < 1600
    transcript = whisper.transcribe(AudioClip.from_samples(samples), prompt=QUESTION)
    assert "dropout" in norm(transcript.text) and "neurons" in norm(transcript.text)
    fed.clear()
    capped = cli_voice.record(Console(file=open(os.devnull, "w")), 1.0, wait=lambda: fed.wait(10))  # noqa: SIM115
    assert len(capped) == 16000   # a recording stops growing at the limit


def test_no_device_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_device(kind: str | None = None) -> Any:
        raise RuntimeError("Error querying device -1")

    monkeypatch.setitem(sys.modules, "sounddevice", types.SimpleNamespace(query_devices=no_device))
    assert cli_voice.recorder_problem() == "no input device was found"
