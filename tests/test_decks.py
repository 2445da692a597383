"""Choosing the deck in the core: a server's or workspace's default, a user's own pick, one interview's deck,
daily questions from the chosen deck, a deck that disappeared, and the choices surviving a restart."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.bank import load_bank
from bot.core.coach import Coach
from bot.core.daily import DailyDispatcher
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.core.store.db import MIGRATIONS
from bot.core.store.sql import SqlStore
from bot.core.testing import FakeDailyPort, fake_coach
from tests.narrow import must
from tests.olddb import OLD_USER, old_database

ALICE = UserRef("discord", "1")
BOB = UserRef("discord", "2")
SERVER = "guild-1"
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
MINI = {"dropout", "momentum", "pooling"}


def build(folder: Path, url: str = "sqlite://") -> tuple[Coach, SqlStore]:
    store = SqlStore(url)
    return fake_coach(load_bank(folder), store, clock=lambda: NOW), store


@pytest.fixture()
def coach(two_decks: Path) -> Coach:
    return build(two_decks)[0]


def act(coach: Coach, user: UserRef, action: Action, **fields: Any) -> list[Reply]:
    return list(coach.act(Request(user, action, **fields)))


def interview_ids(coach: Coach, user: UserRef, **fields: object) -> set[str]:
    replies = act(coach, user, Action.START, count=20, space=SERVER, **fields)
    assert replies[-1].kind is ReplyKind.QUESTION, replies[-1].text
    return set(must(coach.open_session(user)).question_ids)


def test_with_no_choice_questions_come_from_every_deck(coach: Coach) -> None:
    assert interview_ids(coach, ALICE) == set(coach.bank.entries)
    [overview] = act(coach, ALICE, Action.DECK, space=SERVER)
    assert overview.text.splitlines()[:3] == ["Decks installed:",
                                              "• databases — A second small deck for tests (databases) (6 questions)",
                                              "• mini — A small deck for unit tests (3 questions)"]
    assert "This server's default: none (every deck)." in overview.text
    assert overview.data["effective"] is None


def test_a_manager_sets_the_servers_default_and_others_may_not(coach: Coach) -> None:
    [refused] = act(coach, BOB, Action.DECK, deck="mini", for_space=True, space=SERVER)
    assert refused.kind is ReplyKind.ERROR
    assert refused.text == "Only someone who can manage this server can change its default deck."
    assert coach.store.space_deck("discord", SERVER) is None
    [done] = act(coach, ALICE, Action.DECK, deck="mini", for_space=True, space=SERVER, admin=True)
    assert done.text.startswith("This server's default deck is now 'mini'.")
    assert interview_ids(coach, BOB) == MINI
    [topics] = act(coach, BOB, Action.TOPICS, space=SERVER)
    assert topics.data["topics"] == {"cnn": 1, "optimization": 1, "regularization": 1}
    [refused] = act(coach, BOB, Action.START, topic="indexing", space=SERVER)
    assert refused.text == "There is no topic 'indexing'. Topics: cnn, optimization, regularization."
    # In a DM there is no server to set a default for.
    [nowhere] = act(coach, ALICE, Action.DECK, deck="mini", for_space=True, admin=True)
    assert nowhere.text == "A default deck belongs to a server: run this command in one."


def test_a_user_picks_their_own_deck_for_interviews_and_daily_questions(coach: Coach) -> None:
    act(coach, ALICE, Action.DECK, deck="mini", for_space=True, space=SERVER, admin=True)
    [picked] = act(coach, BOB, Action.DECK, deck="databases", space=SERVER)
    assert picked.text == "Your interviews and daily questions now come from the deck 'databases'."
    assert interview_ids(coach, BOB) == {e for e in coach.bank.entries if e.startswith("db-")}
    act(coach, BOB, Action.STOP)
    list(coach.act(Request(BOB, Action.DAILY, daily=True, time="09:00", zone="UTC")))
    port = FakeDailyPort("discord")
    assert DailyDispatcher(coach, port).tick(NOW) == 1
    assert port.sent[0][2].data["question_id"].startswith("db-")
    # "default" follows the server again, "all" takes every deck whatever the server says.
    act(coach, BOB, Action.DECK, deck="default")
    assert interview_ids(coach, BOB) == MINI
    act(coach, BOB, Action.DECK, deck="all")
    assert interview_ids(coach, BOB) == set(coach.bank.entries)


def test_one_interview_can_name_its_deck_and_a_wrong_name_is_one_sentence(coach: Coach) -> None:
    assert interview_ids(coach, ALICE, deck="mini") == MINI
    assert must(coach.open_session(ALICE)).deck == "mini"
    before = must(coach.open_session(ALICE)).id
    [refused] = act(coach, ALICE, Action.START, deck="kubernetes")
    assert refused.kind is ReplyKind.ERROR and refused.text == "There is no deck 'kubernetes'. Decks: databases, mini."
    assert must(coach.open_session(ALICE)).id == before   # nothing was changed
    [refused] = act(coach, ALICE, Action.DECK, deck="kubernetes")
    assert refused.text == "There is no deck 'kubernetes'. Decks: databases, mini."
    assert must(coach.store.get_user(ALICE)).deck is None


def test_a_deck_that_is_gone_falls_back_with_one_sentence(two_decks: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'coach.db'}"
    coach, store = build(two_decks, url)
    act(coach, ALICE, Action.DECK, deck="mini", for_space=True, space=SERVER, admin=True)
    act(coach, BOB, Action.DECK, deck="databases", space=SERVER)
    store.close()
    (two_decks / "databases.yaml").unlink()   # the operator removed the deck; the bot restarts
    coach, store = build(two_decks, url)
    note, intro, question = act(coach, BOB, Action.START, count=2, space=SERVER)
    assert note.text == ("Your deck 'databases' is no longer installed, so questions come from this server's "
                         "default deck 'mini' instead.")
    assert question.kind is ReplyKind.QUESTION and must(coach.open_session(BOB)).deck == "mini"
    assert must(store.get_user(BOB)).deck == "databases"   # kept: the file may come back
    act(coach, BOB, Action.STOP)
    list(coach.act(Request(BOB, Action.DAILY, daily=True, time="09:00", zone="UTC")))
    port = FakeDailyPort("discord")
    assert DailyDispatcher(coach, port).tick(NOW) == 1
    daily = port.sent[0][2]
    assert daily.text.startswith("Your deck 'databases' is no longer installed") and daily.data["question_id"] in MINI
    store.close()
    (two_decks / "mini.yaml").rename(two_decks / "mini.yml.off")
    shutil.copy(Path(__file__).parent / "data" / "decks" / "more" / "databases.yaml", two_decks)
    coach, store = build(two_decks, url)   # now the server's default is the one that is gone
    note, *_ = act(coach, ALICE, Action.START, count=1, space=SERVER)
    assert note.text == ("This server's default deck 'mini' is no longer installed, so questions come from every "
                         "deck instead.")
    store.close()


def test_choices_survive_a_restart(two_decks: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'coach.db'}"
    coach, store = build(two_decks, url)
    act(coach, ALICE, Action.DECK, deck="databases", for_space=True, space=SERVER, admin=True)
    act(coach, BOB, Action.DECK, deck="mini", space=SERVER)
    store.close()
    coach, store = build(two_decks, url)
    assert store.space_deck("discord", SERVER) == "databases" and must(store.get_user(BOB)).deck == "mini"
    assert must(store.get_user(BOB)).space == SERVER
    [overview] = act(coach, BOB, Action.DECK)   # from a DM: the server last used is remembered
    assert "This server's default: databases." in overview.text
    assert "Your questions come from the deck 'mini' (your own pick)." in overview.text
    store.close()


def test_slack_calls_it_a_workspace(coach: Coach) -> None:
    user = UserRef("slack", "U1")
    [refused] = act(coach, user, Action.DECK, deck="mini", for_space=True, space="T1")
    assert refused.text == "Only someone who can manage this workspace can change its default deck."


def test_an_older_database_gains_the_mode_and_deck_columns(tmp_path: Path) -> None:
    url = old_database(   # as round 1 left it: no mode, deck or space columns, no spaces table
        tmp_path / "old.db", 3, "DROP TABLE spaces", "ALTER TABLE sessions DROP COLUMN mode",
        "ALTER TABLE users DROP COLUMN deck", "ALTER TABLE users DROP COLUMN space",
        OLD_USER.format(platform="discord", user_id="1", daily_on=0),
        "INSERT INTO sessions (user_pk, phase, question_ids, position, hints_used, extra, created, updated) "
        "VALUES (1, 'AWAITING_ANSWER', '[\"dropout\"]', 0, '{}', '{}', '2025-03-01 08:00:00', '2025-03-01 08:00:00')")
    store = SqlStore(url)
    try:
        assert store.version == MIGRATIONS[-1][0]
        session = store.open_session(ALICE)
        assert session is not None and session.mode.value == "coach"   # a session from before modes
        store.set_space_deck("discord", SERVER, "mini", set_by="1")
        assert store.space_deck("discord", SERVER) == "mini"
        assert store.update_user(ALICE, deck="mini").deck == "mini"
    finally:
        store.close()
