"""The engine's side of flags, fixes, export, forget and teams: the rules every platform shares."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.access import Access
from bot.core.bank import load_bank
from bot.core.coach import Coach
from bot.core.index import MemoryIndex
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.core.store.db import MIGRATIONS
from bot.core.store.sql import SqlStore
from bot.core.team import MIN_FOR_SCORES, results_text
from bot.core.testing import FakeLLM, HashEmbedder, fake_coach
from bot.errors import DeckError
from tests.narrow import must
from tests.olddb import OLD_USER, old_database

ALICE, BOB = UserRef("cli", "alice"), UserRef("cli", "bob")
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
POOLING = ("Pooling reduces the spatial size of feature maps. Max pooling keeps the largest value in each window.")


def acted(coach: Coach, user: UserRef, action: Action, **fields: Any) -> list[Reply]:
    return list(coach.act(Request(user, action, **fields)))


@pytest.fixture()
def practice(knowledge: Path, tmp_path: Path) -> Callable[..., Coach]:
    """Coaches on one SQLite file and the editable test deck, writing fixes beside it (call again = a restart)."""
    url = f"sqlite:///{tmp_path / 'coach.db'}"

    def make(**options: Any) -> Coach:
        return fake_coach(load_bank(knowledge), SqlStore(url), llm=FakeLLM(respond=lambda p: "{}"),
                          clock=lambda: NOW, access=Access(knowledge_dir=knowledge, **options))
    return make


def answer(coach: Coach, user: UserRef, question: str, text: str) -> None:
    """Answer one question, in a one-question interview on it."""
    session = coach.store.create_session(user, [question])
    del session
    replies = acted(coach, user, Action.ANSWER, text=text)
    assert replies[0].kind is ReplyKind.SCORE, replies[0].text


# ---------------------------------------------------------------------------------------------- flags and fixes


def test_a_flag_needs_a_reason_and_a_question_that_still_exists(practice: Callable[..., Coach]) -> None:
    coach = practice()
    [nothing] = acted(coach, ALICE, Action.FLAG, text="wrong")
    assert nothing.kind is ReplyKind.ERROR and "no question to flag" in nothing.text
    acted(coach, ALICE, Action.START, count=1)
    [empty] = acted(coach, ALICE, Action.FLAG, text="   ")
    assert empty.kind is ReplyKind.ERROR and "Say what is wrong" in empty.text
    [gone] = acted(coach, ALICE, Action.FLAG, text="wrong", target="no-such-question")
    assert gone.kind is ReplyKind.ERROR and "no longer in the question bank" in gone.text
    assert coach.store.flags() == []
    flagged, report = acted(coach, ALICE, Action.FLAG, text="The key points are wrong")
    assert "flagged for review" in flagged.text and report.kind is ReplyKind.REPORT
    [again] = acted(coach, ALICE, Action.FLAG, text="still wrong", target=flagged.data["question_id"])
    assert "already flagged" in again.text and len(coach.store.flags()) == 1


def test_a_flag_through_another_users_session_is_refused(practice: Callable[..., Coach]) -> None:
    coach = practice()
    [_, question] = acted(coach, ALICE, Action.START, count=1)
    [refused] = acted(coach, BOB, Action.FLAG, text="spam", turn=question.turn)
    assert refused.kind is ReplyKind.ERROR and coach.store.flags() == []


def test_flagged_questions_leave_only_the_flaggers_schedule_until_reviewed(practice: Callable[..., Coach]) -> None:
    coach = practice()
    acted(coach, ALICE, Action.FLAG, text="typo", target="dropout")
    assert "dropout" not in coach.scheduler.pick_session_questions(ALICE, 10)
    assert "dropout" in coach.scheduler.pick_session_questions(BOB, 10)
    for _ in range(3):
        entry = coach.scheduler.next_question(ALICE, now=NOW, exclude={"momentum"})
        assert entry is not None and entry.id != "dropout"
    [refused] = acted(coach, ALICE, Action.REVIEW, op="dismiss", target="1")
    assert "Only reviewers" in refused.text
    [done] = acted(coach, BOB, Action.REVIEW, op="dismiss", target="1", admin=True)
    assert "Dismissed" in done.text
    assert "dropout" in coach.scheduler.pick_session_questions(ALICE, 10)


def test_the_queue_shows_what_to_fix_and_never_who_flagged(practice: Callable[..., Coach]) -> None:
    coach = practice(reviewers=frozenset({"slack:UREV"}))
    acted(coach, ALICE, Action.FLAG, text="outdated answer", target="momentum")
    [queue] = acted(coach, UserRef("slack", "UREV"), Action.REVIEW)
    [item] = queue.data["flags"]
    assert item["reason"] == "outdated answer" and item["key_points"] and item["answer"]
    assert "alice" not in json.dumps(item) and "alice" not in queue.text


def test_a_fix_goes_beside_the_deck_is_reindexed_at_once_and_survives_a_restart(
        practice: Callable[..., Coach], knowledge: Path) -> None:
    deck_before = (knowledge / "mini.yaml").read_text()
    index = MemoryIndex(HashEmbedder())
    coach: Coach = practice(reindex=lambda entry: index.sync(coach.bank))
    index.sync(coach.bank)
    answer(coach, ALICE, "pooling", POOLING)
    acted(coach, ALICE, Action.FLAG, text="missing a point", target="pooling")
    [bad] = acted(coach, BOB, Action.REVIEW, op="fix", target="1", fields={"key_points": ["only one"]}, admin=True)
    assert bad.kind is ReplyKind.ERROR and "3 to 6 key points" in bad.text        # validated like a deck entry
    new_question = "What does a pooling layer do to feature maps in a convolutional network?"
    [fixed] = acted(coach, BOB, Action.REVIEW, op="fix", target="1", fields={"question": new_question}, admin=True)
    assert fixed.kind is ReplyKind.INFO and "Fixed 'pooling'" in fixed.text
    assert (knowledge / "mini.yaml").read_text() == deck_before                     # the deck is never rewritten
    assert yaml.safe_load((knowledge / "mini.overrides.yaml").read_text())["entries"]["pooling"] == {
        "question": new_question}
    assert index.search(new_question, k=1)[0].entry.question == new_question       # re-indexed at once
    assert coach.store.flags("open") == [] and coach.store.flags("fixed")[0].resolved_by == BOB.key
    # The answer made before the fix is marked as made on the old version; a new one is not.
    [stats] = acted(coach, ALICE, Action.STATS, chart=False)
    assert stats.data["outdated"] == 1 and "earlier version" in stats.text
    answer(coach, ALICE, "pooling", POOLING)
    [stats] = acted(coach, ALICE, Action.STATS, chart=False)
    assert stats.data["outdated"] == 1 and [r["outdated"] for r in stats.data["recent"]] == [False, True]
    restarted = practice()
    assert restarted.bank.get("pooling").question == new_question


def test_fixes_written_by_another_process_are_taken_in_at_upkeep(practice: Callable[..., Coach]) -> None:
    bot, terminal = practice(), practice()
    acted(terminal, ALICE, Action.FLAG, text="typo", target="momentum")
    acted(terminal, BOB, Action.REVIEW, op="fix", target="1", admin=True,
          fields={"answer": "Momentum averages past gradients so that steps keep their direction."})
    assert "averages past gradients" not in bot.bank.get("momentum").answer
    bot.upkeep(NOW)
    assert "averages past gradients" in bot.bank.get("momentum").answer


def test_override_files_are_checked_on_load(knowledge: Path) -> None:
    (knowledge / "mini.overrides.yaml").write_text(yaml.safe_dump(
        {"deck": "mini", "entries": {"gone-entry": {"question": "Whatever was here before?"},
                                     "dropout": {"answer": "Dropout switches neurons off at random while training."}}}))
    bank = load_bank(knowledge)
    assert bank.get("dropout").answer.startswith("Dropout switches") and "gone-entry" not in bank.entries
    (knowledge / "mini.overrides.yaml").write_text("deck: mini\nentries:\n  dropout:\n    question: short\n")
    with pytest.raises(DeckError, match="mini.overrides.yaml"):
        load_bank(knowledge)


# ---------------------------------------------------------------------------------------------- export and forget


def test_export_formats_hold_every_attempt_and_one_card_per_missed_point(practice: Callable[..., Coach]) -> None:
    coach = practice()
    [empty] = acted(coach, ALICE, Action.EXPORT, op="jsonl")
    assert empty.kind is ReplyKind.ERROR and "no answers to export" in empty.text
    answer(coach, ALICE, "pooling", "Pooling reduces the spatial size of feature maps.")
    answer(coach, BOB, "dropout", "Bob's own words about dropout turning neurons off during training.")
    [jsonl] = acted(coach, ALICE, Action.EXPORT, op="jsonl")
    rows = [json.loads(line) for line in jsonl.data["content"].decode().splitlines()]
    assert len(rows) == 1 and rows[0]["question"] == coach.bank.get("pooling").question
    assert rows[0]["answer"].startswith("Pooling") and isinstance(rows[0]["score"], int)
    assert rows[0]["key_points"] and rows[0]["feedback"] and "Bob" not in jsonl.data["content"].decode()
    [csv_file] = acted(coach, ALICE, Action.EXPORT, op="csv")
    assert csv_file.data["content"].decode().splitlines()[0].startswith("time,question_id,question,answer,score")
    [anki] = acted(coach, ALICE, Action.EXPORT, op="anki")
    missed = [p["text"] for p in rows[0]["key_points"] if not p["covered"]]
    notes = anki_notes(anki.data["content"])
    assert len(notes) == len(missed) >= 1
    front, point, reference = notes[0]
    assert front == coach.bank.get("pooling").question and point in missed and "downsamples" in reference
    [bad] = acted(coach, ALICE, Action.EXPORT, op="pdf")
    assert "not an export format" in bad.text


def anki_notes(package: bytes) -> list[list[str]]:
    """The notes' fields of an .apkg, read back from its SQLite collection."""
    import io
    import tempfile

    with zipfile.ZipFile(io.BytesIO(package)) as apkg, tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "collection.anki2"
        path.write_bytes(apkg.read("collection.anki2"))
        with sqlite3.connect(path) as db:
            return [row[0].split("\x1f") for row in db.execute("SELECT flds FROM notes")]


def test_forget_asks_first_then_deletes_everything_of_one_user_only(practice: Callable[..., Coach]) -> None:
    coach = practice()
    answer(coach, ALICE, "pooling", POOLING)
    answer(coach, BOB, "pooling", POOLING)
    acted(coach, ALICE, Action.DAILY, daily=True, time="08:00", zone="Europe/Berlin")
    acted(coach, ALICE, Action.FLAG, text="typo", target="momentum")
    [ask] = acted(coach, ALICE, Action.FORGET)
    assert ask.actions == (Action.FORGET,) and coach.store.attempts(ALICE)
    [done] = acted(coach, ALICE, Action.FORGET, confirm=True)
    assert done.data["deleted"]["attempts"] == 1 and done.data["deleted"]["flags"] == 1
    restarted = practice()
    assert restarted.store.get_user(ALICE) is None and restarted.store.attempts(ALICE) == []
    assert restarted.store.cards(ALICE) == [] and restarted.store.users_with_daily_on() == []
    assert restarted.store.flags(None) == []
    assert len(restarted.store.attempts(BOB)) == 1 and restarted.store.cards(BOB)
    [nothing] = acted(restarted, ALICE, Action.FORGET)
    assert "Nothing is stored about you" in nothing.text


# ---------------------------------------------------------------------------------------------- teams and the store


def test_results_show_score_figures_only_from_three_answers() -> None:
    from bot.core.store.records import AttemptRecord

    def attempt(score: int, covered: bool) -> AttemptRecord:
        return AttemptRecord(user=ALICE, question_id="q", score=score,
                             key_points=[{"text": "Point A", "covered": covered}, {"text": "Point B", "covered": True}])

    two = results_text([attempt(80, True), attempt(20, False)], "Example.")
    assert "2 people answered" in two and "80" not in two and "Point A" not in two and "Example." in two
    three = results_text([attempt(80, True), attempt(20, False), attempt(50, False)], None)
    assert MIN_FOR_SCORES == 3 and "lowest 20, median 50, highest 80" in three
    assert "Key point most often missed (2 of 3): Point A" in three


def test_team_settings_survive_a_restart(practice: Callable[..., Coach]) -> None:
    coach = practice(managers=frozenset({"slack:UMAN"}))
    manager = UserRef("slack", "UMAN")
    [on] = acted(coach, manager, Action.TEAM, op="setup", place="C1", time="9:30", zone="Europe/Berlin")
    assert "09:30 Europe/Berlin" in on.text
    acted(coach, manager, Action.TEAM, op="pause", place="C1")
    [status] = acted(practice(), UserRef("slack", "UANY"), Action.TEAM, op="status", place="C1")
    assert status.data["team"] == "paused" and status.data["time"] == "09:30"


def test_a_database_of_the_last_release_is_upgraded_with_its_data_kept(tmp_path: Path) -> None:
    url = old_database(   # as the last release left it (before 4-6): no flags, teams, entry hashes or shares
        tmp_path / "old.db", 4, "DROP TABLE flags", "DROP TABLE teams",
        "ALTER TABLE attempts DROP COLUMN entry_hash", "ALTER TABLE attempts DROP COLUMN shared",
        OLD_USER.format(platform="cli", user_id="alice", daily_on=0),
        "INSERT INTO attempts (user_pk, question_id, is_follow_up, answer, score, key_points, feedback, hinted, "
        "skipped, llm, created) VALUES (1, 'dropout', 0, 'old answer', 55, '[]', '[]', 0, 0, 0, '2025-03-01 09:00:00')")
    store = SqlStore(url)
    try:
        assert store.version == MIGRATIONS[-1][0] and {4, 5, 6} <= {v for v, _ in MIGRATIONS}
        [old] = store.attempts(ALICE)
        assert (old.answer, old.score, old.entry_hash, old.shared) == ("old answer", 55, None, False)
        store.add_flag(ALICE, "dropout", "typo", None)
        assert store.held_questions(ALICE) == {"dropout"}
        assert store.save_team(UserRef("slack-team", "C1"), "active").state == "active"
    finally:
        store.close()


def test_a_fix_of_the_key_points_keeps_the_probes_of_the_points_kept(knowledge: Path) -> None:
    from bot.core.overrides import fixed_entry

    entry = load_bank(knowledge).get("dropout")
    kept = list(must(entry.key_points)[:3])
    fixed = fixed_entry(entry, {"key_points": [*kept, "Dropout is a kind of regularization."]})
    assert fixed.key_points == (*kept, "Dropout is a kind of regularization.")
    assert [fixed.probe(i) for i in range(3)] == [entry.probe(i) for i in range(3)] and fixed.probe(3) is None
    assert fixed_entry(entry, {"question": "What does dropout do while a network trains?"}).probes == entry.probes
