"""COACH_STT_BASE_URL: the OpenAI-compatible transcription client against a loopback server speaking verbose_json.

The server here runs the real packaged Whisper base behind OpenAI's /v1/audio/transcriptions form (multipart file,
response_format=verbose_json, timestamp_granularities[]=word), the shape speaches, LocalAI and OpenAI answer with.
"""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.core.speech.audio import load_clip
from bot.core.speech.base import BadAudio
from bot.core.speech.delivery import measure
from bot.core.speech.server import OpenAICompatibleTranscriber, transcription_url
from bot.errors import ConfigError, ModelError
from tests import speech_audio as sa
from tests.test_speech_real import QUESTION, SENTENCE, norm

pytestmark = pytest.mark.slow


class Server:
    """A loopback /v1/audio/transcriptions over a real transcriber; `mode` picks what it answers."""

    def __init__(self, transcriber: Any) -> None:
        self.transcriber = transcriber
        self.mode = "words"
        self.forms: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                message = BytesParser(policy=HTTP).parsebytes(
                    f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
                form: dict[str, Any] = {}
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    value = part.get_payload(decode=True)
                    form.setdefault(name, []).append(value if part.get_filename() else value.decode())
                outer.forms.append(form | {"path": self.path, "auth": self.headers.get("Authorization")})
                status, reply = outer.answer(form)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def answer(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.mode == "refuse":
            return 400, {"error": {"message": "Invalid file format."}}
        if self.mode == "down":
            return 503, {"error": {"message": "loading"}}
        clip = load_clip(form["file"][0])
        prompt = form.get("prompt", [None])[0]
        try:
            transcript = self.transcriber.transcribe(clip, prompt=prompt)
        except BadAudio:
            return 200, {"task": "transcribe", "language": "english", "duration": clip.duration, "text": "",
                         "segments": [], "words": []}
        reply: dict[str, Any] = {
            "task": "transcribe", "language": "english", "duration": transcript.duration, "text": transcript.text,
            "segments": [{"id": 0, "start": transcript.words[0].start, "end": transcript.words[-1].end,
                          "text": transcript.text, "avg_logprob": -0.3, "no_speech_prob": 0.01}]}
        if self.mode == "words":
            reply["words"] = [{"word": w.text, "start": w.start, "end": w.end} for w in transcript.words]
        return 200, reply

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server(whisper):
    srv = Server(whisper)
    yield srv
    srv.close()


def test_the_server_gives_the_same_words_and_timings_as_in_process(server: Server, whisper, espeak) -> None:
    data = sa.spoken(SENTENCE, "ogg")
    client = OpenAICompatibleTranscriber(server.url, api_key="sk-test", model="whisper-1")
    remote = client.transcribe(load_clip(data, filename="answer.ogg", mime="audio/ogg"), prompt=QUESTION)
    local = whisper.transcribe(load_clip(data), prompt=QUESTION)
    assert norm(remote.text) == norm(local.text) and remote.timed
    assert [w.start for w in remote.words] == [w.start for w in local.words]
    form = server.forms[0]
    assert form["path"] == "/v1/audio/transcriptions" and form["auth"] == "Bearer sk-test"
    assert form["response_format"] == ["verbose_json"] and form["timestamp_granularities[]"] == ["word", "segment"]
    assert form["prompt"] == [QUESTION] and form["model"] == ["whisper-1"] and form["file"][0] == data
    assert remote.language == "en"   # OpenAI says "english"


def test_without_word_timestamps_the_times_are_spread_and_said_to_be_estimates(server: Server, espeak) -> None:
    server.mode = "segments"
    remote = OpenAICompatibleTranscriber(server.url).transcribe(load_clip(sa.spoken(SENTENCE, "wav")))
    assert not remote.timed and len(remote.words) >= 8
    assert remote.words[0].start < remote.words[-1].start
    assert any("estimated" in note for note in measure(remote)["notes"])


def test_server_refusals_and_outages_are_one_sentence(server: Server, espeak) -> None:
    clip = load_clip(sa.spoken(SENTENCE, "wav"))
    server.mode = "refuse"
    with pytest.raises(BadAudio, match="could not read that recording"):
        OpenAICompatibleTranscriber(server.url).transcribe(clip)
    server.mode = "down"
    with pytest.raises(ModelError, match="answered HTTP 503"):
        OpenAICompatibleTranscriber(server.url, retries=1).transcribe(clip)
    with pytest.raises(ModelError, match="cannot be reached"):
        OpenAICompatibleTranscriber("http://127.0.0.1:9/v1", retries=0).transcribe(clip)
    server.mode = "words"
    with pytest.raises(BadAudio) as caught:   # the server hears nothing in silence
        OpenAICompatibleTranscriber(server.url).transcribe(load_clip(sa.encode(sa.silence(), 16000, "wav")))
    assert caught.value.reason == "no_speech"


def test_a_server_answer_in_another_language_is_refused() -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"text": "Le surapprentissage", "language": "french", "duration": 2.0,
                                         "words": [{"word": "Le", "start": 0.1, "end": 0.3}]})

    client = OpenAICompatibleTranscriber("http://127.0.0.1:1", transport=httpx.MockTransport(handler))
    with pytest.raises(BadAudio, match="I heard French"):
        client.transcribe(load_clip(sa.encode(sa.noise(1.0, 0.05), 16000, "wav")))


def test_the_url_setting_is_checked() -> None:
    assert transcription_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v1/audio/transcriptions"
    assert transcription_url("https://stt.example/v1/") == "https://stt.example/v1/audio/transcriptions"
    with pytest.raises(ConfigError, match="COACH_STT_BASE_URL"):
        transcription_url("stt.example")
