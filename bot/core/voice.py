"""Spoken answers: audio in, the transcript shown first, then the coach grades its text with the delivery beside.

An adapter hands `VoiceAnswers.answer` the audio bytes (and the file name or MIME type it has) and renders the
replies: TRANSCRIPT, then the usual SCORE, CRITIQUE, follow-up or next question; or one ERROR sentence for audio
that holds no answer, with nothing graded and the question still open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from bot.core.phases import Phase
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.core.speech.base import BadAudio, Transcriber, Transcript
from bot.core.speech.delivery import measure, target_for

if TYPE_CHECKING:
    from bot.core.coach import Coach
    from bot.core.speech.audio import AudioClip
    from bot.core.store.records import SessionRecord

OPEN_ACTIONS = (Action.ANSWER, Action.HINT, Action.SKIP, Action.REVEAL, Action.STOP)


def transcript_text(transcript: Transcript) -> str:
    """The transcript as shown before the score, so the user sees what was heard."""
    return f"I heard ({transcript.duration:.0f} s): “{transcript.text}”"


def _where(session: SessionRecord) -> tuple[int, int, str]:
    """What a recording answers: the session, the question's position and the phase (answer or follow-up)."""
    return session.id, session.position, session.phase.name


class VoiceAnswers:
    """Transcribes a recording on the speech worker and answers the open question with its text."""

    def __init__(self, coach: Coach, transcriber: Transcriber, *, max_seconds: float = 300.0,
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
        transcript = self.transcriber.transcribe(clip, user_key=user_key, prompt=question)
        return transcript, measure(transcript, target_for(kind, follow_up))

    def answer(self, user: UserRef, data: bytes | AudioClip, *, filename: str | None = None, mime: str | None = None,
               use_llm: bool = True, on_token: Callable[[str], None] | None = None) -> Iterator[Reply]:
        """TRANSCRIPT, then the coach's replies to its text; or one ERROR sentence and the question left open."""
        session = self.coach.open_session(user)
        if session is None:
            yield Reply(ReplyKind.ERROR, "There is no interview in progress; start one first.")
            return
        where = _where(session)
        entry = self.coach.bank.get(session.current_question_id or "")
        follow_up = session.phase is Phase.AWAITING_FOLLOW_UP
        try:
            clip = data if not isinstance(data, bytes | bytearray) else self.clip(bytes(data), filename=filename,
                                                                                    mime=mime)
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
            # A skip, stop or typed answer landed while the recording was being transcribed.
            yield Reply(ReplyKind.ERROR, "The question changed while your recording was being transcribed, so it "
                                         "was not graded.")
            return
        yield from self.coach.act(Request(user, Action.ANSWER, text=transcript.text, delivery=delivery),
                                  use_llm=use_llm, on_token=on_token)
