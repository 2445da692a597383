"""Real audio for the speech tests and the voice benchmark: espeak-ng speech, converted with PyAV; tones and noise."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import yaml

DATA = Path(__file__).resolve().parent / "data"
CACHE = Path(os.environ.get("COACH_TEST_AUDIO_CACHE", Path.home() / ".cache" / "interview-coach-audio"))
# container format and codec of each file kind the coach accepts
FORMATS = {"wav": ("wav", "pcm_s16le"), "ogg": ("ogg", "libopus"), "mp3": ("mp3", "libmp3lame"),
           "m4a": ("ipod", "aac"), "webm": ("webm", "libopus")}


def espeak_path() -> str | None:
    """espeak-ng's path, installing Debian's package first when apt is usable (as scripts/services does)."""
    found = shutil.which("espeak-ng")
    if found or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "install", "-y", "-qq", "espeak-ng"],
                    ["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "espeak-ng"]):
        subprocess.run(command, env=env, capture_output=True, timeout=600, check=False)
        if shutil.which("espeak-ng"):
            break
    return shutil.which("espeak-ng")


def speak(text: str, voice: str = "en-us", speed: int = 160) -> bytes:
    """WAV bytes of espeak-ng speaking the text (cached on disk by text, voice and speed)."""
    key = hashlib.sha256(f"{voice}|{speed}|{text}".encode()).hexdigest()[:24]
    path = CACHE / f"{key}.wav"
    if path.is_file():
        return path.read_bytes()
    exe = espeak_path()
    if exe is None:
        raise RuntimeError("espeak-ng is not installed and apt is not usable")
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(tmp), text], check=True, capture_output=True,
                   timeout=120)
    tmp.replace(path)
    return path.read_bytes()


def decode_any(data: bytes) -> tuple[np.ndarray, int]:
    """Float32 mono samples and their rate, from any file PyAV reads."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [out.to_ndarray().reshape(-1) for frame in container.decode(stream)
                  for out in resampler.resample(frame)]
    return np.concatenate(chunks), rate


def encode(samples: np.ndarray, rate: int, kind: str, bit_rate: int | None = None) -> bytes:
    """Encode float mono samples as a file of `kind` (wav, ogg, mp3, m4a, webm) with PyAV."""
    import av

    container_format, codec = FORMATS[kind]
    if codec in ("libopus",) and rate not in (8000, 12000, 16000, 24000, 48000):
        samples, rate = resample(samples, rate, 48000), 48000
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as out:
        stream: Any = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        if bit_rate:
            stream.bit_rate = bit_rate
        # PyAV's encoder converts s16 frames to the codec's own sample format and frame size.
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
        for start in range(0, len(pcm), 4096):
            frame = av.AudioFrame.from_ndarray(pcm[start:start + 4096].reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear resampling (good enough for test audio)."""
    if rate == target:
        return samples
    n = int(len(samples) * target / rate)
    return np.interp(np.linspace(0, len(samples) - 1, n), np.arange(len(samples)), samples).astype(np.float32)


def spoken(text: str, kind: str = "wav", voice: str = "en-us", speed: int = 160) -> bytes:
    """The text spoken by espeak-ng, as a file of `kind`."""
    wav = speak(text, voice, speed)
    if kind == "wav":
        return wav
    samples, rate = decode_any(wav)
    return encode(samples, rate, kind)


def clips(which: str | None = None) -> list[dict[str, Any]]:
    """The spoken answers of tests/data/voice_clips.yaml (`which`: "dev", "holdout" or all)."""
    items = yaml.safe_load((DATA / "voice_clips.yaml").read_text(encoding="utf-8"))["clips"]
    return [c for c in items if which is None or c["set"] == which]


def clip_audio(clip: dict[str, Any]) -> bytes:
    """A clip of voice_clips.yaml as its file."""
    return spoken(" ".join(clip["text"].split()), clip["format"], clip["voice"], clip["speed"])


# ---- audio that is not an answer ---------------------------------------------------------------------------------

RATE = 16000


def silence(seconds: float = 6.0) -> np.ndarray:
    """Digital silence."""
    return np.zeros(int(seconds * RATE), np.float32)


def noise(seconds: float = 6.0, level: float = 0.2, seed: int = 0) -> np.ndarray:
    """White noise."""
    return np.random.default_rng(seed).normal(0, level, int(seconds * RATE)).astype(np.float32)


def music(seconds: float = 8.0) -> np.ndarray:
    """A melody of plucked notes over a sustained chord: music, no words."""
    t = np.arange(int(seconds * RATE)) / RATE
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) * 0.1
    notes = [261.6, 293.7, 329.6, 349.2, 392.0, 440.0, 493.9, 523.3]
    step = RATE // 4
    melody = np.zeros_like(t)
    for i in range(len(t) // step):
        f = notes[(i * 3) % len(notes)]
        seg = np.arange(step) / RATE
        melody[i * step:(i + 1) * step] = 0.3 * np.sin(2 * np.pi * f * seg) * np.exp(-seg * 6)
    return (chord + melody).astype(np.float32)


def long_wav(minutes: float = 20.0, rate: int = 8000) -> bytes:
    """A real WAV file of `minutes` of quiet tone, 8-bit at 8 kHz so that 20 minutes stay under 10 MB."""
    import wave

    n = int(minutes * 60 * rate)
    t = np.arange(rate) / rate
    second = (128 + 20 * np.sin(2 * np.pi * 440 * t)).astype(np.uint8).tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(second * (n // rate))
    return buffer.getvalue()
