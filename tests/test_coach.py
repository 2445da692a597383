"""The interview state machine through every path, with the real grader on a fast embedder and a scripted model."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.bank import load_bank
from bot.core.coach import EMPTY, FILES_ONLY, NO_SESSION, STALE, Coach
from bot.core.grading.guards import MESSAGES
from bot.core.phases import Phase
from bot.core.ratelimit import RateLimiter
from bot.core.replies import Action, Reply, ReplyKind, Request, UserRef, short_turn
from bot.core.store.sql import SqlStore
from bot.core.testing import FakeLLM, fake_coach
from bot.errors import FAILED, USER_BUSY
from tests.narrow import must

DECKS = Path(__file__).resolve().parent / "data" / "decks"
ALICE = UserRef("test", "alice")
CRITIQUE = {"strengths": ["You explained the main mechanism."], "improvements": ["Say when it is switched off."],
            "follow_up": "What changes at inference time?"}


def build(tmp_path: Path, llm: FakeLLM | None = None, **kwargs) -> tuple[Coach, SqlStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'coach.db'}")
    return fake_coach(load_bank(DECKS), store, llm=llm, **kwargs), store


def act(coach: Coach, user: UserRef, action: Action, **fields) -> list[Reply]:
    """One action's replies."""
    return list(coach.act(Request(user, action, **fields)))


def strong_answer(coach: Coach, store: SqlStore, user: UserRef) -> str:
    """An answer that states every key point of the current question."""
    session = must(store.open_session(user))
    entry = coach.bank.get(must(session.current_question_id))
    return " ".join(p.rstrip(".") + "." for p in entry.points)


@pytest.fixture()
def coach_store(tmp_path: Path):
    llm = FakeLLM(respond=lambda prompt: json.dumps(CRITIQUE))
    coach, store = build(tmp_path, llm)
    yield coach, store, llm
    store.close()


def test_start_shows_the_first_question_with_its_actions(coach_store) -> None:
    coach, store, _ = coach_store
    intro, question = act(coach, ALICE, Action.START, count=3)
    assert intro.kind is ReplyKind.INFO and "3 questions" in intro.text
    assert question.kind is ReplyKind.QUESTION and question.data["number"] == 1 and question.data["total"] == 3
    assert set(question.actions) == {Action.ANSWER, Action.HINT, Action.SKIP, Action.REVEAL, Action.STOP,
                                    Action.FLAG}
    session = store.open_session(ALICE)
    assert len(set(session.question_ids)) == 3 and session.phase is Phase.AWAITING_ANSWER


def test_answer_scores_first_then_critique_then_follow_up_then_next(coach_store, tmp_path: Path) -> None:
    coach, store, llm = coach_store
    # The order is fixed here: the scheduler's order changes with the day, and only dropout has written probes.
    store.create_session(ALICE, ["dropout", "momentum"])
    tokens: list[str] = []
    flow = coach.act(Request(ALICE, Action.ANSWER, text=strong_answer(coach, store, ALICE)), on_token=tokens.append)
    score = next(flow)
    assert score.kind is ReplyKind.SCORE and score.data["score"] >= 80
    # The attempt is committed before its score is shown: a second store on the same file sees it.
    other = SqlStore(f"sqlite:///{tmp_path / 'coach.db'}")
    assert [a.score for a in other.attempts(ALICE)] == [score.data["score"]]
    critique = next(flow)
    assert critique.kind is ReplyKind.CRITIQUE and critique.data["llm"] is True
    assert "You explained the main mechanism." in "".join(tokens)  # the prose streamed, not the JSON
    assert "{" not in "".join(tokens)
    follow = next(flow)
    # The model's question is asked when it is about the point the follow-up aims at (all are covered: the weakest),
    # else that point's written probe.
    entry, target = coach.bank.get(follow.data["question_id"]), follow.data["target_point"]
    asked = CRITIQUE["follow_up"] if "inference" in entry.points[target] else entry.probe(target)
    assert follow.kind is ReplyKind.FOLLOW_UP and follow.text == f"Follow-up: {asked}" and asked
    assert list(flow) == []
    row = other.engine.connect().execute(text("select phase from sessions")).scalar()
    assert row == "AWAITING_FOLLOW_UP"  # persisted by name
    replies = act(coach, ALICE, Action.ANSWER, text="At inference every neuron is active and outputs are scaled.")
    assert [r.kind for r in replies] == [ReplyKind.SCORE, ReplyKind.QUESTION]
    assert replies[0].data["follow_up"] is True and replies[1].data["number"] == 2
    assert len(llm.calls) == 1  # a follow-up answer is graded by the rubric against its point
    other.close()


def test_no_follow_up_without_a_probe_the_next_question_comes(coach_store) -> None:
    coach, store, _ = coach_store
    store.create_session(ALICE, ["pooling", "momentum"])   # the test deck writes no probes for pooling
    replies = act(coach, ALICE, Action.ANSWER, text=strong_answer(coach, store, ALICE))
    assert [r.kind for r in replies] == [ReplyKind.SCORE, ReplyKind.CRITIQUE, ReplyKind.QUESTION]
    assert "{" not in replies[1].text and "here?" not in replies[1].text


def test_finish_gives_a_report_card(tmp_path: Path) -> None:
    coach, store = build(tmp_path, None, follow_ups=False)
    act(coach, ALICE, Action.START, count=2)
    first = act(coach, ALICE, Action.ANSWER, text=strong_answer(coach, store, ALICE))
    assert [r.kind for r in first] == [ReplyKind.SCORE, ReplyKind.CRITIQUE, ReplyKind.QUESTION]
    assert first[1].data["llm"] is False and "rubric only" in first[1].text
    last = act(coach, ALICE, Action.ANSWER, text="I have no idea, sorry.")
    report = last[-1]
    assert report.kind is ReplyKind.REPORT and Action.START in report.actions
    scores = [row["score"] for row in report.data["questions"]]
    assert scores[0] >= 80 and scores[1] <= 5
    assert report.data["weakest"] and report.data["missed"] and report.data["next"]
    assert "Report card" in report.text and store.open_session(ALICE) is None


def test_hint_skip_reveal_stop(coach_store) -> None:
    coach, store, _ = coach_store
    act(coach, ALICE, Action.START, count=4)
    entry = coach.bank.get(store.open_session(ALICE).current_question_id)
    [hint] = act(coach, ALICE, Action.HINT)
    assert hint.kind is ReplyKind.HINT and all(p not in hint.text for p in entry.points)
    assert store.open_session(ALICE).hints_used == {entry.id: 1}
    skipped = act(coach, ALICE, Action.SKIP)
    assert [r.kind for r in skipped] == [ReplyKind.SKIPPED, ReplyKind.QUESTION]
    revealed = act(coach, ALICE, Action.REVEAL)
    assert revealed[0].kind is ReplyKind.REVEAL and revealed[0].text.startswith("Example answer")
    assert revealed[1].data["number"] == 3
    [report] = act(coach, ALICE, Action.STOP)
    assert report.kind is ReplyKind.REPORT and [r["skipped"] for r in report.data["questions"]] == [True, False]
    assert [r["revealed"] for r in report.data["questions"]] == [False, True]   # a reveal is no skip
    assert "— skipped" in report.text and "— example answer revealed (no score)" in report.text
    assert store.open_session(ALICE) is None
    assert [r.kind for r in act(coach, ALICE, Action.HINT)] == [ReplyKind.ERROR]


def test_restart_resumes_at_the_same_question(tmp_path: Path) -> None:
    coach, store = build(tmp_path)
    act(coach, ALICE, Action.START, count=3)
    act(coach, ALICE, Action.SKIP)
    question = must(store.open_session(ALICE)).current_question_id
    store.close()
    again, store2 = build(tmp_path)
    resumed = again.current(ALICE)
    assert resumed is not None and resumed.data["question_id"] == question and resumed.data["number"] == 2
    store2.close()


def test_one_call_per_user_at_a_time(tmp_path: Path) -> None:
    gate = threading.Event()

    def slow(prompt):
        gate.wait(5)
        return json.dumps(CRITIQUE)

    coach, store = build(tmp_path, FakeLLM(respond=slow))
    act(coach, ALICE, Action.START, count=2)
    answer = strong_answer(coach, store, ALICE)
    worker = threading.Thread(target=lambda: act(coach, ALICE, Action.ANSWER, text=answer))
    worker.start()
    while not coach.gate.lock(ALICE).locked():
        pass
    [busy] = act(coach, ALICE, Action.ANSWER, text="another answer")
    assert busy.kind is ReplyKind.ERROR and busy.text == USER_BUSY
    bob = UserRef("test", "bob")
    assert act(coach, bob, Action.START, count=1)[1].kind is ReplyKind.QUESTION  # others are not blocked
    gate.set()
    worker.join(5)
    assert len([a for a in store.attempts(ALICE)]) == 1


def test_flooding_user_is_slowed_with_a_clear_message(tmp_path: Path) -> None:
    coach, store = build(tmp_path, rate_limiter=RateLimiter(limit=3, window=60))
    act(coach, ALICE, Action.START, count=5)
    for _ in range(3):
        act(coach, ALICE, Action.ANSWER, text="I don't know.")
    blocked = act(coach, ALICE, Action.ANSWER, text="one more")
    assert blocked[0].kind is ReplyKind.ERROR and "wait" in blocked[0].text
    bob = UserRef("test", "bob")
    act(coach, bob, Action.START, count=1)
    assert act(coach, bob, Action.ANSWER, text="I don't know.")[0].kind is ReplyKind.SCORE


def test_unknown_topic_and_no_session(coach_store) -> None:
    coach, _, _ = coach_store
    assert act(coach, ALICE, Action.START, topic="astrology")[0].kind is ReplyKind.ERROR
    assert act(coach, ALICE, Action.ANSWER, text="hello")[0].kind is ReplyKind.ERROR
    assert "cnn" in act(coach, ALICE, Action.TOPICS)[0].text


def test_stats_has_a_chart(coach_store) -> None:
    coach, store, _ = coach_store
    act(coach, ALICE, Action.START, count=1)
    act(coach, ALICE, Action.ANSWER, text=strong_answer(coach, store, ALICE))
    [stats] = act(coach, ALICE, Action.STATS)
    assert stats.kind is ReplyKind.STATS and must(stats.image)[:8] == b"\x89PNG\r\n\x1a\n"
    assert stats.data["attempts"] == 1


def test_engine_imports_no_platform_library() -> None:
    # Loaded modules catch transitive imports of the chat platforms' libraries.
    code = ("import sys, pkgutil, importlib, bot.core\n"
            "for m in pkgutil.iter_modules(bot.core.__path__): importlib.import_module('bot.core.' + m.name)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('discord', 'slack_bolt', 'slack_sdk')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The terminal library may come in through a dependency (httpx pulls rich in); the engine never imports it.
    for path in (Path(__file__).resolve().parent.parent / "bot" / "core").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in ("rich", "discord", "slack_bolt", "slack_sdk"), (path.name, name)


def test_an_action_made_for_another_question_is_refused_in_one_sentence(coach_store) -> None:
    coach, store, _ = coach_store
    _, first = act(coach, ALICE, Action.START, count=3)
    assert first.turn == f"{store.open_session(ALICE).id}:{first.data['question_id']}"
    [hint] = act(coach, ALICE, Action.HINT, turn=first.turn)
    assert hint.kind is ReplyKind.HINT and hint.turn == first.turn   # the hint's buttons act on the same question
    act(coach, ALICE, Action.SKIP, turn=first.turn)
    for action in (Action.SKIP, Action.REVEAL, Action.HINT, Action.STOP, Action.ANSWER):
        [refused] = act(coach, ALICE, action, turn=first.turn, text="an answer to the first question")
        assert refused.kind is ReplyKind.ERROR and refused.text == STALE, action
    for old in ("", "12:dropout", "9999:" + first.data["question_id"]):   # an old button's, or a garbled one
        assert act(coach, ALICE, Action.SKIP, turn=old)[0].text == STALE
    session = store.open_session(ALICE)
    assert session.position == 1 and [a.skipped for a in store.attempts(ALICE)] == [True]
    current = coach.current(ALICE)
    assert act(coach, ALICE, Action.HINT, turn=short_turn(current.turn))[0].kind is ReplyKind.HINT


def test_a_message_typed_where_the_interview_does_not_live_is_not_its_answer(coach_store) -> None:
    coach, store, _ = coach_store
    act(coach, ALICE, Action.START, count=2, place="thread-2")
    [refused] = act(coach, ALICE, Action.ANSWER, text="Dropout turns neurons off.", place="thread-1")
    assert refused.text == STALE and store.attempts(ALICE) == []
    assert act(coach, ALICE, Action.ANSWER, text="Dropout turns neurons off.", place="thread-2")[0].kind \
        is ReplyKind.SCORE


def test_empty_and_file_only_answers_are_refused_and_nothing_is_recorded(coach_store) -> None:
    coach, store, _ = coach_store
    act(coach, ALICE, Action.START, count=1)
    assert act(coach, ALICE, Action.ANSWER, text="  \n ")[0].text == EMPTY
    assert act(coach, ALICE, Action.ANSWER, text="", files=1)[0].text == FILES_ONLY
    assert store.attempts(ALICE) == [] and store.open_session(ALICE).position == 0
    assert act(coach, ALICE, Action.ANSWER, text="Dropout, see the picture.", files=1)[0].kind is ReplyKind.SCORE
    assert act(coach, UserRef("test", "nobody"), Action.ANSWER, text="hi")[0].text == NO_SESSION


def test_a_question_back_to_the_coach_is_answered_in_one_sentence_and_nothing_is_recorded(coach_store) -> None:
    # a new user asked "what exactly do you mean by ...?" and got 13/100 with six key points marked missing
    coach, store, _ = coach_store
    act(coach, ALICE, Action.START, count=1)
    asked = "Sorry, what exactly do you mean by dropout? Could you explain it to me first and then I'll answer?"
    [refused] = act(coach, ALICE, Action.ANSWER, text=asked)
    assert refused.text == MESSAGES["asked"] and "Score" not in refused.text
    assert store.attempts(ALICE) == [] and store.open_session(ALICE).position == 0
    # a tentative answer said as a question is graded
    tentative = "Is it that dropout randomly turns off neurons during training?"
    assert act(coach, ALICE, Action.ANSWER, text=tentative)[0].kind is ReplyKind.SCORE


def test_an_answer_in_another_language_is_not_graded_and_nothing_is_recorded(coach_store) -> None:
    coach, store, _ = coach_store
    act(coach, ALICE, Action.START, count=1)
    french = "Le dropout désactive des neurones au hasard pendant l'entraînement, et le réseau est plus robuste."
    [refused] = act(coach, ALICE, Action.ANSWER, text=french)
    assert refused.text == MESSAGES["language"] and "Score" not in refused.text
    assert store.attempts(ALICE) == [] and store.open_session(ALICE).position == 0
    assert act(coach, ALICE, Action.ANSWER, text="Dropout turns off random neurons during training.")[0].kind \
        is ReplyKind.SCORE


def test_a_reservation_refuses_a_second_request_of_the_same_user_only(coach_store) -> None:
    coach, _, _ = coach_store
    with coach.reserve(ALICE) as first:
        assert first is None
        with coach.reserve(ALICE) as second, coach.reserve(UserRef("test", "bob")) as other:
            assert second is not None and second.text == USER_BUSY and other is None
    with coach.reserve(ALICE) as again:
        assert again is None


def test_a_failure_inside_the_engine_is_one_sentence_and_logged(coach_store, caplog) -> None:
    coach, _, _ = coach_store
    act(coach, ALICE, Action.START, count=1)

    def broken(*args):
        raise RuntimeError("disk on fire")

    coach.grader.hint = broken
    with caplog.at_level("ERROR"):
        [reply] = act(coach, ALICE, Action.HINT)
    assert reply.kind is ReplyKind.ERROR and reply.text == FAILED
    assert any(r.exc_info and "disk on fire" in str(r.exc_info[1]) for r in caplog.records)


def test_an_off_topic_answer_is_told_so_once(tmp_path: Path) -> None:
    coach, store = build(tmp_path)
    act(coach, ALICE, Action.START, count=2)
    replies = act(coach, ALICE, Action.ANSWER, text="I like turtles and my favourite food is pizza on sundays.")
    said = "\n".join(r.text for r in replies)
    assert said.count("doesn't seem to be about this question") == 1, said
    store.close()


def test_the_report_card_lists_flagged_and_revealed_questions_as_such(tmp_path: Path) -> None:
    coach, store = build(tmp_path)
    act(coach, ALICE, Action.START, count=3)   # the whole test deck
    act(coach, ALICE, Action.ANSWER, text=strong_answer(coach, store, ALICE))
    session = store.open_session(ALICE)
    if session is not None and session.follow_up:
        act(coach, ALICE, Action.SKIP)
    flagged = act(coach, ALICE, Action.FLAG, text="the reference answer is wrong")
    assert flagged[0].data["flagged"] and flagged[-1].data["number"] == 3
    report = act(coach, ALICE, Action.REVEAL)[-1]
    rows = report.data["questions"]
    assert [r["number"] for r in rows] == [1, 2, 3]
    assert [(r["flagged"], r["revealed"], r["skipped"]) for r in rows] == [(False, False, False), (True, False, False),
                                                                         (False, True, False)]
    assert "\n2. " in report.text and "— flagged for review (no score)" in report.text
    assert "— example answer revealed (no score)" in report.text and "— skipped" not in report.text
    assert report.data["average"] == rows[0]["score"]   # neither counts as a 0
    store.close()
