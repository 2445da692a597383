"""The coach: mock-interview sessions and daily questions, one call per user at a time.

Adapters call start/answer/hint/skip/reveal/stop/stats/daily with a UserRef and render the Replies.
Every attempt is committed to the store before the reply that reports it is handed out.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.core import render
from bot.core.bank import Bank, Entry
from bot.core.phases import Phase
from bot.core.ratelimit import RateLimiter
from bot.core.replies import Action, Reply, ReplyKind, UserRef
from bot.core.report import build_report
from bot.core.schedule import Scheduler
from bot.core.store.records import AttemptRecord, SessionRecord, Store
from bot.errors import CoachError

if TYPE_CHECKING:
    from bot.core.grading.grader import Grade, Grader

log = logging.getLogger(__name__)
QUESTION_ACTIONS = (Action.ANSWER, Action.HINT, Action.SKIP, Action.REVEAL, Action.STOP)
MAX_COUNT = 20
Prewarm = Callable[[UserRef, Entry, str], None]


class UserBusy(CoachError):
    """The user's previous call is still being handled."""


class Coach:
    """Sessions, grading flow and progress; platform-neutral."""

    def __init__(self, bank: Bank, grader: Grader, store: Store, scheduler: Scheduler, *,
                 prewarm: Prewarm | None = None, rate_limiter: RateLimiter | None = None,
                 follow_ups: bool = True, clock: Callable[[], datetime] | None = None) -> None:
        self.bank = bank
        self.grader = grader
        self.store = store
        self.scheduler = scheduler
        self.prewarm = prewarm
        self.rate_limiter = rate_limiter or RateLimiter()
        self.follow_ups = follow_ups
        self.clock = clock or (lambda: datetime.now(UTC))
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    # ------------------------------------------------------------------ locking

    def _lock(self, user: UserRef) -> threading.Lock:
        with self._guard:
            return self._locks[user.key]

    def _exclusive(self, user: UserRef) -> threading.Lock:
        lock = self._lock(user)
        if not lock.acquire(timeout=0.05):
            raise UserBusy("I'm still working on your previous message; one moment.")
        return lock

    # ------------------------------------------------------------------ sessions

    def start(self, user: UserRef, *, topic: str | None = None, count: int = 5,
              channel: str | None = None) -> list[Reply]:
        """Open a mock interview of `count` questions (closing any open one) and show the first question."""
        topic = (topic or "").strip().lower() or None
        if topic and topic not in self.bank.topics():
            return [_error(f"There is no topic '{topic}'. Topics: {', '.join(self.bank.topics())}.")]
        count = max(1, min(int(count or 5), MAX_COUNT))
        lock = self._exclusive(user)
        try:
            self.store.get_or_create_user(user)
            ids = self.scheduler.pick_session_questions(user, count, topic=topic, now=self.clock())
            if not ids:
                return [_error("No questions are available for that choice.")]
            session = self.store.create_session(user, ids, topic=topic, channel=channel)
            intro = Reply(ReplyKind.INFO, f"Mock interview: {len(ids)} question{'s' if len(ids) > 1 else ''}"
                          f"{' on ' + topic if topic else ''}. Answer in your own words; ask for a hint, skip, "
                          "or reveal an example answer at any time.", data={"session_id": session.id})
            return [intro, self._question_reply(session)]
        finally:
            lock.release()

    def current(self, user: UserRef) -> Reply | None:
        """The question the user's open session waits on (used to resume after a restart)."""
        session = self.store.open_session(user)
        if session is None:
            return None
        if session.phase is Phase.AWAITING_FOLLOW_UP and session.follow_up:
            return self._follow_up_reply(session, session.follow_up["text"])
        return self._question_reply(session)

    def open_session(self, user: UserRef) -> SessionRecord | None:
        """The user's open session, if any."""
        return self.store.open_session(user)

    def _question_reply(self, session: SessionRecord) -> Reply:
        entry = self.bank.get(session.current_question_id or "")
        number, total = session.position + 1, len(session.question_ids)
        if self.prewarm is not None:
            self.prewarm(session.user, entry, f"s{session.id}")
        return Reply(ReplyKind.QUESTION, render.question_text(entry, number, total), QUESTION_ACTIONS,
                     data=render.question_data(entry, number, total, session.id))

    def _follow_up_reply(self, session: SessionRecord, text: str) -> Reply:
        qid = session.current_question_id
        return Reply(ReplyKind.FOLLOW_UP, f"Follow-up: {text}", (Action.ANSWER, Action.SKIP, Action.STOP),
                     data={"question_id": qid, "follow_up": text, "session_id": session.id,
                           "target_point": (session.follow_up or {}).get("target_point")})

    # ------------------------------------------------------------------ answering

    def answer(self, user: UserRef, text: str, *, use_llm: bool = True,
               on_token: Callable[[str], None] | None = None) -> Iterator[Reply]:
        """Grade an answer: the score (committed) first, then the critique, then a follow-up or the next question."""
        wait = self.rate_limiter.check(user.key)
        if wait:
            seconds = max(1, round(wait))
            unit = "seconds" if seconds > 1 else "second"
            yield _error(f"You're sending answers very quickly; please wait {seconds} {unit} and try again.")
            return
        lock = self._exclusive(user)
        try:
            session = self.store.open_session(user)
            if session is None:
                yield _error("There is no interview in progress; start one first.")
                return
            if session.phase is Phase.AWAITING_FOLLOW_UP and session.follow_up:
                yield from self._answer_follow_up(session, text)
            else:
                yield from self._answer_main(session, text, use_llm, on_token)
        finally:
            lock.release()

    def _answer_main(self, session: SessionRecord, text: str, use_llm: bool,
                     on_token: Callable[[str], None] | None) -> Iterator[Reply]:
        entry = self.bank.get(session.current_question_id or "")
        hinted = session.hints_used.get(entry.id, 0) > 0
        grade = self.grader.rubric_grade(entry, text)
        attempt = self.store.add_attempt(self._attempt(session, entry.id, text, grade, hinted=hinted))
        yield Reply(ReplyKind.SCORE, render.score_text(grade.view()),
                    data=grade.to_json() | {"attempt_id": attempt.id, "session_id": session.id})
        if use_llm and self.grader.has_llm and not grade.flagged:
            grade = self._critique(session, entry, text, grade, attempt, on_token)
        else:
            grade = self.grader.rubric_feedback(entry, grade)
            attempt.feedback = list(grade.feedback)
            self.store.update_attempt(attempt)
        self.scheduler.record(session.user, entry.id, grade.score, hinted=hinted, when=self.clock())
        data = grade.to_json() | {"strengths": grade.strengths, "improvements": grade.improvements,
                                  "revised": bool(grade.critique is not None and grade.critique.revised)}
        yield Reply(ReplyKind.CRITIQUE, render.critique_text(data), data=data)
        if self.follow_ups and grade.follow_up and not grade.flagged:
            session.phase = Phase.AWAITING_FOLLOW_UP
            session.follow_up = {"text": grade.follow_up, "target_point": grade.follow_up_point}
            self.store.save_session(session)
            yield self._follow_up_reply(session, grade.follow_up)
            return
        yield from self._advance(session)

    def _critique(self, session: SessionRecord, entry: Entry, text: str, grade: Grade, attempt: AttemptRecord,
                  on_token: Callable[[str], None] | None) -> Grade:
        """The model's critique; the attempt is updated with the final score and feedback."""
        # on_token gets the critique's prose as the model writes it (the follow-up is checked first, then asked).
        final = self.grader.critique(entry, text, grade, on_token=on_token, session=f"s{session.id}")
        attempt.score = final.score
        attempt.feedback = list(final.feedback)
        attempt.key_points = [p for p in final.to_json()["key_points"]]
        attempt.llm = final.llm
        self.store.update_attempt(attempt)
        return final

    def _answer_follow_up(self, session: SessionRecord, text: str) -> Iterator[Reply]:
        entry = self.bank.get(session.current_question_id or "")
        follow = session.follow_up or {}
        grade = self.grader.grade_follow_up(entry, follow.get("target_point"), text, follow.get("text", ""))
        attempt = self.store.add_attempt(self._attempt(session, entry.id, text, grade, follow_up=True))
        yield Reply(ReplyKind.SCORE, render.score_text(grade.view()),
                    data=grade.to_json() | {"attempt_id": attempt.id, "session_id": session.id,
                                            "follow_up": True})
        yield from self._advance(session)

    def _attempt(self, session: SessionRecord, qid: str, text: str, grade: Grade, *, hinted: bool = False,
                 follow_up: bool = False) -> AttemptRecord:
        data = grade.to_json()
        return AttemptRecord(user=session.user, question_id=qid, score=grade.score, answer=text[:20000],
                             session_id=session.id, is_follow_up=follow_up, key_points=data["key_points"],
                             feedback=list(grade.feedback), hinted=hinted, llm=grade.llm)

    def _advance(self, session: SessionRecord) -> Iterator[Reply]:
        """Move to the next question, or finish with the report card."""
        session.position += 1
        session.follow_up = None
        if session.position >= len(session.question_ids):
            session.phase = Phase.FINISHED
            session.finished = self.clock()
            self.store.save_session(session)
            yield self._report(session)
            return
        session.phase = Phase.AWAITING_ANSWER
        self.store.save_session(session)
        yield self._question_reply(session)

    # ------------------------------------------------------------------ hint, skip, reveal, stop

    def hint(self, user: UserRef) -> Reply:
        """A nudge toward a point not yet covered, without giving it away."""
        with self._held(user) as session:
            if session is None:
                return _error("There is no interview in progress; start one first.")
            entry = self.bank.get(session.current_question_id or "")
            shown = session.hints_used.get(entry.id, 0)
            text = self.grader.hint(entry, shown)
            session.hints_used[entry.id] = shown + 1
            self.store.save_session(session)
            return Reply(ReplyKind.HINT, f"Hint: {text}", QUESTION_ACTIONS,
                         data={"question_id": entry.id, "hint": text, "hints_used": shown + 1})

    def skip(self, user: UserRef) -> list[Reply]:
        """Skip the question (or the pending follow-up) and move on."""
        with self._held(user) as session:
            if session is None:
                return [_error("There is no interview in progress; start one first.")]
            entry = self.bank.get(session.current_question_id or "")
            replies = [Reply(ReplyKind.SKIPPED, "Skipped." if session.phase is Phase.AWAITING_ANSWER
                             else "Follow-up skipped.", data={"question_id": entry.id})]
            if session.phase is Phase.AWAITING_ANSWER:
                self._record_skip(session, entry)
            return replies + list(self._advance(session))

    def reveal(self, user: UserRef) -> list[Reply]:
        """Show the reference answer, labelled as an example; the question counts as skipped."""
        with self._held(user) as session:
            if session is None:
                return [_error("There is no interview in progress; start one first.")]
            entry = self.bank.get(session.current_question_id or "")
            points = "\n".join(f"• {p}" for p in entry.points)
            text = f"Example answer (one good answer among many):\n\n{entry.answer}\n\nKey points:\n{points}"
            replies = [Reply(ReplyKind.REVEAL, text, data={"question_id": entry.id, "answer": entry.answer,
                                                           "key_points": list(entry.points)})]
            if session.phase is Phase.AWAITING_ANSWER:
                self._record_skip(session, entry)
            return replies + list(self._advance(session))

    def _record_skip(self, session: SessionRecord, entry: Entry) -> None:
        points = [{"text": p, "covered": False, "similarity": 0.0, "evidence": None} for p in entry.points]
        self.store.add_attempt(AttemptRecord(user=session.user, question_id=entry.id, score=0, answer="",
                                             session_id=session.id, key_points=points, skipped=True))
        self.scheduler.record(session.user, entry.id, 0, skipped=True, when=self.clock())

    def stop(self, user: UserRef) -> Reply:
        """End the interview now and show the report card."""
        with self._held(user) as session:
            if session is None:
                return _error("There is no interview in progress.")
            session.phase = Phase.STOPPED
            session.finished = self.clock()
            self.store.save_session(session)
            return self._report(session)

    def _report(self, session: SessionRecord) -> Reply:
        attempts = [a for a in self.store.attempts(session.user) if a.session_id == session.id]
        report = build_report(session, attempts, self.bank)
        return Reply(ReplyKind.REPORT, render.report_text(report), (Action.START,), data=report)

    def _held(self, user: UserRef) -> _Held:
        return _Held(self, user)

    # ------------------------------------------------------------------ progress and topics

    def stats(self, user: UserRef, *, chart: bool = True) -> Reply:
        """Progress: attempts, averages by topic, trend, streak, due reviews, and a PNG chart."""
        from bot.core.charts import progress_chart
        from bot.core.stats import user_stats

        data = user_stats(self.store, user, now=self.clock(), bank=self.bank)
        image = progress_chart(data) if chart else None
        return Reply(ReplyKind.STATS, _stats_text(data), image=image, data=data)

    def topics(self) -> Reply:
        """The topics of the bank with their question counts."""
        counts = {t: len(self.bank.by_topic(t)) for t in self.bank.topics()}
        text = "Topics: " + ", ".join(f"{t} ({n})" for t, n in counts.items())
        return Reply(ReplyKind.INFO, text, data={"topics": counts})

    # ------------------------------------------------------------------ daily questions

    def set_daily(self, user: UserRef, on: bool, *, time: str | None = None, tz: str | None = None) -> Reply:
        """Turn the daily question on or off, optionally with a local time HH:MM and an IANA time zone."""
        fields: dict[str, Any] = {"daily_on": on}
        if time is not None:
            fields["daily_time"] = time
        if tz is not None:
            fields["time_zone"] = tz
        self.store.get_or_create_user(user)
        try:
            record = self.store.update_user(user, **fields)
        except ValueError as exc:
            return _error(str(exc))
        if not on:
            return Reply(ReplyKind.INFO, "Daily questions are off.", data={"daily_on": False})
        return Reply(ReplyKind.INFO, f"Daily questions are on: one a day at {record.daily_time} "
                     f"({record.time_zone}).", data={"daily_on": True, "daily_time": record.daily_time,
                                                     "time_zone": record.time_zone})

    def daily_question(self, user: UserRef, *, channel: str | None = None,
                       now: datetime | None = None) -> Reply | None:
        """Claim today's question (stored before it is sent) and open a one-question session for it.

        None when the user is in an interview (never interrupted; the scheduler tries again later), when today's
        question was already claimed or sent, or when nothing fits. After sending, call `daily_sent`.
        """
        lock = self._exclusive(user)
        try:
            if self.store.open_session(user) is not None:
                return None
            claimed = self.scheduler.daily_question(user, now=now or self.clock())
            if claimed is None:
                return None
            session = self.store.create_session(user, [claimed.entry.id], topic=None, channel=channel)
            session.extra["daily"] = claimed.local_date
            self.store.save_session(session)
            reply = self._question_reply(session)
            reply.data.update(daily=True, local_date=claimed.local_date)
            return reply
        finally:
            lock.release()

    def daily_sent(self, user: UserRef, local_date: str, *, channel: str | None = None,
                   message_ref: str | None = None) -> None:
        """Record that today's question reached the user."""
        self.store.mark_daily_sent(user, local_date, channel=channel, message_ref=message_ref)


class _Held:
    """Context manager: the user's lock and open session."""

    def __init__(self, coach: Coach, user: UserRef) -> None:
        self.coach, self.user = coach, user

    def __enter__(self) -> SessionRecord | None:
        self.lock = self.coach._exclusive(self.user)
        return self.coach.store.open_session(self.user)

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def _error(text: str) -> Reply:
    return Reply(ReplyKind.ERROR, text)


def _stats_text(data: dict[str, Any]) -> str:
    if not data.get("attempts"):
        return "No answers yet: start an interview to see your progress here."
    lines = [f"Answers: {data['attempts']} · average {data['average']}/100 · streak {data['streak']} "
             f"day{'s' if data['streak'] != 1 else ''} · reviews due {data['due_reviews']}"]
    if data.get("trend") is not None:
        lines.append(f"Trend: {data['trend']:+.0f} points (last 5 answers vs the 5 before)")
    for topic, avg in sorted(data.get("by_topic", {}).items(), key=lambda kv: kv[1]):
        lines.append(f"{topic}: {avg}/100")
    return "\n".join(lines)
