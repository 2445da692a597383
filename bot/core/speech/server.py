"""Speech to text over an OpenAI-compatible /v1/audio/transcriptions server (verbose_json, word timestamps)."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.core.speech.audio import AudioClip, no_speech, wav_bytes
from bot.core.speech.base import BadAudio, Transcript, Word
from bot.core.speech.whisper import ANSWER_LANGUAGE, LANGUAGE_REFUSE, LANGUAGES, clean_text, language_refusal
from bot.errors import ConfigError, ModelError

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# OpenAI answers with language names, faster-whisper servers with codes.
_CODES = {name.lower(): code for code, name in LANGUAGES.items()} | {"english": "en"}


def transcription_url(base_url: str) -> str:
    """The endpoint; a bare host gets /v1 first, as every such server serves it there."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("COACH_STT_BASE_URL must be an http(s) URL such as http://127.0.0.1:8000/v1.")
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path + "/audio/transcriptions", "", ""))


def _public(url: str) -> str:
    """The URL without credentials or query, for messages."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", "")) if parts.port is None else \
        urlunsplit((parts.scheme, f"{parts.hostname}:{parts.port}", parts.path, "", ""))


def _code(language: Any) -> str | None:
    """A language code from a code or a name."""
    if not isinstance(language, str) or not language:
        return None
    low = language.strip().lower()
    return _CODES.get(low, low)


def _spread(segments: list[dict[str, Any]]) -> list[Word]:
    """Words with times spread evenly over their segment, for servers without word timestamps."""
    words = []
    for seg in segments:
        tokens = clean_text(str(seg.get("text", ""))).split()
        start, end = float(seg.get("start", 0.0)), float(seg.get("end", 0.0))
        step = (end - start) / max(1, len(tokens))
        words += [Word(tok, start + i * step, start + (i + 1) * step) for i, tok in enumerate(tokens)]
    return words


class OpenAICompatibleTranscriber:
    """POSTs the recording to COACH_STT_BASE_URL and reads verbose_json; concurrency is the server's business."""

    def __init__(self, base_url: str, *, api_key: str | None = None, model: str = "whisper-1", timeout: float = 120.0,
                 retries: int = 2, transport: httpx.BaseTransport | None = None) -> None:
        self.url = transcription_url(base_url)
        self.model = model
        self.name = f"{model} at {_public(self.url)}"
        self.retries = retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, transport=transport, timeout=httpx.Timeout(timeout, connect=5.0))

    def _post(self, clip: AudioClip, prompt: str | None) -> dict[str, Any]:
        """The server's verbose_json; retried on overload and connection errors, one sentence otherwise."""
        data = clip.data or wav_bytes(clip.samples())
        name = clip.filename or ("answer.wav" if not clip.data else "answer")
        form = {"model": self.model, "response_format": "verbose_json",
                "timestamp_granularities[]": ["word", "segment"]} | ({"prompt": prompt} if prompt else {})
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post(self.url, data=form,
                                             files={"file": (name, data, clip.mime or "application/octet-stream")})
            except httpx.HTTPError as exc:
                if attempt < self.retries:
                    time.sleep(0.5 * (attempt + 1))
                    continue
                raise ModelError(f"The transcription server at {_public(self.url)} cannot be reached "
                                 f"({exc.__class__.__name__}); please type your answer.") from None
            if response.status_code in RETRY_STATUS and attempt < self.retries:
                time.sleep(0.5 * (attempt + 1))
                continue
            if response.status_code in (400, 415, 422):
                log.info("transcription server refused the file: %s", response.text[:300])
                raise BadAudio("unreadable", "The transcription server could not read that recording; please send "
                                             "it as wav, ogg/opus, mp3 or m4a, or type your answer.")
            if response.status_code >= 400:
                raise ModelError(f"The transcription server at {_public(self.url)} answered HTTP "
                                 f"{response.status_code}; please type your answer.")
            try:
                body = response.json()
            except ValueError:
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("text"), str):
                raise ModelError(f"The transcription server at {_public(self.url)} did not answer with a "
                                 "transcript; please type your answer.")
            return body
        raise ModelError("The transcription server is overloaded; please type your answer.")

    def transcribe(self, clip: AudioClip, *, user_key: str | None = None, prompt: str | None = None) -> Transcript:
        """The server's transcript; the same refusals as in-process (no speech, another language)."""
        body = self._post(clip, prompt)
        segments = [s for s in body.get("segments") or [] if isinstance(s, dict)]
        language = _code(body.get("language"))
        probability = body.get("language_probability")
        if language and language != ANSWER_LANGUAGE and (not isinstance(probability, int | float)
                                                         or probability >= LANGUAGE_REFUSE):
            raise language_refusal(language)
        kept = [s for s in segments if not (float(s.get("no_speech_prob", 0)) > 0.6
                                            and float(s.get("avg_logprob", 0)) < -1.0)]
        raw_words = [w for w in body.get("words") or [] if isinstance(w, dict) and clean_text(str(w.get("word", "")))]
        timed = bool(raw_words)
        words = [Word(str(w["word"]).strip(), float(w.get("start", 0)), float(w.get("end", 0)),
                      float(w.get("probability", 1.0))) for w in raw_words] if timed else _spread(kept)
        text = clean_text(" ".join(str(s.get("text", "")) for s in kept) if segments else body["text"])
        if not words or not text:
            raise no_speech(clip.decoded)
        duration = float(body.get("duration") or clip.duration or (words[-1].end if words else 0.0))
        return Transcript(text=text, words=tuple(words), duration=duration, language=language,
                          language_probability=float(probability) if isinstance(probability, int | float) else None,
                          timed=timed, extra={"model": self.name})

    def describe(self) -> dict[str, Any]:
        """What doctor shows (no key)."""
        return {"name": self.name, "url": _public(self.url)}

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()
