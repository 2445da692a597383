"""Interviewer mode in the core: no score until the end, probes, the time budget, adaptive difficulty, the report,
and a restart in the middle of an interview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.bank import load_bank
from bot.core.coach import STALE, Coach
from bot.core.interviewer import NO_HELP
from bot.core.modes import Mode
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef
from bot.core.store.sql import SqlStore
from bot.core.testing import fake_coach

ALICE = UserRef("test", "alice")
T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
GRADED = {ReplyKind.SCORE, ReplyKind.CRITIQUE}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def build(folder: Path, clock: Clock, url: str = "sqlite://", **options: object) -> tuple[Coach, SqlStore]:
    store = SqlStore(url)
    return fake_coach(load_bank(folder), store, clock=clock, **options), store


def act(coach: Coach, action: Action, **fields: Any) -> list[Reply]:
    return list(coach.act(Request(ALICE, action, **fields)))


def strong(coach: Coach) -> str:
    """Every key point of the open question, one sentence each."""
    session = coach.open_session(ALICE)
    assert session is not None and session.current_question_id is not None
    entry = coach.bank.get(session.current_question_id)
    return " ".join(p.rstrip(".") + "." for p in entry.points)


def level(coach: Coach) -> int:
    session = coach.open_session(ALICE)
    assert session is not None and session.current_question_id is not None
    return coach.bank.get(session.current_question_id).difficulty


def test_no_score_or_critique_during_the_interview_then_one_report(two_decks: Path, clock: Clock) -> None:
    coach, store = build(two_decks, clock)
    replies = act(coach, Action.START, mode="interviewer", count=3, deck="mini")
    assert [r.kind for r in replies] == [ReplyKind.INFO, ReplyKind.QUESTION]
    assert "interviewer mode" in replies[0].text and "no score or feedback until the end" in replies[0].text
    seen: list[Reply] = []
    while not seen or seen[-1].kind is not ReplyKind.REPORT:
        clock.tick(30)
        seen += act(coach, Action.ANSWER, text=strong(coach))
    assert not [r for r in seen if r.kind in GRADED]
    assert not [r for r in seen[:-1] if "/100" in r.text]   # no score anywhere before the report
    report = seen[-1]
    assert report.data["mode"] == "interviewer" and len(report.data["questions"]) == 3
    assert all(row["score"] >= 80 for row in report.data["questions"])
    assert report.data["verdict"].startswith("Strong")
    assert "Verdict: Strong" in report.text and report.text.count("/100") == 4   # three questions and the average
    assert store.open_session(ALICE) is None


def test_a_partial_answer_gets_two_probes_aimed_at_missing_points_then_the_interview_moves_on(
        two_decks: Path, clock: Clock) -> None:
    coach, _ = build(two_decks, clock)
    act(coach, Action.START, mode="interviewer", count=1, topic="cnn")   # the pooling question
    entry = coach.bank.get("pooling")
    first = act(coach, Action.ANSWER, text="Pooling reduces the spatial size of feature maps.")
    assert [r.kind for r in first] == [ReplyKind.INFO, ReplyKind.FOLLOW_UP]
    probe = first[1]
    target = probe.data["target_point"]
    assert target in (1, 2) and probe.actions == (Action.ANSWER, Action.SKIP, Action.STOP)
    assert entry.points[target].lower() not in probe.text.lower()   # the probe names an area, never the point
    second = act(coach, Action.ANSWER, text="It is used in most image networks.")
    assert [r.kind for r in second] == [ReplyKind.INFO, ReplyKind.FOLLOW_UP]
    other = second[1].data["target_point"]
    assert other in (1, 2) and other != target
    assert entry.points[other].lower() not in second[1].text.lower()
    answer = entry.points[other]
    last = act(coach, Action.ANSWER, text=answer + ".")
    assert [r.kind for r in last] == [ReplyKind.INFO, ReplyKind.REPORT]   # two probes at most, then on
    row = last[-1].data["questions"][0]
    assert [f["answer"] for f in row["follow_ups"]] == ["It is used in most image networks.", answer + "."]
    assert [f["covered"] for f in row["follow_ups"]] == [False, True]
    assert {m["text"]: m["recovered"] for m in row["missed"]} == {entry.points[target]: False,
                                                                  entry.points[other]: True}
    said = "Pooling reduces the spatial size of feature maps."
    assert row["covered"] == [{"text": entry.points[0], "evidence": said}]
    assert set(row["strong_adds"]) == {entry.points[1], entry.points[2]}
    assert f"You answered: \"{answer}.\" — that covers the point" in last[-1].text
    assert f"✓ {entry.points[other]} (brought out under probing; counts half)" in last[-1].text
    assert row["score"] > row["first_score"] and f"({row['first_score']}/100 before the follow-ups)" in last[-1].text


def test_an_answer_with_every_point_and_an_i_dont_know_get_no_probe(two_decks: Path, clock: Clock) -> None:
    coach, _ = build(two_decks, clock)
    act(coach, Action.START, mode="interviewer", count=2, deck="mini")
    assert [r.kind for r in act(coach, Action.ANSWER, text=strong(coach))] == [ReplyKind.INFO, ReplyKind.QUESTION]
    assert [r.kind for r in act(coach, Action.ANSWER, text="I don't know.")] == [ReplyKind.INFO, ReplyKind.REPORT]


def test_time_budget_is_shown_and_a_late_answer_counts_and_is_reported(two_decks: Path, clock: Clock) -> None:
    coach, store = build(two_decks, clock, interviewer_seconds=240)
    _, question = act(coach, Action.START, mode="interviewer", count=1, topic="cnn")
    assert "Time budget: 4:00 for this question." in question.text
    assert question.data["budget_seconds"] == 240 and question.data["deadline"] == T0.timestamp() + 240
    clock.tick(100)
    current = coach.current(ALICE)
    assert current is not None and "Time left for this question: 2:20." in current.text
    clock.tick(200)
    current = coach.current(ALICE)
    assert current is not None and "time for this question is up" in current.text
    noted, probe = act(coach, Action.ANSWER, text="Pooling reduces the spatial size of feature maps.")
    assert noted.text == "Noted. That took 5:00, over the 4:00 budget; it still counts."
    assert noted.data["timing"] == {"seconds": 300, "late": True, "budget_seconds": 240}
    assert store.attempts(ALICE)[0].score > 0   # it counts
    assert "time for this question is up" in probe.text
    report = act(coach, Action.STOP)[-1]
    row = report.data["questions"][0]
    assert row["late"] and row["seconds"] == 300 and report.data["late"] == 1
    assert "Late: over the 4:00 budget (it still counted)." in report.text
    assert "1 of 1 question went over the time budget." in report.data["verdict"]


def test_no_budget_when_the_setting_is_zero(two_decks: Path, clock: Clock) -> None:
    coach, _ = build(two_decks, clock, interviewer_seconds=0)
    _, question = act(coach, Action.START, mode="interviewer", count=1, topic="cnn")
    assert "Time" not in question.text and question.data["budget_seconds"] == 0
    clock.tick(3600)
    assert act(coach, Action.ANSWER, text="I don't know.")[0].text == "Noted."


def test_questions_get_harder_after_strong_answers_and_easier_after_weak_ones(two_decks: Path, clock: Clock) -> None:
    coach, _ = build(two_decks, clock)
    act(coach, Action.START, mode="interviewer", count=5, deck="databases")
    levels = [level(coach)]
    act(coach, Action.ANSWER, text=strong(coach))       # strong: one level up
    levels.append(level(coach))
    act(coach, Action.ANSWER, text="I don't know.")     # weak: one level down
    levels.append(level(coach))
    act(coach, Action.SKIP)                              # a skip counts as weak
    levels.append(level(coach))
    act(coach, Action.ANSWER, text=strong(coach))       # strong again
    levels.append(level(coach))
    # The deck has two questions per level; both level-2 ones were asked, so "up from 1" leans to the harder side.
    assert levels == [2, 3, 2, 1, 3]
    session = coach.open_session(ALICE)
    assert session is not None
    assert len(set(session.question_ids)) == 5 and session.question_ids[4] == session.current_question_id
    assert all(coach.bank.get(q).deck == "databases" for q in session.question_ids)


def test_hints_and_reveal_are_refused_and_skip_moves_on(two_decks: Path, clock: Clock) -> None:
    coach, store = build(two_decks, clock)
    act(coach, Action.START, mode="interviewer", count=2, deck="mini")
    before = store.open_session(ALICE)
    assert before is not None
    for action in (Action.HINT, Action.REVEAL):
        [refused] = act(coach, action)
        assert refused.kind is ReplyKind.ERROR and refused.text == NO_HELP
    after = store.open_session(ALICE)
    assert after is not None and after.position == before.position
    skipped, question = act(coach, Action.SKIP)
    assert skipped.text == "Skipped." and question.kind is ReplyKind.QUESTION
    # A button of the first question is stale now.
    [stale] = act(coach, Action.ANSWER, text="late click", turn=f"{before.id}:{before.current_question_id}")
    assert stale.text == STALE


def test_a_skipped_probe_and_a_contradiction_in_the_report(two_decks: Path, clock: Clock) -> None:
    coach, store = build(two_decks, clock)
    act(coach, Action.START, mode="interviewer", count=1, topic="cnn")
    text = ("Pooling reduces the spatial size of feature maps. "
            "Max pooling does not keep the largest value in each window.")
    noted, probe = act(coach, Action.ANSWER, text=text)
    assert probe.kind is ReplyKind.FOLLOW_UP
    skipped, report = act(coach, Action.SKIP)
    assert skipped.text == "Follow-up skipped." and report.kind is ReplyKind.REPORT
    row = report.data["questions"][0]
    assert row["contradicted"] == [{"text": "Max pooling keeps the largest value in each window",
                                    "quote": "does not keep the largest"}]
    assert "Max pooling keeps the largest value in each window" in row["strong_adds"]
    assert row["follow_ups"][0]["skipped"] and "You skipped it." in report.text
    assert 'you wrote "does not keep the largest", which contradicts it' in report.text
    assert "1 statement contradicted the reference" in report.data["verdict"]
    assert store.open_session(ALICE) is None


def test_stop_in_the_middle_reports_the_unanswered_question(two_decks: Path, clock: Clock) -> None:
    coach, _ = build(two_decks, clock)
    act(coach, Action.START, mode="interviewer", count=3, deck="mini")
    act(coach, Action.ANSWER, text=strong(coach))
    report = act(coach, Action.STOP)[-1]
    rows = report.data["questions"]
    assert [r["answered"] for r in rows] == [True, False]
    assert "not answered" in report.text and report.data["average"] == rows[0]["score"]
    assert "✗" not in report.text.split("\n\n2. ")[1]   # an unanswered question lists no missed points


def test_an_unknown_mode_is_one_sentence_and_coach_mode_stays_the_default(two_decks: Path, clock: Clock) -> None:
    coach, store = build(two_decks, clock)
    [refused] = act(coach, Action.START, mode="friendly")
    assert refused.kind is ReplyKind.ERROR and refused.text == "There is no mode 'friendly'; use coach or interviewer."
    assert store.open_session(ALICE) is None
    intro, question = act(coach, Action.START, count=1, topic="cnn")
    assert intro.text.startswith("Mock interview") and Action.HINT in question.actions
    session = store.open_session(ALICE)
    assert session is not None and session.mode is Mode.COACH
    kinds = [r.kind for r in act(coach, Action.ANSWER, text="Pooling reduces the spatial size of feature maps.")]
    assert kinds[:2] == [ReplyKind.SCORE, ReplyKind.CRITIQUE]


def test_an_interview_survives_a_restart_in_the_middle(two_decks: Path, clock: Clock, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'coach.db'}"
    coach, store = build(two_decks, clock, url)
    act(coach, Action.START, mode="interviewer", count=1, topic="cnn")
    clock.tick(30)
    first = act(coach, Action.ANSWER, text="Pooling reduces the spatial size of feature maps.")
    probe = first[-1]
    store.close()
    with sqlite_rows(tmp_path) as rows:   # the mode is stored by name, like the phase
        assert rows == [("INTERVIEWER", "AWAITING_FOLLOW_UP")]
    clock.tick(60)
    again, store = build(two_decks, clock, url)   # a new process on the same database
    resumed = again.current(ALICE)
    assert resumed is not None
    assert resumed.kind is ReplyKind.FOLLOW_UP and resumed.text.startswith(probe.text.split("\n")[0])
    assert "Time left for this question: 2:30." in resumed.text and resumed.turn == probe.turn
    assert [r.kind for r in act(again, Action.HINT)] == [ReplyKind.ERROR]   # still interviewer mode
    report = act(again, Action.SKIP)[-1]   # the cnn topic has one question: the report follows
    row = report.data["questions"][0]
    assert row["covered"][0]["evidence"] == "Pooling reduces the spatial size of feature maps."
    assert row["seconds"] == 30 and row["follow_ups"][0]["skipped"]
    store.close()


class sqlite_rows:
    """The (mode, phase) of every session, read straight from the database file."""

    def __init__(self, folder: Path) -> None:
        import sqlite3

        self.conn = sqlite3.connect(folder / "coach.db")

    def __enter__(self) -> list[tuple[str, str]]:
        return list(self.conn.execute("SELECT mode, phase FROM sessions ORDER BY id"))

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def test_points_brought_out_under_probing_are_credited_and_the_question_score_counts_them_half(
        two_decks: Path, clock: Clock) -> None:
    coach, _ = build(two_decks, clock, interviewer_seconds=20)
    act(coach, Action.START, mode="interviewer", count=1, topic="cnn")   # the pooling question
    entry = coach.bank.get("pooling")
    clock.tick(24)
    noted, probe = act(coach, Action.ANSWER, text="Pooling reduces the spatial size of feature maps.")
    assert noted.text == "Noted. That took 0:24, over the 0:20 budget; it still counts."
    target = probe.data["target_point"]
    other = ({1, 2} - {target}).pop()
    clock.tick(7)
    # The follow-up answer brings out the point the probe did not aim at.
    noted, second = act(coach, Action.ANSWER, text=entry.points[other] + ".")
    assert noted.text == ("Noted (0:07). This question has now taken 0:31 in all, over its 0:20 budget; your answer "
                          "still counts.")
    assert noted.data["timing"]["question_seconds"] == 31
    report = second   # the one point still missing was probed already: the interview moves on
    assert report.kind is ReplyKind.REPORT
    row = report.data["questions"][0]
    assert {m["text"]: m["recovered"] for m in row["missed"]} == {entry.points[target]: False,
                                                                  entry.points[other]: True}
    # Counted, but half: more than the first answer alone, less than had it been said unasked.
    assert row["brought_out"] == 1 and row["first_score"] < row["score"] < 100
    assert report.data["average"] == row["score"]
    assert f"✓ {entry.points[other]} (brought out under probing; counts half)" in report.text
    assert f"✗ {entry.points[other]}" not in report.text
    assert "brought out 1 of the 2 points missing from your first answers" in report.data["verdict"]


def test_a_flagged_question_is_passed_without_a_score_and_the_next_one_has_its_clock(two_decks: Path,
                                                                                       clock: Clock) -> None:
    from bot.cli_interview import INTERVIEWER_HELP

    assert "/flag REASON" in INTERVIEWER_HELP
    coach, store = build(two_decks, clock, interviewer_seconds=240)
    _, first = act(coach, Action.START, mode="interviewer", count=3, deck="mini")
    assert Action.FLAG in first.actions
    flagged, question = act(coach, Action.FLAG, text="wrong question")
    assert flagged.data["flagged"] and question.kind is ReplyKind.QUESTION
    assert "Time budget: 4:00 for this question." in question.text and question.data["budget_seconds"] == 240
    act(coach, Action.SKIP)
    report = act(coach, Action.STOP)[-1]
    row = report.data["questions"][0]
    assert row["flagged"] and not row["answered"] and row["score"] == 0
    block = report.text.split("\n\n2. ")[0]
    assert "— flagged for review, passed without a score" in block
    assert "✗" not in block and "A strong answer adds" not in block and "not answered" not in block
    assert report.data["average"] == 0   # the skip counts 0; the flagged question counts nothing


def test_a_perfect_interview_is_not_told_to_work_on_a_topic() -> None:
    from bot.core import interview_report
    from bot.core.bank import Bank, Entry
    from bot.core.phases import Phase
    from bot.core.store.records import AttemptRecord, SessionRecord

    topics = {"q1": ("optimization",), "q2": ("optimization", "training"), "q3": ("training",)}
    bank = Bank(entries={q: Entry(id=q, question=f"Explain {q} briefly, please.", topics=t, difficulty=2,
                                  answer="A reference answer.") for q, t in topics.items()}, decks={})
    session = SessionRecord(id=1, user=ALICE, phase=Phase.FINISHED, question_ids=list(topics))
    attempts = [AttemptRecord(ALICE, q, score, session_id=1, id=n)
                for n, (q, score) in enumerate((("q1", 100), ("q2", 100), ("q3", 90)), start=1)]
    asked = {q: {"attempt": n, "budget": 0, "difficulty": 2, "probes": []} for n, q in enumerate(topics, start=1)}
    data = interview_report.build(session, attempts, bank, asked)
    assert data["verdict"].startswith("Strong") and "Work on" not in data["verdict"] and data["next"] is None


def test_probes_are_the_decks_written_questions_and_never_state_the_point(two_decks: Path, clock: Clock) -> None:
    coach, _ = build(two_decks, clock)
    act(coach, Action.START, mode="interviewer", count=1, topic="regularization")   # the dropout question
    entry = coach.bank.get("dropout")
    said = "Dropout randomly turns off a fraction of neurons during each training step."
    first = act(coach, Action.ANSWER, text=said)
    probe = first[-1]
    assert probe.kind is ReplyKind.FOLLOW_UP
    target = probe.data["target_point"]
    assert target != 0 and probe.data["follow_up"] == entry.probe(target)   # the deck's own question, as written
    assert probe.text.startswith(f"Follow-up: {entry.probe(target)}")
    second = act(coach, Action.ANSWER, text="I think it makes training slower.")[-1]
    assert second.kind is ReplyKind.FOLLOW_UP and second.data["target_point"] not in (0, target)
    assert second.data["follow_up"] == entry.probe(second.data["target_point"])
    assert entry.points[second.data["target_point"]].lower() not in second.text.lower()
