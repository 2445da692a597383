"""Your data out: every attempt of one user as JSON lines, CSV or an Anki deck; and forgetting a user entirely."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.bank import Bank
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.core.store.records import AttemptRecord, Store
from bot.core.text import plural
from bot.errors import CoachError

if TYPE_CHECKING:
    from bot.core.coach import Coach

FORMATS = ("jsonl", "csv", "anki")
EXTENSIONS = {"jsonl": "jsonl", "csv": "csv", "anki": "apkg"}
NO_DATA = "You have no answers to export yet: answer a question first."
CSV_COLUMNS = ("time", "question_id", "question", "answer", "score", "covered_points", "missed_points", "feedback",
               "follow_up", "skipped", "hinted", "outdated")
ANKI_MODEL_ID = 1_607_392_319   # fixed, so re-imported exports update the same note type
ANKI_CSS = (".card { font-family: sans-serif; font-size: 18px; text-align: left; }\n"
            ".ref { color: #555; font-size: 15px; }")


def attempt_rows(attempts: list[AttemptRecord], bank: Bank) -> list[dict[str, Any]]:
    """One plain dict per attempt: the question, the answer, the score, each key point and the feedback."""
    rows = []
    for a in attempts:
        entry = bank.entries.get(a.question_id)
        rows.append({
            "time": a.created.isoformat() if a.created else None, "question_id": a.question_id,
            "question": entry.question if entry else None, "answer": a.answer, "score": a.score,
            "key_points": [{"text": p.get("text"), "covered": bool(p.get("covered")), "evidence": p.get("evidence")}
                           for p in a.key_points],
            "feedback": list(a.feedback), "follow_up": a.is_follow_up, "skipped": a.skipped, "hinted": a.hinted,
            # Made against a version of the question that a reviewer has fixed since.
            "outdated": bool(entry and a.entry_hash and entry.content_hash() != a.entry_hash)})
    return rows


def to_jsonl(rows: list[dict[str, Any]]) -> bytes:
    """One JSON object per line."""
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    """One row per attempt; points and feedback joined with ' | '."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow(r | {
            "covered_points": " | ".join(p["text"] or "" for p in r["key_points"] if p["covered"]),
            "missed_points": " | ".join(p["text"] or "" for p in r["key_points"] if not p["covered"]),
            "feedback": " | ".join(r["feedback"])})
    return out.getvalue().encode("utf-8")


def missed_cards(attempts: list[AttemptRecord], bank: Bank) -> list[tuple[str, str, str]]:
    """(question, missed point, reference answer) for each point missed in the latest answer to each question."""
    latest: dict[str, AttemptRecord] = {}
    for a in attempts:
        if not a.is_follow_up:
            latest[a.question_id] = a
    cards = []
    for question_id, a in latest.items():
        entry = bank.entries.get(question_id)
        if entry is None:
            continue
        for point in a.key_points:
            if not point.get("covered") and point.get("text"):
                cards.append((entry.question, str(point["text"]), entry.answer))
    return cards


def to_anki(cards: list[tuple[str, str, str]], owner: UserRef) -> bytes:
    """An Anki package (.apkg): one card per missed key point, the question in front, the point and reference behind."""
    from html import escape

    import genanki

    model = genanki.Model(ANKI_MODEL_ID, "Interview Coach: missed key point",
                          fields=[{"name": "Question"}, {"name": "Point"}, {"name": "Reference"}],
                          templates=[{"name": "Missed point", "qfmt": "{{Question}}",
                                      "afmt": "{{FrontSide}}<hr id=answer><b>{{Point}}</b>"
                                              "<div class=ref>{{Reference}}</div>"}], css=ANKI_CSS)
    deck_id = int(hashlib.sha256(owner.key.encode()).hexdigest()[:8], 16)
    deck = genanki.Deck(deck_id, "Interview Coach · missed key points")
    for question, point, reference in cards:
        fields = [escape(question), escape(point), escape(reference).replace("\n", "<br>")]
        deck.add_note(genanki.Note(model=model, fields=fields, guid=genanki.guid_for(question, point)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "deck.apkg"
        genanki.Package(deck).write_to_file(str(path))
        return path.read_bytes()


def export_file(store: Store, bank: Bank, user: UserRef, fmt: str) -> tuple[str, bytes, int]:
    """The user's data in one format: (file name, content, how many attempts or cards); CoachError when empty."""
    fmt = (fmt or "jsonl").lower()
    if fmt not in FORMATS:
        raise CoachError(f"'{fmt[:20]}' is not an export format; use jsonl, csv or anki.")
    attempts = store.attempts(user)
    if not attempts:
        raise CoachError(NO_DATA)
    name = f"interview-coach-{_safe(user.platform)}-{_safe(user.user_id)}.{EXTENSIONS[fmt]}"
    if fmt == "anki":
        cards = missed_cards(attempts, bank)
        if not cards:
            raise CoachError("You have no missed key points to turn into cards: every point of your latest answers "
                             "was covered.")
        return name, to_anki(cards, user), len(cards)
    rows = attempt_rows(attempts, bank)
    return name, (to_jsonl(rows) if fmt == "jsonl" else to_csv(rows)), len(rows)


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:60]


class DataOut:
    """The EXPORT and FORGET actions: a user's own data only, never anyone else's."""

    def __init__(self, coach: Coach) -> None:
        self.coach = coach

    def actions(self) -> dict[Action, Callable[[Request], Iterator[Reply]]]:
        """The actions this part serves."""
        return {Action.EXPORT: self.export, Action.FORGET: self.forget}

    def export(self, request: Request) -> Iterator[Reply]:
        """The requesting user's attempts as a file (op: jsonl, csv or anki)."""
        name, content, count = export_file(self.coach.store, self.coach.bank, request.user, request.op or "jsonl")
        unit = "card" if name.endswith(".apkg") else "attempt"
        yield Reply(ReplyKind.FILE, f"Your data: {plural(count, unit)} in {name}.",
                    data={"filename": name, "content": content, "count": count, "format": request.op or "jsonl"})

    def forget(self, request: Request) -> Iterator[Reply]:
        """Without `confirm`: what would be deleted, and the button to confirm. With it: delete everything."""
        store, user = self.coach.store, request.user
        attempts = store.attempts(user)
        known = store.get_user(user) is not None
        if not known:
            yield Reply(ReplyKind.INFO, "Nothing is stored about you.", data={"deleted": {}})
            return
        if not request.confirm:
            count = sum(1 for a in attempts if not a.is_follow_up)
            yield Reply(ReplyKind.INFO, f"This deletes everything stored about you: "
                        f"{plural(count, 'answer')} with their scores and feedback, your review schedule, your "
                        "daily-question settings and your flags. It cannot be undone. Confirm to delete.",
                        (Action.FORGET,), data={"confirm_needed": True, "answers": count})
            return
        with self.coach.gate.hold(user):
            deleted = store.forget_user(user)
        yield Reply(ReplyKind.INFO, f"Deleted: {plural(deleted.get('attempts', 0), 'attempt')}, "
                    f"{plural(deleted.get('sessions', 0), 'session')}, "
                    f"{plural(deleted.get('review_cards', 0), 'review card')} and your settings. Nothing about you is "
                    "kept.", data={"deleted": deleted})
