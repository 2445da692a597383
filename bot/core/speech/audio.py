"""Audio bytes in: the header is probed and checked cheaply before anything is decoded to 16 kHz mono."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.core.speech.base import BadAudio

log = logging.getLogger(__name__)
SAMPLE_RATE = 16000
FORMATS = "wav, ogg/opus, mp3, m4a or webm"
MIN_SECONDS = 0.3          # shorter than this holds no answer
SILENT_RMS = 0.003         # about -50 dBFS: below this the recording is silent, not noisy
_NOT_AUDIO_MIME = ("image/", "text/", "application/pdf", "application/zip", "application/json", "application/msword",
                   "application/vnd.")


@dataclass
class AudioClip:
    """An uploaded recording whose header passed the checks; samples() decodes it once, on demand."""

    data: bytes
    duration: float | None            # from the header; None when the container does not say
    codec: str
    filename: str | None = None
    mime: str | None = None
    max_seconds: float = 300.0
    _samples: np.ndarray | None = field(default=None, repr=False)

    @property
    def decoded(self) -> np.ndarray | None:
        """The samples if already decoded (a server transcriber never decodes), else None."""
        return self._samples

    def samples(self) -> np.ndarray:
        """The audio as float32 mono at 16 kHz (decoded on first call; never longer than max_seconds)."""
        if self._samples is None:
            self._samples = decode(self.data, self.max_seconds)
            self.duration = len(self._samples) / SAMPLE_RATE
        return self._samples

    @classmethod
    def from_samples(cls, samples: np.ndarray, *, max_seconds: float = 300.0) -> AudioClip:
        """A clip made from samples already at 16 kHz (the terminal's recorder)."""
        clip = cls(data=b"", duration=len(samples) / SAMPLE_RATE, codec="pcm", max_seconds=max_seconds)
        clip._samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        return clip


def _minutes(seconds: float) -> str:
    """A duration as people say it: '20 minutes', '45 seconds'."""
    if seconds >= 90:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds)} seconds"


def megabytes(size: int) -> str:
    """A size in MB with at most one decimal: 25, 0.5, 12.3."""
    return f"{size / 1e6:.1f}".rstrip("0").rstrip(".") if size else "0"


def too_long(seconds: float, limit: float) -> BadAudio:
    """The refusal of a recording over the limit."""
    return BadAudio("too_long", f"That recording is {_minutes(seconds)} long, but a spoken answer can be at most "
                                f"{_minutes(limit)}; please record a shorter answer.")


def unreadable(name: str | None) -> BadAudio:
    """The refusal of a file that is not audio, or is damaged."""
    what = f"“{name}”" if name else "That file"
    return BadAudio("unreadable", f"{what} could not be read as audio (it is damaged or not a recording); please "
                                  f"send your answer as {FORMATS}.")


def load_clip(data: bytes, *, filename: str | None = None, mime: str | None = None, max_seconds: float = 300.0,
              max_bytes: int = 25_000_000) -> AudioClip:
    """Check an upload from its size and header alone: a 20-minute file is refused without decoding a frame."""
    if not data:
        raise BadAudio("empty", "The recording is empty; please record your answer again.")
    if len(data) > max_bytes:
        raise BadAudio("too_large", f"That file is {megabytes(len(data))} MB, but a spoken answer can be at most "
                                    f"{megabytes(max_bytes)} MB; please send a shorter recording.")
    if mime and mime.lower().startswith(_NOT_AUDIO_MIME):
        raise BadAudio("not_audio", f"That file is not audio ({mime}); send a voice message or a recording "
                                    f"({FORMATS}), or type your answer.")
    duration, codec = probe(data, filename)
    if duration is not None and duration > max_seconds:
        raise too_long(duration, max_seconds)
    if duration is not None and duration < MIN_SECONDS:
        raise BadAudio("empty", "The recording is too short to hold an answer; please record your answer again.")
    return AudioClip(data=data, duration=duration, codec=codec, filename=filename, mime=mime, max_seconds=max_seconds)


def _open(data: bytes) -> Any:
    """A PyAV container reading from memory."""
    import av

    return av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")


def probe(data: bytes, filename: str | None = None) -> tuple[float | None, str]:
    """(duration in seconds or None, codec name) from the container's header; BadAudio when it is not audio."""
    import av

    try:
        with _open(data) as container:
            if not container.streams.audio:
                raise BadAudio("not_audio", f"{'“' + filename + '”' if filename else 'That file'} has no sound in "
                                            f"it; send a voice message or a recording ({FORMATS}).")
            stream = container.streams.audio[0]
            codec = stream.codec_context.name
            seconds: float | None = None
            if stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                seconds = container.duration / av.time_base
    except BadAudio:
        raise
    except (av.error.FFmpegError, ValueError, IndexError, OSError, UnicodeDecodeError):
        raise unreadable(filename) from None
    return (seconds if seconds is not None and seconds > 0 else None), codec


def decode(data: bytes, max_seconds: float) -> np.ndarray:
    """Decode to float32 mono 16 kHz, stopping as soon as the audio runs past max_seconds (a lying header)."""
    import av

    limit = int((max_seconds + 1.0) * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with _open(data) as container:
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
            for frame in container.decode(stream):
                frame.pts = None  # a damaged timestamp must not stall the resampler
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += len(chunk)
                if total > limit:
                    raise too_long(total / SAMPLE_RATE, max_seconds)
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except BadAudio:
        raise
    except (av.error.FFmpegError, ValueError, IndexError, OSError):
        # A file cut short mid-frame still gives what came before; only nothing at all is unreadable.
        log.info("audio decoding stopped early", exc_info=True)
        if not chunks:
            raise unreadable(None) from None
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if len(samples) < MIN_SECONDS * SAMPLE_RATE:
        raise BadAudio("empty", "The recording is too short to hold an answer; please record your answer again.")
    return samples


def rms(samples: np.ndarray) -> float:
    """Root mean square level of the samples (0 for none)."""
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0


def no_speech(samples: np.ndarray | None) -> BadAudio:
    """The refusal of a recording with no speech in it: silent, or only noise or music."""
    if samples is not None and rms(samples) < SILENT_RMS:
        return BadAudio("silence", "The recording is silent: I couldn't hear anything. Check your microphone and "
                                   "record your answer again.")
    return BadAudio("no_speech", "I couldn't hear any speech in that recording, only noise or music; please record "
                                 "your answer again somewhere quieter.")


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """16-bit mono WAV of float samples in [-1, 1] (the terminal's recordings)."""
    import wave

    pcm = (np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()
