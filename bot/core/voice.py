"""Spoken answers: audio in, the transcript shown first, then the coach grades its text with the delivery beside.

Chat adapters put the message's files on `Request.uploads` and call `Coach.act`, which hands an answer with files to
`VoiceAnswers.answer_request`: the coach's rules (open question, stale turn, place, one action at a time) are checked
before anything is downloaded, the platform's stated size and length before the file is read, then the header, then
the speech model. The replies: TRANSCRIPT, then the usual SCORE, CRITIQUE, follow-up or next question; or one ERROR
sentence for a file that holds no answer, with nothing graded and the question still open. The terminal calls
`answer` with bytes or a recorded clip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.core.phases import Phase
from bot.core.replies import Action, Reply, ReplyKind, Request, Upload, UserRef, turn_token
from bot.core.speech.base import BadAudio, Transcriber, Transcript
from bot.core.speech.delivery import measure, target_for
from bot.core.text import as_text
from bot.errors import CoachError

if TYPE_CHECKING:
    from bot.core.coach import Coach
    from bot.core.speech.audio import AudioClip
    from bot.core.store.records import SessionRecord

log = logging.getLogger(__name__)
NOT_AUDIO = ("That file is not a recording, so there is nothing to grade: type your answer, or send a voice message "
             "or an audio file (wav, ogg/opus, mp3, m4a or webm).")
NO_SPEECH_MODEL = "Spoken answers are not available here; please type your answer."
NOT_FETCHED = "I couldn't fetch your recording; please send it again, or type your answer."
CHANGED = "The question changed while your recording was being transcribed, so it was not graded."
TEAM_TYPED = "Team answers are typed: write yours in words."
OPEN_ACTIONS = (Action.ANSWER, Action.HINT, Action.SKIP, Action.REVEAL, Action.STOP)


def transcript_text(transcript: Transcript) -> str:
    """The transcript as shown before the score, so the user sees what was heard."""
    return f"I heard ({transcript.duration:.0f} s): “{transcript.text}”"


def _where(session: SessionRecord) -> tuple[int, int, str]:
    """What a recording answers: the session, the question's position and the phase (answer or follow-up)."""
    return session.id, session.position, session.phase.name


class VoiceAnswers:
    """Transcribes a recording on the speech worker and answers the open question with its text."""

    def __init__(self, coach: Coach, transcriber: Transcriber | None, *, max_seconds: float = 300.0,
                 max_bytes: int = 25_000_000) -> None:
        self.coach = coach
        self.transcriber = transcriber
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes

    def clip(self, data: bytes, *, filename: str | None = None, mime: str | None = None) -> AudioClip:
        """The upload checked from its size and header (BadAudio when it cannot be an answer)."""
        from bot.core.speech.audio import load_clip

        return load_clip(data, filename=filename, mime=mime, max_seconds=self.max_seconds, max_bytes=self.max_bytes)

    def transcribe(self, clip: AudioClip, *, user_key: str | None = None, kind: str | None = None,
                   follow_up: bool = False, question: str | None = None) -> tuple[Transcript, dict[str, Any]]:
        """The transcript (the question primes the model's vocabulary) and its delivery (length judged against the
        question's kind)."""
        if self.transcriber is None:
            raise CoachError(NO_SPEECH_MODEL)
        transcript = self.transcriber.transcribe(clip, user_key=user_key, prompt=question)
        return transcript, measure(transcript, target_for(kind, follow_up))

    # ------------------------------------------------------------------ the chat platforms, through Coach.act

    def answer_request(self, request: Request, *, use_llm: bool = True,
                       on_token: Callable[[str], None] | None = None) -> Iterator[Reply]:
        """An answer that came with files: the first recording among them is the answer; typed words with other
        files are graded as text; files alone, none of them a recording, get one sentence (nothing graded)."""
        from bot.core.speech.audio import is_recording

        upload = next((u for u in request.uploads if is_recording(u.mime, u.filename)), None)
        if upload is None:
            if not as_text(request.text).strip():
                yield Reply(ReplyKind.ERROR, NOT_AUDIO)
                return
            yield from self.coach.act(replace(request, uploads=()), use_llm=use_llm, on_token=on_token)
            return
        yield from self._spoken(request, lambda: self._fetch(upload), use_llm, on_token)

    def _fetch(self, upload: Upload) -> AudioClip:
        """The upload downloaded and checked: the size and length the platform states first, then the bytes."""
        from bot.core.speech.audio import too_large, too_long

        if upload.size is not None and upload.size > self.max_bytes:
            raise too_large(upload.size, self.max_bytes)
        if upload.seconds is not None and upload.seconds > self.max_seconds:
            raise too_long(upload.seconds, self.max_seconds)
        try:
            data = upload.read(self.max_bytes)
        except CoachError:
            raise
        except Exception:  # noqa: BLE001 - a platform's download failing is one sentence; the details go to the log
            log.warning("downloading a recording failed", exc_info=True)
            raise BadAudio("download", NOT_FETCHED) from None
        return self.clip(data, filename=upload.filename, mime=upload.mime)

    # ------------------------------------------------------------------ the terminal

    def answer(self, user: UserRef, data: bytes | AudioClip, *, filename: str | None = None, mime: str | None = None,
               use_llm: bool = True, on_token: Callable[[str], None] | None = None) -> Iterator[Reply]:
        """TRANSCRIPT, then the coach's replies to its text; or one ERROR sentence and the question left open."""

        def get_clip() -> AudioClip:
            if isinstance(data, bytes | bytearray):
                return self.clip(bytes(data), filename=filename, mime=mime)
            return data

        try:
            yield from self._spoken(Request(user, Action.ANSWER), get_clip, use_llm, on_token)
        except CoachError as exc:
            yield Reply(ReplyKind.ERROR, str(exc))

    # ------------------------------------------------------------------ one flow for both

    def _spoken(self, request: Request, get_clip: Callable[[], AudioClip], use_llm: bool,
                on_token: Callable[[str], None] | None) -> Iterator[Reply]:
        """Check the coach's rules, fetch and transcribe while holding the user's turn, show the transcript, grade."""
        from bot.core.team import is_team_turn

        if is_team_turn(request.turn):
            raise CoachError(TEAM_TYPED)
        if self.transcriber is None:
            raise CoachError(NO_SPEECH_MODEL)
        user = request.user
        # Held while downloading and transcribing: a typed answer or a button meanwhile is refused as busy.
        with self.coach.gate.hold(user):
            session = self.coach.session_for(request)
            where = _where(session)
            entry = self.coach.bank.get(session.current_question_id or "")
            follow_up = session.phase is Phase.AWAITING_FOLLOW_UP
            try:
                clip = get_clip()
                asked = (session.follow_up or {}).get("text") if follow_up else None
                transcript, delivery = self.transcribe(clip, user_key=user.key, kind=entry.kind, follow_up=follow_up,
                                                       question=" ".join(q for q in (entry.question, asked) if q))
            except BadAudio as exc:
                yield Reply(ReplyKind.ERROR, str(exc), OPEN_ACTIONS,
                            data={"bad_audio": exc.reason, "question_id": entry.id, "session_id": session.id})
                return
        yield Reply(ReplyKind.TRANSCRIPT, transcript_text(transcript),
                    data={"transcript": transcript.text, "delivery": delivery, "question_id": entry.id,
                          "session_id": session.id, "speech": transcript.to_json()})
        now = self.coach.open_session(user)
        if now is None or _where(now) != where:
            # A skip, stop or typed answer landed between the transcript and the grading.
            yield Reply(ReplyKind.ERROR, CHANGED)
            return
        # The turn pins the question the recording answered: the coach refuses it if the question moved on since.
        graded = Request(user, Action.ANSWER, text=transcript.text, delivery=delivery, place=request.place,
                         turn=turn_token(session.id, entry.id), space=request.space)
        yield from self.coach.act(graded, use_llm=use_llm, on_token=on_token)
