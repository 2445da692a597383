"""Flagged questions: a user reports a wrong question, it leaves their practice, and a reviewer fixes or dismisses it.

A fix goes to the deck's override file (`bot.core.overrides`), is applied to the bank in place and re-indexed at
once; every open flag on that question is then closed, and the question returns to its flaggers' practice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from bot.core.access import NOT_REVIEWER
from bot.core.modes import Mode
from bot.core.overrides import apply_overrides, override_path, write_override
from bot.core.replies import Action, Reply, ReplyKind, Request, short_turn, turn_token
from bot.core.report import FLAGGED_WORD, mark_passed
from bot.core.store.records import SessionRecord
from bot.core.team import TURN_PREFIX
from bot.core.text import plural
from bot.errors import CoachError

if TYPE_CHECKING:
    from bot.core.coach import Coach

NO_REASON = "Say what is wrong with the question, in a few words (for example: the reference answer is outdated)."
NOTHING = "There is no question to flag: flag a question while it is open, or with the Flag button under it."
GONE = "That question is no longer in the question bank, so there is nothing to flag."
ALREADY = "You already flagged this question; it stays out of your practice until a reviewer has looked at it."
FLAGGED = ("Thanks: the question is flagged for review. It leaves your practice until a reviewer has fixed it or "
           "dismissed the flag.")
REASON_LIMIT = 1000


class Flags:
    """The FLAG and REVIEW actions of the coach."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach
        self._stamps = self._look()

    def _look(self) -> dict[str, float | None]:
        """When each deck's override file last changed (None: no file)."""
        folder = self.coach.access.knowledge_dir
        if folder is None:
            return {}
        paths = {deck: override_path(folder, deck) for deck in self.coach.bank.decks}
        return {deck: p.stat().st_mtime if p.is_file() else None for deck, p in paths.items()}

    def refresh(self) -> list[str]:
        """Apply fixes another process (a reviewer's terminal) wrote since the last look; the ids changed."""
        stamps = self._look()
        if stamps == self._stamps or self.coach.access.knowledge_dir is None:
            return []
        self._stamps = stamps
        changed = apply_overrides(self.coach.bank, self.coach.access.knowledge_dir)
        if changed and self.coach.access.reindex is not None:
            self.coach.access.reindex(self.coach.bank.get(changed[0]))   # one sync re-embeds every changed entry
        return changed

    def actions(self) -> dict[Action, Callable[[Request], Iterator[Reply]]]:
        """The actions this part serves."""
        return {Action.FLAG: self.flag, Action.REVIEW: self.review}

    # ------------------------------------------------------------------ flagging

    def flag(self, request: Request) -> Iterator[Reply]:
        """Flag the question a button or form was made for, or the open one, or the last one answered."""
        reason = " ".join(request.text.split())[:REASON_LIMIT]
        if not reason:
            raise CoachError(NO_REASON)
        coach, user = self.coach, request.user
        with coach.gate.hold(user):
            session = coach.store.open_session(user)
            question_id = self._question(request, session)
            entry = coach.bank.entries.get(question_id)
            if entry is None:
                raise CoachError(GONE)
            if question_id in coach.store.held_questions(user):
                raise CoachError(ALREADY)
            coach.store.add_flag(user, question_id, reason, entry.content_hash())
            yield Reply(ReplyKind.INFO, FLAGGED, data={"question_id": question_id, "flagged": True})
            if session is not None and session.current_question_id == question_id:
                # The flagged question is the one waiting: move on without scoring it; the report says it was flagged.
                if session.mode is Mode.INTERVIEWER:
                    yield from self.coach.interviewer.pass_flagged(session)
                    return
                mark_passed(session, question_id, FLAGGED_WORD)
                yield from self.coach._advance(session)

    def _question(self, request: Request, session: SessionRecord | None) -> str:
        """Which question a flag is about; the user's own sessions only."""
        if request.turn and request.turn.startswith(TURN_PREFIX):   # a team question: flag it for this user
            return request.turn.removeprefix(TURN_PREFIX).partition(":")[2]
        if request.turn:
            session_id, _, short = request.turn.partition(":")
            found = self.coach.store.session(int(session_id)) if session_id.isdigit() else None
            if found is None or found.user != request.user:
                raise CoachError(NOTHING)
            for question_id in found.question_ids:
                token = turn_token(found.id, question_id)
                if request.turn in (token, short_turn(token)):
                    return question_id
            raise CoachError(NOTHING)
        if request.target:
            return request.target
        if session is not None and session.phase.is_open and session.current_question_id:
            return session.current_question_id
        attempts = self.coach.store.attempts(request.user)
        if not attempts:
            raise CoachError(NOTHING)
        return attempts[-1].question_id

    # ------------------------------------------------------------------ the review queue

    def review(self, request: Request) -> Iterator[Reply]:
        """The queue (op None or "list"), or settle one flag: op "fix" with `fields`, or "dismiss"."""
        if not self.coach.access.may_review(request):
            raise CoachError(NOT_REVIEWER)
        op = (request.op or "list").lower()
        if op == "list":
            yield self.queue()
            return
        if op not in ("fix", "dismiss"):
            raise CoachError("A review is 'list', 'fix' or 'dismiss'.")
        flag = self.coach.store.flag(int(request.target or 0)) if (request.target or "").isdigit() else None
        if flag is None or flag.status != "open":
            raise CoachError(f"Flag #{(request.target or '?')[:12]} is not open: it was settled already, or there "
                             "is no such flag.")
        entry = self.coach.bank.entries.get(flag.question_id)
        by = request.user.key
        if op == "dismiss":
            closed = self.coach.store.resolve_flags(flag.question_id, "dismissed", by)
            yield Reply(ReplyKind.INFO, f"Dismissed: {plural(closed, 'flag')} on '{flag.question_id}' "
                        "closed; the question is back in its flaggers' practice.",
                        data={"question_id": flag.question_id, "closed": closed, "status": "dismissed"})
            return
        if entry is None:
            raise CoachError(f"'{flag.question_id}' is no longer in the question bank: dismiss the flag instead.")
        changes = {k: v for k, v in (request.fields or {}).items() if v not in (None, "", [], ())}
        if not changes:
            raise CoachError("Give the new question, reference answer or key points to fix.")
        folder = self.coach.access.knowledge_dir
        if folder is None:
            raise CoachError("Fixes cannot be saved here: the coach has no knowledge folder to write them to.")
        fixed = write_override(folder, self.coach.bank, entry.id, changes)
        self._stamps = self._look()
        if self.coach.access.reindex is not None:
            self.coach.access.reindex(fixed)
        closed = self.coach.store.resolve_flags(flag.question_id, "fixed", by)
        names = ", ".join(k.replace("_", " ") for k in changes)
        yield Reply(ReplyKind.INFO, f"Fixed '{entry.id}' ({names}), saved in {entry.deck}.overrides.yaml and "
                    f"re-indexed; {plural(closed, 'flag')} closed. Earlier answers to it are marked "
                    "as made on the old version.", data={"question_id": entry.id, "closed": closed, "status": "fixed",
                                               "content_hash": fixed.content_hash()})

    def queue(self) -> Reply:
        """The open flags, oldest first, with what a reviewer needs to fix each question (never who flagged it)."""
        items: list[dict[str, Any]] = []
        for flag in self.coach.store.flags("open"):
            entry = self.coach.bank.entries.get(flag.question_id)
            items.append({"id": flag.id, "question_id": flag.question_id, "reason": flag.reason,
                          "question": entry.question if entry else None,
                          "answer": entry.answer if entry else None,
                          "key_points": list(entry.key_points or ()) if entry else [],
                          "changed_since": bool(entry and flag.entry_hash and entry.content_hash() != flag.entry_hash),
                          "created": flag.created.isoformat() if flag.created else None})
        if not items:
            return Reply(ReplyKind.INFO, "No flagged questions are waiting for review.", data={"flags": []})
        lines = [f"{plural(len(items), 'flagged question')} waiting for review:"]
        for item in items:
            what = item["question"] or "(no longer in the bank)"
            lines.append(f"#{item['id']} · {item['question_id']}: {what}\n   Reason: {item['reason']}")
        return Reply(ReplyKind.INFO, "\n".join(lines), data={"flags": items})

