"""The coach: every user action goes through `act`, one at a time per user, and its replies come back in order.

Adapters turn platform events into `Request`s and render the `Reply`s; every product rule (busy users, stale
buttons, empty answers, topics, daily settings) is checked here once. Every attempt is committed to the store
before the reply that reports it is handed out.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core import render
from bot.core.access import Access
from bot.core.account import Account
from bot.core.bank import Bank, Entry
from bot.core.busy import Gate
from bot.core.decks import Decks
from bot.core.export import DataOut
from bot.core.flags import Flags
from bot.core.grading import guards
from bot.core.grading.language import foreign
from bot.core.interviewer import NO_HELP, Interviewer
from bot.core.modes import Mode
from bot.core.phases import Phase
from bot.core.ratelimit import RateLimiter
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef, count_problem, short_turn, turn_token
from bot.core.report import REVEALED_WORD, build_report, mark_passed
from bot.core.schedule import Scheduler
from bot.core.store.records import AttemptRecord, SessionRecord, Store
from bot.core.team import Teams, is_team_turn
from bot.core.text import as_text, normalise, plural, split_sentences
from bot.core.voice import VoiceAnswers
from bot.errors import FAILED, USER_BUSY, CoachError

if TYPE_CHECKING:
    from bot.core.grading.grader import Grade, Grader
    from bot.core.speech.base import Transcriber

log = logging.getLogger(__name__)
QUESTION_ACTIONS = (Action.ANSWER, Action.HINT, Action.SKIP, Action.REVEAL, Action.STOP, Action.FLAG)
FOLLOW_UP_ACTIONS = (Action.ANSWER, Action.SKIP, Action.STOP)
EVENT_MEMORY = timedelta(hours=1)   # platforms stop re-delivering an event after minutes
NO_SESSION = "No question is waiting for an answer: there is no interview in progress; start one first."
STALE = "That question is no longer open; answer the latest one."
EMPTY = "Your answer is empty; write it in your own words."
FILES_ONLY = "I can only grade text: write your answer in words (a file or an image cannot be graded)."
Prewarm = Callable[[UserRef, Entry, str], None]
TokenSink = Callable[[str], None]


class Refused(CoachError):
    """An action the coach turns down with one sentence; nothing was changed."""


def is_current(turn: str, session: SessionRecord) -> bool:
    """Whether a token made for a question (in full or shortened) names the session's current one."""
    token = turn_token(session.id, session.current_question_id or "")
    return turn in (token, short_turn(token))


class Coach:
    """Sessions, grading flow, progress and daily settings; platform-neutral."""

    def __init__(self, bank: Bank, grader: Grader, store: Store, scheduler: Scheduler, *,
                 prewarm: Prewarm | None = None, rate_limiter: RateLimiter | None = None,
                 follow_ups: bool = True, clock: Callable[[], datetime] | None = None,
                 gate: Gate | None = None, access: Access | None = None, interviewer_seconds: int = 240,
                 speech: Transcriber | None = None, max_audio_seconds: float = 300.0,
                 max_audio_bytes: int = 25_000_000) -> None:
        self.bank = bank
        self.grader = grader
        self.store = store
        self.scheduler = scheduler
        self.prewarm = prewarm
        self.rate_limiter = rate_limiter or RateLimiter()
        self.follow_ups = follow_ups
        self.clock = clock or (lambda: datetime.now(UTC))
        self.gate = gate or Gate()
        self.id = uuid.uuid4().hex   # this process: it may take over its own unsent daily claims at once
        self.access = access or Access()
        self.flags, self.teams, self.data = Flags(self), Teams(self), DataOut(self)
        self.account = Account(self)
        self.decks = Decks(bank, store, self.access.may_manage)
        self.interviewer = Interviewer(self, interviewer_seconds)
        self.voice = VoiceAnswers(self, speech, max_seconds=max_audio_seconds, max_bytes=max_audio_bytes)

    # ------------------------------------------------------------------ the one entry point

    def act(self, request: Request, *, on_token: TokenSink | None = None, use_llm: bool = True) -> Iterator[Reply]:
        """Do one action; its replies in order. A refusal or a failure is one ERROR reply, never an exception."""
        try:
            if request.action is Action.ANSWER and is_team_turn(request.turn):
                yield from self.teams.answer(request, on_token, use_llm)
            elif request.action is Action.ANSWER and request.uploads:   # a recording, or files with the words
                yield from self.voice.answer_request(request, use_llm=use_llm, on_token=on_token)
            elif request.action is Action.ANSWER:
                yield from self._answer(request, on_token, use_llm)
            else:
                yield from self._actions[request.action](request)
        except CoachError as exc:
            yield _error(str(exc))
        except Exception:  # a bug must not leave the user in silence; the details go to the log
            log.exception("%s for %s failed", request.action.value, request.user.key)
            yield _error(FAILED)

    @property
    def _actions(self) -> dict[Action, Callable[[Request], Iterator[Reply]]]:
        return {Action.START: self._start, Action.HINT: self._hint, Action.SKIP: self._skip,
                Action.REVEAL: self._reveal, Action.STOP: self._stop, Action.DECK: self.decks.act,
                **self.account.actions(), **self.flags.actions(), **self.teams.actions(), **self.data.actions()}

    @contextmanager
    def reserve(self, user: UserRef) -> Iterator[Reply | None]:
        """Hold the user's turn while an adapter queues and runs one request; gives the busy reply if already held."""
        if not self.gate.reserve(user):
            yield _error(USER_BUSY)
            return
        try:
            yield None
        finally:
            self.gate.release(user)

    @contextmanager
    def _open(self, request: Request) -> Iterator[SessionRecord]:
        """The user's open session, held; refused when there is none or the request was made for another turn."""
        with self.gate.hold(request.user):
            yield self.session_for(request)

    def session_for(self, request: Request) -> SessionRecord:
        """The open session a request acts on (the caller holds the user); Refused when none, stale or elsewhere."""
        session = self.store.open_session(request.user)
        if session is None:
            raise Refused(STALE if request.turn is not None else NO_SESSION)
        elsewhere = request.place is not None and session.channel is not None and request.place != session.channel
        if elsewhere or (request.turn is not None and not is_current(request.turn, session)):
            raise Refused(STALE)
        return session

    # ------------------------------------------------------------------ queries

    def current(self, user: UserRef) -> Reply | None:
        """The question the user's open session waits on (used to resume after a restart)."""
        session = self.store.open_session(user)
        if session is None:
            return None
        if session.phase is Phase.AWAITING_FOLLOW_UP and session.follow_up:
            if session.mode is Mode.INTERVIEWER:
                return self.interviewer.probe_reply(session)
            return self._follow_up_reply(session, session.follow_up["text"])
        return self.question_reply(session)

    def open_session(self, user: UserRef) -> SessionRecord | None:
        """The user's open session, if any."""
        return self.store.open_session(user)

    def topic_counts(self, user: UserRef | None = None, space: str | None = None) -> dict[str, int]:
        """The topics of the bank (of the user's deck, given a user) with their question counts."""
        bank = self.decks.resolve(user, space).bank if user is not None else self.bank
        return {t: len(bank.by_topic(t)) for t in bank.topics()}

    def topic_problem(self, topic: str | None, bank: Bank | None = None) -> str | None:
        """One sentence when the topic is not one of the bank's (or of one deck's), else None."""
        topic, topics = (topic or "").strip().lower(), (bank or self.bank).topics()
        if topic and topic not in topics:
            return f"There is no topic '{topic}'. Topics: {', '.join(topics)}."
        return None

    def first_delivery(self, event_id: str) -> bool:
        """True the first time a platform event id is seen (a retried delivery is False)."""
        return self.store.claim_event(event_id)

    def upkeep(self, now: datetime) -> None:
        """Periodic housekeeping: forget event ids older than platforms retry; take in reviewers' new fixes."""
        self.store.prune_events(now - EVENT_MEMORY)
        self.flags.refresh()

    # ------------------------------------------------------------------ sessions

    def _start(self, request: Request) -> Iterator[Reply]:
        """Open a mock interview of `count` questions (closing any open one) and show the first question."""
        mode = Mode.parse(request.mode)
        topic = (request.topic or "").strip().lower() or None
        count = int(request.count or 5)
        if count_problem(count):
            raise Refused(str(count_problem(count)))
        user = request.user
        with self.gate.hold(user):
            self.store.get_or_create_user(user)
            self.decks.remember_space(user, request.space)
            deck = self.decks.resolve(user, request.space, request.deck)
            problem = self.topic_problem(topic, deck.bank)
            if problem:
                raise Refused(problem)
            scheduler = self.decks.scheduler(self.scheduler, deck)
            pool: list[str] = []
            if mode is Mode.INTERVIEWER:
                ids, pool = self.interviewer.plan(scheduler, user, count, topic)
            else:
                ids = scheduler.pick_session_questions(user, count, topic=topic, now=self.clock())
            if not ids:
                raise Refused("No questions are available for that choice.")
            session = self.store.create_session(user, ids, topic=topic, channel=request.place, deck=deck.name,
                                                mode=mode)
            if deck.note:
                yield Reply(ReplyKind.INFO, deck.note, data={"deck": deck.name})
            if mode is Mode.INTERVIEWER:
                yield from self.interviewer.begin(session, pool)
                return
            source = (f" on {topic}" if topic else "") + (f" from the deck {deck.name!r}" if deck.name else "")
            yield Reply(ReplyKind.INFO, f"Mock interview: {plural(len(ids), 'question')}"
                        f"{source}. Answer in your own words; ask for a hint, skip, "
                        "or reveal an example answer at any time.", data={"session_id": session.id})
            yield self.question_reply(session)

    def question_reply(self, session: SessionRecord) -> Reply:
        """The session's current question; the model starts reading its fixed prompt meanwhile."""
        if session.mode is Mode.INTERVIEWER:
            return self.interviewer.question_reply(session)
        entry = self.bank.get(session.current_question_id or "")
        number, total = session.position + 1, len(session.question_ids)
        if self.prewarm is not None:
            self.prewarm(session.user, entry, f"s{session.id}")
        return Reply(ReplyKind.QUESTION, render.question_text(entry, number, total), QUESTION_ACTIONS,
                     data=render.question_data(entry, number, total, session.id))

    def _follow_up_reply(self, session: SessionRecord, text: str) -> Reply:
        qid = session.current_question_id
        return Reply(ReplyKind.FOLLOW_UP, f"Follow-up: {text}", FOLLOW_UP_ACTIONS,
                     data={"question_id": qid, "follow_up": text, "session_id": session.id,
                           "target_point": (session.follow_up or {}).get("target_point")})

    # ------------------------------------------------------------------ answering

    def _answer(self, request: Request, on_token: TokenSink | None, use_llm: bool) -> Iterator[Reply]:
        """Grade an answer: the score (committed) first, then the critique, then a follow-up or the next question."""
        wait = self.rate_limiter.check(request.user.key)
        if wait:
            seconds = max(1, round(wait))
            raise Refused(f"You're sending answers very quickly; please wait "
                          f"{plural(seconds, 'second')} and try again.")
        text = as_text(request.text)  # answers are text: bytes an adapter let through become U+FFFD, never a crash
        with self._open(request) as session:
            if not text.strip():
                raise Refused(FILES_ONLY if request.files else EMPTY)
            # a question back to the coach, or an answer in another language, is not an attempt: nothing is recorded
            # and the question stays open
            if guards.asked_back(split_sentences(normalise(text))):
                raise Refused(guards.MESSAGES["asked"])
            if foreign(normalise(text)):
                raise Refused(guards.MESSAGES["language"])
            if session.mode is Mode.INTERVIEWER:
                yield from self.interviewer.answer(session, text)
            elif session.phase is Phase.AWAITING_FOLLOW_UP and session.follow_up:
                yield from self._answer_follow_up(session, text, request.delivery)
            else:
                yield from self._answer_main(session, text, use_llm, on_token, request.delivery)

    def _answer_main(self, session: SessionRecord, text: str, use_llm: bool,
                     on_token: TokenSink | None, delivery: dict[str, Any] | None = None) -> Iterator[Reply]:
        entry = self.bank.get(session.current_question_id or "")
        hinted = session.hints_used.get(entry.id, 0) > 0
        grade = self.grader.rubric_grade(entry, text)
        attempt = self.store.add_attempt(self._attempt(session, entry.id, text, grade, hinted=hinted,
                                                       delivery=delivery))
        yield Reply(ReplyKind.SCORE, render.score_text(grade.view(), delivery),
                    data=grade.to_json() | {"attempt_id": attempt.id, "session_id": session.id}
                    | ({"delivery": delivery} if delivery else {}))
        if use_llm and self.grader.has_llm and not grade.flagged:
            grade = self._critique(session, entry, text, grade, attempt, on_token)
        else:
            grade = self.grader.rubric_feedback(entry, grade)
            attempt.feedback = list(grade.feedback)
            self.store.update_attempt(attempt)
        self.scheduler.record(session.user, entry.id, grade.score, hinted=hinted, when=self.clock())
        data = grade.view() | {"strengths": grade.strengths, "improvements": grade.improvements,
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
                  on_token: TokenSink | None) -> Grade:
        """The model's critique; the attempt is updated with the final score and feedback."""
        # on_token gets the critique's prose as the model writes it (the follow-up is checked first, then asked).
        final = self.grader.critique(entry, text, grade, on_token=on_token, session=f"s{session.id}")
        attempt.score = final.score
        attempt.feedback = list(final.feedback)
        attempt.key_points = [p for p in final.to_json()["key_points"]]
        attempt.llm = final.llm
        self.store.update_attempt(attempt)
        return final

    def _answer_follow_up(self, session: SessionRecord, text: str,
                          delivery: dict[str, Any] | None = None) -> Iterator[Reply]:
        entry = self.bank.get(session.current_question_id or "")
        follow = session.follow_up or {}
        grade = self.grader.grade_follow_up(entry, follow.get("target_point"), text, follow.get("text", ""))
        attempt = self.store.add_attempt(self._attempt(session, entry.id, text, grade, follow_up=True,
                                                       delivery=delivery))
        yield Reply(ReplyKind.SCORE, render.score_text(grade.view(), delivery),
                    data=grade.to_json() | {"attempt_id": attempt.id, "session_id": session.id,
                                            "follow_up": True} | ({"delivery": delivery} if delivery else {}))
        yield from self._advance(session)

    def _attempt(self, session: SessionRecord, qid: str, text: str, grade: Grade, *, hinted: bool = False,
                 follow_up: bool = False, delivery: dict[str, Any] | None = None,
                 member: UserRef | None = None) -> AttemptRecord:
        data = grade.to_json()
        return AttemptRecord(user=member or session.user, question_id=qid,
                             entry_hash=self.bank.get(qid).content_hash(), score=grade.score, answer=text[:20000],
                             session_id=session.id, is_follow_up=follow_up, key_points=data["key_points"],
                             feedback=list(grade.feedback), hinted=hinted, llm=grade.llm, delivery=delivery)

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
        yield self.question_reply(session)

    # ------------------------------------------------------------------ hint, skip, reveal, stop

    def _hint(self, request: Request) -> Iterator[Reply]:
        """A nudge toward a point not yet covered, without giving it away."""
        with self._open(request) as session:
            if session.mode is Mode.INTERVIEWER:
                raise Refused(NO_HELP)
            entry = self.bank.get(session.current_question_id or "")
            shown = session.hints_used.get(entry.id, 0)
            text = self.grader.hint(entry, shown)
            session.hints_used[entry.id] = shown + 1
            self.store.save_session(session)
            yield Reply(ReplyKind.HINT, f"Hint: {text}", QUESTION_ACTIONS,
                        data={"question_id": entry.id, "hint": text, "hints_used": shown + 1,
                              "session_id": session.id})

    def _skip(self, request: Request) -> Iterator[Reply]:
        """Skip the question (or the pending follow-up) and move on."""
        with self._open(request) as session:
            if session.mode is Mode.INTERVIEWER:
                yield from self.interviewer.skip(session)
                return
            entry = self.bank.get(session.current_question_id or "")
            main = session.phase is Phase.AWAITING_ANSWER
            yield Reply(ReplyKind.SKIPPED, "Skipped." if main else "Follow-up skipped.",
                        data={"question_id": entry.id})
            if main:
                self._record_skip(session, entry)
            yield from self._advance(session)

    def _reveal(self, request: Request) -> Iterator[Reply]:
        """Show the reference answer, labelled as an example; the question counts as skipped."""
        with self._open(request) as session:
            if session.mode is Mode.INTERVIEWER:
                raise Refused(NO_HELP)
            entry = self.bank.get(session.current_question_id or "")
            points = "\n".join(f"• {p}" for p in entry.points)
            text = f"Example answer (one good answer among many):\n\n{entry.answer}\n\nKey points:\n{points}"
            yield Reply(ReplyKind.REVEAL, text, data={"question_id": entry.id, "answer": entry.answer,
                                                      "key_points": list(entry.points)})
            if session.phase is Phase.AWAITING_ANSWER:
                mark_passed(session, entry.id, REVEALED_WORD)
                self._record_skip(session, entry)
            yield from self._advance(session)

    def _record_skip(self, session: SessionRecord, entry: Entry) -> None:
        points = [{"text": p, "covered": False, "similarity": 0.0, "evidence": None} for p in entry.points]
        self.store.add_attempt(AttemptRecord(user=session.user, question_id=entry.id, score=0, answer="",
                                             session_id=session.id, key_points=points, skipped=True,
                                             entry_hash=entry.content_hash()))
        self.scheduler.record(session.user, entry.id, 0, skipped=True, when=self.clock())

    def _stop(self, request: Request) -> Iterator[Reply]:
        """End the interview now and show the report card."""
        with self._open(request) as session:
            session.phase = Phase.STOPPED
            session.finished = self.clock()
            self.store.save_session(session)
            yield self._report(session)

    def _report(self, session: SessionRecord) -> Reply:
        if session.mode is Mode.INTERVIEWER:
            return self.interviewer.report(session)
        attempts = self.store.attempts(session.user, session_id=session.id)
        report = build_report(session, attempts, self.bank)
        return Reply(ReplyKind.REPORT, render.report_text(report), (Action.START,), data=report)


def _error(text: str) -> Reply:
    return Reply(ReplyKind.ERROR, text)
