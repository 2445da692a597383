"""Team practice: one question a work day in a channel, answered privately, with anonymous results the next day.

A team is its own user row ("slack-team", channel id): its time zone, daily time and on/off are the daily settings,
so the engine's daily dispatcher posts its question with the same claim-and-takeover rule as a daily DM, and the
team's one-question session is what members answer. Members' answers are their own attempts (in that session);
nobody sees another's answer or score unless its author shares it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from statistics import median
from typing import TYPE_CHECKING

from bot.core import render
from bot.core.access import NOT_MANAGER
from bot.core.daily import DailyDispatcher, DailyPort
from bot.core.localtime import local_date, parse_daily_time, zone_problem
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.core.store.records import AttemptRecord, SessionRecord, UserRecord
from bot.core.text import plural
from bot.errors import CoachError

if TYPE_CHECKING:
    from bot.core.coach import Coach, TokenSink

TEAM_SUFFIX = "-team"
TURN_PREFIX = "team:"
MIN_FOR_SCORES = 3     # fewer answers than this: no score figures, so nobody's score can be told apart
WORK_DAYS = range(5)   # Monday to Friday, in the team's time zone
CLOSED = "That team question is closed; answer today's question in the channel."
NO_PLACE = "Name the channel: /interview team #channel 09:00 Europe/Berlin (or run it in that channel)."
NOT_IN = ("I am not a member of that channel, so I cannot post there: invite me first (/invite @Interview Coach in "
          "the channel), then run the command again.")
NO_TEAM = "There is no team practice in that channel; set one up with /interview team #channel 09:00 Europe/Berlin."


def team_ref(platform: str, place: str) -> UserRef:
    """The team of a channel."""
    return UserRef(platform + TEAM_SUFFIX, place)


def is_team(ref: UserRef) -> bool:
    """Whether a user reference is a team's."""
    return ref.platform.endswith(TEAM_SUFFIX)


def team_turn(session_id: int, question_id: str) -> str:
    """The token a team question's buttons carry: a team session, not the member's own."""
    return f"{TURN_PREFIX}{session_id}:{question_id}"


def is_team_turn(turn: str | None) -> bool:
    """Whether a button, form or thread was made for a team question."""
    return bool(turn) and str(turn).startswith(TURN_PREFIX)


class Teams:
    """The TEAM and SHARE actions, team answers, and the next day's anonymous results."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach

    def actions(self) -> dict[Action, Callable[[Request], Iterator[Reply]]]:
        """The actions this part serves."""
        return {Action.TEAM: self.team, Action.SHARE: self.share}

    # ------------------------------------------------------------------ setting a team up

    def team(self, request: Request) -> Iterator[Reply]:
        """op: setup (place, time, zone), stop, pause, resume, or status."""
        op = (request.op or "status").lower()
        if not request.place:
            raise CoachError(NO_PLACE)
        ref = team_ref(request.user.platform, request.place)
        store = self.coach.store
        team = store.team(ref)
        if op == "status":
            yield self._status(ref)
            return
        if op not in ("setup", "stop", "pause", "resume"):
            raise CoachError("Use /interview team #channel HH:MM Zone, or team stop, pause, resume or status.")
        if not self.coach.access.may_manage(request):
            raise CoachError(NOT_MANAGER)
        if op == "setup":
            if not request.present:
                raise CoachError(NOT_IN)
            hhmm = parse_daily_time(request.time or "09:00")
            if hhmm is None:
                raise CoachError(f"'{(request.time or '')[:20]}' is not a time of day; use 24-hour HH:MM, such as "
                                 "09:00.")
            zone = (request.zone or "UTC").strip()
            problem = zone_problem(zone)
            if problem:
                raise CoachError(problem)
            store.update_user(ref, time_zone=zone, daily_time=hhmm, daily_on=True)
            store.save_team(ref, "active", manager=request.user.key)
            yield self._status(ref, changed=True)
            return
        if team is None or (team.state == "stopped" and op != "stop"):
            raise CoachError(NO_TEAM)
        state = {"stop": "stopped", "pause": "paused", "resume": "active"}[op]
        store.update_user(ref, daily_on=state == "active")
        store.save_team(ref, state)
        yield self._status(ref, changed=True)

    def _status(self, ref: UserRef, changed: bool = False) -> Reply:
        team = self.coach.store.team(ref)
        if team is None or team.state == "stopped":
            text = "Team practice is stopped in this channel." if changed else NO_TEAM
            state = None if team is None else team.state
            return Reply(ReplyKind.INFO, text, data={"team": state, "place": ref.user_id})
        when = f"every work day (Monday to Friday) at {team.daily_time} {team.time_zone}"
        if team.state == "paused":
            text = f"Team practice is paused in this channel (it was {when}); resume it with /interview team resume."
        else:
            text = (f"Team practice is on in this channel: a question {when}. Members answer privately and get their "
                    "own feedback privately; the next day the thread gets anonymous results and an example answer.")
        return Reply(ReplyKind.INFO, text, data={"team": team.state, "place": ref.user_id, "time": team.daily_time,
                                                 "time_zone": team.time_zone})

    # ------------------------------------------------------------------ answering a team question

    def _open_question(self, turn: str) -> tuple[SessionRecord, str]:
        """The team session and question a team turn names, if it is still the team's open question."""
        session_id, _, question_id = turn.removeprefix(TURN_PREFIX).partition(":")
        session = self.coach.store.session(int(session_id)) if session_id.isdigit() else None
        if session is None or not is_team(session.user) or not session.phase.is_open \
                or session.current_question_id != question_id:
            raise CoachError(CLOSED)
        return session, question_id

    def question_for(self, turn: str) -> Reply:
        """The team's open question as a private message for one member (answered in its thread or form)."""
        session, question_id = self._open_question(turn)
        entry = self.coach.bank.get(question_id)
        text = f"Team question\n\n{entry.question}\n\nReply in this thread, or press Answer. Only you see your answer."
        return Reply(ReplyKind.QUESTION, text, (Action.ANSWER, Action.FLAG),
                     data=render.question_data(entry, 1, 1, session.id) | {"turn": turn, "team": True})

    def answer(self, request: Request, on_token: TokenSink | None, use_llm: bool) -> Iterator[Reply]:
        """A member's private answer: graded, kept as their own attempt, feedback for them alone."""
        from bot.core.coach import EMPTY, FILES_ONLY

        coach, member = self.coach, request.user
        session, question_id = self._open_question(request.turn or "")
        wait = coach.rate_limiter.check(member.key)
        if wait:
            wait_for = plural(max(1, round(wait)), "second")
            raise CoachError(f"You're sending answers very quickly; please wait {wait_for}.")
        if not request.text.strip():
            raise CoachError(FILES_ONLY if request.files else EMPTY)
        with coach.gate.hold(member):
            if coach.store.attempts(member, session_id=session.id):
                raise CoachError("You already answered this team question; your feedback is in our direct messages.")
            entry = coach.bank.get(question_id)
            grade = coach.grader.rubric_grade(entry, request.text)
            attempt = coach.store.add_attempt(coach._attempt(session, question_id, request.text, grade, member=member))
            yield Reply(ReplyKind.SCORE, render.score_text(grade.view()),
                        data=grade.to_json() | {"attempt_id": attempt.id, "team": True})
            if use_llm and coach.grader.has_llm and not grade.flagged:
                grade = coach._critique(session, entry, request.text, grade, attempt, on_token)
            else:
                grade = coach.grader.rubric_feedback(entry, grade)
                attempt.feedback = list(grade.feedback)
                coach.store.update_attempt(attempt)
            coach.scheduler.record(member, question_id, grade.score, when=coach.clock())
            data = grade.view() | {"strengths": grade.strengths, "improvements": grade.improvements,
                                   "attempt_id": attempt.id, "team": True}
            text = render.critique_text(data) + ("\n\nOnly you see this. Press Share to show your answer and score "
                                                 "in the question's thread.")
            yield Reply(ReplyKind.CRITIQUE, text, (Action.SHARE,), data=data)

    def share(self, request: Request) -> Iterator[Reply]:
        """Show one's own team answer and score in the question's thread; nobody else's."""
        store = self.coach.store
        attempt = store.attempt(int(request.target or 0)) if (request.target or "").isdigit() else None
        if attempt is None or attempt.user != request.user:
            raise CoachError("Only your own answers can be shared, and that one is not yours.")
        session = store.session(attempt.session_id) if attempt.session_id is not None else None
        day = session.extra.get("daily") if session is not None else None
        post = store.daily_send(session.user, day) if session is not None and day and is_team(session.user) else None
        if post is None or post.message_ref is None:
            raise CoachError("Only answers to a team question can be shared with the team.")
        if attempt.shared:
            raise CoachError("You already shared this answer with the team.")
        store.share_attempt(attempt.id or 0)
        name = (request.name or "A teammate").strip()[:80]
        yield Reply(ReplyKind.SHARED, f"{name} shared their answer ({attempt.score}/100):\n\n{attempt.answer}",
                    data={"place": post.channel, "message_ref": post.message_ref, "attempt_id": attempt.id})
        yield Reply(ReplyKind.INFO, "Shared: your answer and score are in the question's thread.")

    # ------------------------------------------------------------------ the next day's results

    def results(self, team: UserRef, day: str) -> Reply | None:
        """The anonymous results of the team's last question before `day`, for its thread; None when there is none."""
        store = self.coach.store
        post = store.last_daily_send(team, before=day)
        if post is None or post.message_ref is None:
            return None
        session = next((s for s in store.recent_sessions(team) if s.extra.get("daily") == post.local_date), None)
        answers = [a for a in store.session_attempts(session.id) if not a.is_follow_up] if session else []
        entry = self.coach.bank.entries.get(post.question_id)
        text = results_text(answers, entry.answer if entry else None)
        return Reply(ReplyKind.INFO, text, data={"place": post.channel, "message_ref": post.message_ref,
                                                 "local_date": post.local_date, "answers": len(answers)})


def results_text(answers: list[AttemptRecord], example: str | None) -> str:
    """How many answered, the score spread and the point most often missed (each only from 3 answers up)."""
    count = len(answers)
    lines = [f"Yesterday's results: {count} {'person' if count == 1 else 'people'} answered."]
    if count >= MIN_FOR_SCORES:
        scores = sorted(a.score for a in answers)
        lines.append(f"Scores: lowest {scores[0]}, median {round(median(scores))}, highest {scores[-1]} (out of 100).")
        missed: Counter[str] = Counter()
        for attempt in answers:
            missed.update(p["text"] for p in attempt.key_points if not p.get("covered"))
        if missed:
            point, times = missed.most_common(1)[0]
            lines.append(f"Key point most often missed ({times} of {count}): {point}")
    elif count:
        lines.append(f"Score figures are shown from {MIN_FOR_SCORES} answers up, so that nobody's score can be told "
                     "apart.")
    if example:
        lines += ["", "Example answer (one good answer among many):", example]
    return "\n".join(lines)


class TeamDispatcher(DailyDispatcher):
    """The daily dispatcher for teams: the same claim and takeover, on work days only, for active teams."""

    def due(self, now: datetime) -> list[UserRecord]:
        """Teams whose time has come today, Monday to Friday in their own zone."""
        return [u for u in super().due(now) if now.astimezone(u.zone).weekday() in WORK_DAYS]

    def send(self, user: UserRecord, now: datetime) -> int:
        """Post the team's question; a question that went out gets a review card, so the team is not asked it again
        until it is due."""
        posted = super().send(user, now)
        store = self.coach.store
        record = store.daily_send(user.ref, local_date(user.zone, now))
        if record is not None and record.status == "sent" and store.get_card(user.ref, record.question_id) is None:
            self.coach.scheduler.record(user.ref, record.question_id, 100, when=now)
        return posted


def team_dispatcher(coach: Coach, port: DailyPort) -> TeamDispatcher:
    """The team dispatcher of one platform's team port (whose `platform` ends in '-team')."""
    return TeamDispatcher(coach, port)
