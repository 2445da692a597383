"""faster-whisper in-process: voice activity detection, language check, then words with timestamps."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from bot.core.speech.audio import SAMPLE_RATE, AudioClip, no_speech
from bot.core.speech.base import BadAudio, Transcript, Word

log = logging.getLogger(__name__)
ANSWER_LANGUAGE = "en"
# Language detection's probability of English. Measured on espeak-ng speech (tests/data/voice_clips.yaml and
# tests/test_speech_real.py): English clips 0.63-0.98, French, German, Spanish, Hindi and Klingon 0.008-0.131.
ENGLISH_SURE = 0.3         # at least this: decoded as English
ENGLISH_NONE = 0.1         # below this: refused before anything is decoded; in between, judged by the words
NAME_LANGUAGE = 0.8        # the refusal names the language only when the detection is this sure
LANGUAGE_REFUSE = 0.5      # a server's language label is trusted at this probability (or when it gives none)
UNINTELLIGIBLE = -1.0      # mean log-probability below this, on audio not clearly English: no answer in it
MIN_SPEECH_SECONDS = 0.3
TAIL_SECONDS = 2.0         # audio left after the last word that is checked for speech Whisper skipped
MAX_TAIL_ROUNDS = 3
# Whisper writes sounds it hears but cannot put in words as bracketed notes or music signs.
_NOT_WORDS = re.compile(r"\[[^\]]*\]|\([^)]*\)|[♪♫♬]+|\*[^*]*\*")
LANGUAGES = {"fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
             "ru": "Russian", "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "ar": "Arabic", "hi": "Hindi",
             "pl": "Polish", "tr": "Turkish", "sv": "Swedish", "uk": "Ukrainian", "cs": "Czech", "hu": "Hungarian",
             "fi": "Finnish", "da": "Danish", "no": "Norwegian", "el": "Greek", "he": "Hebrew", "ro": "Romanian",
             "vi": "Vietnamese", "id": "Indonesian", "th": "Thai", "fa": "Persian", "bn": "Bengali", "ta": "Tamil"}


def language_refusal(code: str | None) -> BadAudio:
    """The refusal of an answer in another language (the bank and its rubric are English)."""
    heard = (f"I heard {LANGUAGES[code]}" if code and code in LANGUAGES else
             "I couldn't recognise English in that recording")
    return BadAudio("language", f"{heard}, but the coach grades answers in English; please answer in English, or "
                                "type your answer.")


def clean_text(text: str) -> str:
    """The transcript's text without sound notes ("[Music]", "♪") and with single spaces."""
    return " ".join(_NOT_WORDS.sub(" ", text).split())


def cpu_compute_type(flags: str | None = None, supported: Collection[str] | None = None) -> str:
    """int8, except on a CPU with VNNI (AVX512-VNNI, AVX-VNNI or AMX), where CTranslate2's int8 kernels heard
    "training" as "trading" and "stable" as "table" (spoken and typed scores 17 points apart on a dev clip against
    9 with float32): int16 there, about 30 % slower than int8 and 12 % faster than float32 (round 2, session 11).
    Where this CTranslate2 build has no int16 kernels for the CPU (an AMD EPYC with VNNI), float32, the accurate one;
    `supported` is the build's CPU compute types (asked of CTranslate2 when None)."""
    if flags is None:
        try:
            flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            flags = ""
    wanted = "int16" if re.search(r"\b(?:avx512_vnni|avx_vnni|amx_int8)\b", flags) else "int8"
    if supported is None:
        try:
            import ctranslate2

            supported = set(ctranslate2.get_supported_compute_types("cpu"))
        except (ImportError, RuntimeError):
            return wanted
    return wanted if wanted in supported else "float32"


class FasterWhisperTranscriber:
    """A faster-whisper model folder (CTranslate2 format) on the CPU, int8 or int16 by the CPU (cpu_compute_type);
    one call at a time (use the worker)."""

    def __init__(self, model_dir: Path, *, cpu_threads: int = 2, compute_type: str | None = None, beam_size: int = 1,
                 name: str | None = None) -> None:
        from faster_whisper import WhisperModel

        compute_type = compute_type or cpu_compute_type()

        self.model_dir = Path(model_dir)
        self.name = name or self.model_dir.name
        self.beam_size = beam_size
        # local_files_only: a folder is loaded as it is; nothing is ever fetched from a model hub.
        self.model = WhisperModel(str(self.model_dir), device="cpu", compute_type=compute_type,
                                  cpu_threads=max(1, cpu_threads), local_files_only=True)
        self.multilingual = bool(self.model.model.is_multilingual)

    def _run(self, samples: Any, language: str | None, prompt: str | None,
             fallback: bool = True) -> tuple[Iterable[Any], Any]:
        # Without fallback, one greedy pass: audio that is probably not English must not loop through five
        # temperatures of hallucinated text (15 s for a French sentence) before it is refused.
        temperature = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] if fallback else [0.0]
        return self.model.transcribe(samples, language=language, task="transcribe", beam_size=self.beam_size,
                                     word_timestamps=True, vad_filter=True, condition_on_previous_text=False,
                                     temperature=temperature, initial_prompt=prompt or None)

    def transcribe(self, clip: AudioClip, *, user_key: str | None = None, prompt: str | None = None) -> Transcript:
        """The words of the clip; BadAudio for silence, noise or music, and for another language."""
        samples = clip.samples()
        # With language=None the model first detects it; the segments are decoded only when iterated, so a
        # clear refusal (no speech, another language) costs one encoder pass and no decoding.
        segments, info = self._run(samples, None if self.multilingual else ANSWER_LANGUAGE, prompt)
        if info.duration_after_vad < MIN_SPEECH_SECONDS:
            raise no_speech(samples)
        language, probability = info.language, float(info.language_probability)
        unsure = False
        if language != ANSWER_LANGUAGE:
            english = dict(info.all_language_probs or []).get(ANSWER_LANGUAGE, 0.0)
            if english < ENGLISH_NONE:
                raise language_refusal(language if probability >= NAME_LANGUAGE else None)
            # English is likely enough to try: decode as English; when unsure, judge by how well the words fit.
            unsure, probability = english < ENGLISH_SURE, english
            segments, info = self._run(samples, ANSWER_LANGUAGE, prompt, fallback=not unsure)
        kept, words = self._collect(segments, 0.0)
        if not words:
            raise no_speech(samples)
        kept, words = self._finish(samples, prompt, kept, words)
        text = clean_text(" ".join(s.text for s in kept))
        logprob = sum(s.avg_logprob * max(1, len(s.words or [])) for s in kept) / max(1, sum(
            max(1, len(s.words or [])) for s in kept))
        if unsure and logprob < UNINTELLIGIBLE:
            raise language_refusal(None)
        language = ANSWER_LANGUAGE if self.multilingual else language
        return Transcript(text=text, words=tuple(words), duration=float(info.duration), language=language,
                          language_probability=probability, speech_seconds=float(info.duration_after_vad),
                          extra={"avg_logprob": round(logprob, 3), "model": self.name})

    @staticmethod
    def _collect(segments: Iterable[Any], offset: float) -> tuple[list[Any], list[Word]]:
        """Segments that hold speech, and their words (times shifted by offset seconds)."""
        kept = [s for s in segments if not (s.no_speech_prob > 0.6 and s.avg_logprob < UNINTELLIGIBLE)]
        words = [Word(w.word.strip(), offset + float(w.start), offset + float(w.end), float(w.probability))
                 for s in kept for w in (s.words or []) if clean_text(w.word)]
        return kept, words

    def _finish(self, samples: Any, prompt: str | None, kept: list[Any],
                words: list[Word]) -> tuple[list[Any], list[Word]]:
        """Transcribe speech left after the last word: Whisper sometimes ends a window early and drops the rest
        (one clip lost 14 of its 22 seconds), which would grade half an answer."""
        for _ in range(MAX_TAIL_ROUNDS):
            start = words[-1].end
            if len(samples) / SAMPLE_RATE - start < TAIL_SECONDS:
                break
            segments, info = self._run(samples[int(start * SAMPLE_RATE):], ANSWER_LANGUAGE, prompt)
            if info.duration_after_vad < MIN_SPEECH_SECONDS:
                break  # only silence after the last word
            more_kept, more_words = self._collect(segments, start)
            if not more_words:
                break
            kept, words = kept + more_kept, words + more_words
        return kept, words

    def describe(self) -> dict[str, Any]:
        """What doctor and the benchmarks show."""
        return {"name": self.name, "path": str(self.model_dir), "multilingual": self.multilingual,
                "beam_size": self.beam_size}
