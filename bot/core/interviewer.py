"""Interviewer mode: a mock that behaves like a real interviewer.

No score or critique until the end. After an answer that misses key points the interviewer asks up to two probing
follow-ups (the deck's written or drafted probes, aimed at a point still missing, never stating it),
then moves on. Each question has a time budget; a late answer still counts and the report says so. After a strong
answer the next question is harder, after a weak one easier. At the end one report (`bot.core.interview_report`).

Its state lives in the session (`mode` column, and `extra["interviewer"]`), so an interview survives a restart.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core import interview_report, render
from bot.core.bank import Entry
from bot.core.phases import Phase
from bot.core.replies import Action, Reply, ReplyKind, UserRef
from bot.core.store.records import AttemptRecord, SessionRecord
from bot.core.text import plural

if TYPE_CHECKING:
    from bot.core.coach import Coach
    from bot.core.grading.grader import Grade
    from bot.core.schedule import Scheduler

STATE = "interviewer"          # the key of the mode's state in session.extra
MAX_PROBES = 2
START_LEVEL = 2                # a real interview opens on an intermediate question
STRONG, WEAK = 70, 40          # a main answer's score: at least STRONG goes up a level, below WEAK goes down one
ACTIONS = (Action.ANSWER, Action.SKIP, Action.STOP, Action.FLAG)
PROBE_ACTIONS = (Action.ANSWER, Action.SKIP, Action.STOP)
NO_HELP = "Interviewer mode has no hints or example answers: the report at the end shows what a strong answer adds."


def clock_text(seconds: int) -> str:
    """Seconds as m:ss."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class Interviewer:
    """The interviewer-mode flow, on the coach's bank, grader, store, scheduler and clock."""

    def __init__(self, coach: Coach, seconds: int) -> None:
        self.coach = coach
        self.seconds = max(0, int(seconds))

    # ------------------------------------------------------------------ starting

    def plan(self, scheduler: Scheduler, user: UserRef, count: int, topic: str | None) -> tuple[list[str], list[str]]:
        """The first `count` question ids (the first at START_LEVEL) and the whole ranked pool to adapt from."""
        now = self.coach.clock()
        ranked = scheduler.pick_session_questions(user, len(scheduler.bank.by_topic(topic)), topic=topic, now=now)
        first = self._closest(ranked, START_LEVEL, 0, [])
        if first is None:
            return [], []
        return [first] + [i for i in ranked if i != first][:count - 1], ranked

    def begin(self, session: SessionRecord, pool: Sequence[str]) -> Iterator[Reply]:
        """The introduction and the first question, its clock started."""
        session.extra[STATE] = {"budget": self.seconds, "pool": list(pool), "asked": {}}
        self._show(session)
        self.coach.store.save_session(session)
        total = len(session.question_ids)
        budget = (f"{clock_text(self.seconds)} per question (a late answer still counts)" if self.seconds else
                  "no time limit")
        on = f" on {session.topic}" if session.topic else ""
        on += f" from the deck {session.deck!r}" if session.deck else ""
        yield Reply(ReplyKind.INFO, f"Interview (interviewer mode): {plural(total, 'question')}{on}, "
                    f"{budget}. As in a real interview there is no score or feedback until the end; I may ask a "
                    "follow-up or two when an answer leaves something out. The report comes at the end.",
                    data={"session_id": session.id, "mode": "interviewer", "budget_seconds": self.seconds})
        yield self.question_reply(session)

    # ------------------------------------------------------------------ what the user sees

    def question_reply(self, session: SessionRecord) -> Reply:
        """The current question with its time budget (what is left of it after a restart)."""
        entry = self.coach.bank.get(session.current_question_id or "")
        number, total = session.position + 1, len(session.question_ids)
        info = self._asked(session).get(entry.id, {})
        text = render.question_text(entry, number, total)
        line = self._clock_line(info, probe=False)
        return Reply(ReplyKind.QUESTION, f"{text}\n\n{line}" if line else text, ACTIONS,
                     data=render.question_data(entry, number, total, session.id) | {"mode": "interviewer"}
                     | self._timing(info))

    def probe_reply(self, session: SessionRecord) -> Reply:
        """The pending follow-up question, with the time left for the question."""
        follow = session.follow_up or {}
        info = self._asked(session).get(session.current_question_id or "", {})
        line = self._clock_line(info, probe=True)
        text = f"Follow-up: {follow.get('text', '')}" + (f"\n\n{line}" if line else "")
        return Reply(ReplyKind.FOLLOW_UP, text, PROBE_ACTIONS,
                     data={"question_id": session.current_question_id, "follow_up": follow.get("text"),
                           "session_id": session.id, "target_point": follow.get("target_point"),
                           "mode": "interviewer"} | self._timing(info))

    def _clock_line(self, info: dict[str, Any], *, probe: bool) -> str:
        budget = int(info.get("budget", self.seconds))
        if not budget or "shown" not in info:
            return ""
        left = self._left(info)
        if left <= 0:
            return "The time for this question is up; your answer still counts, and the report will say it was late."
        if not probe and left >= budget - 1:
            return f"Time budget: {clock_text(budget)} for this question."
        return f"Time left for this question: {clock_text(left)}."

    def _timing(self, info: dict[str, Any]) -> dict[str, Any]:
        budget = int(info.get("budget", self.seconds))
        if not budget or "shown" not in info:
            return {"budget_seconds": 0}
        deadline = datetime.fromisoformat(info["shown"]).timestamp() + budget
        return {"budget_seconds": budget, "deadline": deadline, "seconds_left": max(0, self._left(info))}

    def _left(self, info: dict[str, Any]) -> int:
        shown = datetime.fromisoformat(info["shown"])
        return int(info.get("budget", self.seconds) - (self.coach.clock() - shown).total_seconds())

    # ------------------------------------------------------------------ answers

    def answer(self, session: SessionRecord, text: str) -> Iterator[Reply]:
        """An answer to the question or to its pending follow-up: noted, then a follow-up, the next question or the
        report. The attempt is committed before anything is shown."""
        if session.phase is Phase.AWAITING_FOLLOW_UP and session.follow_up:
            yield from self._answer_probe(session, text)
        else:
            yield from self._answer_main(session, text)

    def _answer_main(self, session: SessionRecord, text: str) -> Iterator[Reply]:
        coach, entry = self.coach, self.coach.bank.get(session.current_question_id or "")
        info = self._info(session, entry)
        seconds, late = self._elapsed(info, info["shown"])   # when the answer came, not when its grading ended
        grade = coach.grader.rubric_grade(entry, text)
        attempt = coach.store.add_attempt(self._attempt(session, entry, text, grade))
        info.update(attempt=attempt.id, score=grade.score, seconds=seconds, late=late,
                    contradicted={str(c.point): c.quote for c in grade.contradictions})
        coach.scheduler.record(session.user, entry.id, grade.score, when=coach.clock())
        coach.store.save_session(session)
        yield self._noted(seconds, late, info)
        yield from self._probe_or_next(session, entry, grade)

    def _answer_probe(self, session: SessionRecord, text: str) -> Iterator[Reply]:
        coach, entry = self.coach, self.coach.bank.get(session.current_question_id or "")
        follow = session.follow_up or {}
        info = self._info(session, entry)
        probe = info["probes"][-1]
        seconds, _ = self._elapsed(info, probe["shown"])
        total, late = self._elapsed(info, info["shown"])   # the budget is the question's, follow-ups included
        grade = coach.grader.grade_follow_up(entry, follow.get("target_point"), text, follow.get("text", ""))
        attempt = coach.store.add_attempt(self._attempt(session, entry, text, grade, follow_up=True))
        said = [a.answer for a in coach.store.attempts(session.user, session_id=session.id, question_id=entry.id)
                if not a.skipped]
        everything = coach.grader.rubric_grade(entry, "\n".join(said))
        # Any point the follow-up answers brought out counts, not only the one the probe aimed at.
        info["probed"] = {"score": everything.score,
                          "covered": {str(i): p.evidence for i, p in enumerate(everything.key_points) if p.covered}}
        probe.update(attempt=attempt.id, covered=bool(grade.key_points and grade.key_points[0].covered)
                     or str(probe["point"]) in info["probed"]["covered"], seconds=seconds, late=late)
        coach.store.save_session(session)
        yield self._noted(seconds, late, info, total=total)
        if grade.flagged:   # "I don't know", nothing, or off topic: a real interviewer moves on
            yield from self._next(session)
            return
        yield from self._probe_or_next(session, entry, everything)

    def _probe_or_next(self, session: SessionRecord, entry: Entry, grade: Grade) -> Iterator[Reply]:
        """A follow-up aimed at a point still missing in everything said so far, or the next question."""
        info = self._info(session, entry)
        probed = {p["point"] for p in info["probes"]}
        missed = [i for i in grade.missed if i not in probed]
        if grade.flagged or not missed or len(info["probes"]) >= MAX_PROBES:
            yield from self._next(session)
            return
        # The point the grader aims at first (else the first still missing), asked with its written (or drafted)
        # probe, which never gives the point away; on a deck without probes yet, the grader's nudge toward its area.
        point = int(grade.follow_up_point) if grade.follow_up_point in missed else missed[0]
        text = self.coach.grader.probe(entry, point) or \
            self.coach.grader.hint(entry, 0, covered=[i for i in range(len(entry.points)) if i != point])
        info["probes"].append({"text": text, "point": point, "shown": self.coach.clock().isoformat()})
        session.phase = Phase.AWAITING_FOLLOW_UP
        session.follow_up = {"text": text, "target_point": point}
        self.coach.store.save_session(session)
        yield self.probe_reply(session)

    def _noted(self, seconds: int, late: bool, info: dict[str, Any], *, total: int | None = None) -> Reply:
        """One line: the answer is noted, with its time; when late, the question's whole time against its budget."""
        budget = int(info.get("budget", 0))
        if not budget:
            text = "Noted."
        elif late and total is None:
            text = f"Noted. That took {clock_text(seconds)}, over the {clock_text(budget)} budget; it still counts."
        elif late:
            text = (f"Noted ({clock_text(seconds)}). This question has now taken {clock_text(int(total or 0))} in all, "
                    f"over its {clock_text(budget)} budget; your answer still counts.")
        else:
            text = f"Noted ({clock_text(seconds)})."
        timing = {"seconds": seconds, "late": late, "budget_seconds": budget} | (
            {"question_seconds": total} if total is not None else {})
        return Reply(ReplyKind.INFO, text, data={"timing": timing})

    # ------------------------------------------------------------------ moving on

    def skip(self, session: SessionRecord) -> Iterator[Reply]:
        """Skip the question (it counts as 0) or its pending follow-up, then move on."""
        coach, entry = self.coach, self.coach.bank.get(session.current_question_id or "")
        info = self._info(session, entry)
        if session.phase is Phase.AWAITING_ANSWER:
            points = [{"text": p, "covered": False, "similarity": 0.0, "evidence": None} for p in entry.points]
            attempt = coach.store.add_attempt(AttemptRecord(user=session.user, question_id=entry.id, score=0,
                                                            session_id=session.id, key_points=points, skipped=True))
            info.update(attempt=attempt.id, score=0, skipped=True)
            coach.scheduler.record(session.user, entry.id, 0, skipped=True, when=coach.clock())
            yield Reply(ReplyKind.SKIPPED, "Skipped.", data={"question_id": entry.id})
        else:
            info["probes"][-1]["skipped"] = True
            yield Reply(ReplyKind.SKIPPED, "Follow-up skipped.", data={"question_id": entry.id})
        yield from self._next(session)

    def pass_flagged(self, session: SessionRecord) -> Iterator[Reply]:
        """The waiting question was flagged: passed without a score (the report says so), then the next one."""
        entry = self.coach.bank.get(session.current_question_id or "")
        self._info(session, entry)["flagged"] = True
        yield from self._next(session)

    def _next(self, session: SessionRecord) -> Iterator[Reply]:
        """The next question, one level harder after a strong answer and easier after a weak one; or the report."""
        bank, qid = self.coach.bank, session.current_question_id or ""
        info = self._asked(session).get(qid, {})
        score = int(info.get("score", 0))
        lean = 0 if info.get("flagged") else 1 if score >= STRONG else -1 if score < WEAK else 0
        level = int(info.get("difficulty") or (bank.entries[qid].difficulty if qid in bank.entries else START_LEVEL))
        session.position += 1
        session.follow_up = None
        asked = session.question_ids[:session.position]
        pick = None
        if session.position < len(session.question_ids):
            pick = self._closest(session.extra[STATE]["pool"], min(3, max(1, level + lean)), lean, asked)
        if pick is None:
            session.question_ids = asked
            session.phase = Phase.FINISHED
            session.finished = self.coach.clock()
            self.coach.store.save_session(session)
            yield self.report(session)
            return
        rest = [i for i in session.extra[STATE]["pool"] if i not in asked and i != pick and i in bank.entries]
        session.question_ids = asked + [pick] + rest[:len(session.question_ids) - len(asked) - 1]
        session.phase = Phase.AWAITING_ANSWER
        self._show(session)
        self.coach.store.save_session(session)
        yield self.question_reply(session)

    def _closest(self, pool: Sequence[str], level: int, lean: int, asked: Sequence[str]) -> str | None:
        """The best-ranked question of the pool nearest to `level`; on a tie, the side the interview leans to."""
        entries = self.coach.bank.entries
        ranked = [(i, entries[i].difficulty, rank) for rank, i in enumerate(pool) if i in entries and i not in asked]
        if not ranked:
            return None
        return min(ranked, key=lambda r: (abs(r[1] - level), -lean * (r[1] - level), r[2]))[0]

    def report(self, session: SessionRecord) -> Reply:
        """The end-of-interview report (also after /stop)."""
        attempts = self.coach.store.attempts(session.user, session_id=session.id)
        data = interview_report.build(session, attempts, self.coach.bank, self._asked(session))
        return Reply(ReplyKind.REPORT, interview_report.report_text(data), (Action.START,), data=data)

    # ------------------------------------------------------------------ state

    def _asked(self, session: SessionRecord) -> dict[str, dict[str, Any]]:
        return dict(session.extra.get(STATE, {}).get("asked", {}))

    def _info(self, session: SessionRecord, entry: Entry) -> dict[str, Any]:
        """The mutable record of one asked question in the session's state (created if a restart lost it)."""
        state = session.extra.setdefault(STATE, {"budget": self.seconds, "pool": list(session.question_ids),
                                                 "asked": {}})
        return state["asked"].setdefault(entry.id, {"shown": self.coach.clock().isoformat(), "budget": self.seconds,
                                                    "difficulty": entry.difficulty, "probes": []})

    def _show(self, session: SessionRecord) -> None:
        """Start the current question's clock (once: a question shown again after a restart keeps its clock)."""
        entry = self.coach.bank.get(session.current_question_id or "")
        self._info(session, entry)

    def _elapsed(self, info: dict[str, Any], since: str) -> tuple[int, bool]:
        seconds = int((self.coach.clock() - datetime.fromisoformat(since)).total_seconds())
        budget = int(info.get("budget", 0))
        return seconds, bool(budget) and seconds > budget

    def _attempt(self, session: SessionRecord, entry: Entry, text: str, grade: Grade, *,
                 follow_up: bool = False) -> AttemptRecord:
        return AttemptRecord(user=session.user, question_id=entry.id, score=grade.score, answer=text[:20000],
                             session_id=session.id, is_follow_up=follow_up, key_points=grade.to_json()["key_points"],
                             feedback=list(grade.feedback), llm=False)
