"""The engine's own guarantees: one user's session and answers stay theirs; a flooding user is slowed (12, 14)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bot.core.ratelimit import RateLimiter
from bot.core.replies import Action, ReplyKind, Request, UserRef
from bot.core.testing import FakeLLM
from tests.fake_slack_api import CRITIQUE, build_coach

ALICE, BOB = UserRef("discord", "111"), UserRef("slack", "111")   # same id, other platform: still two users
CAROL = UserRef("discord", "222")


def test_case12_coach_calls_are_keyed_by_user_and_the_model_sees_one_user(tmp_path: Path, record: Any) -> None:
    llm = FakeLLM(respond=lambda prompt: json.dumps(CRITIQUE))
    coach = build_coach(tmp_path / "iso.db", llm=llm)
    list(coach.act(Request(ALICE, Action.START, topic="regularization", count=1)))
    probes = {action.value: (lambda a=action: list(coach.act(Request(BOB, a, text="BOBWORD dropout", chart=False))))
              for action in (Action.ANSWER, Action.HINT, Action.SKIP, Action.REVEAL, Action.STOP, Action.STATS)}
    probes["current"] = lambda: [coach.current(BOB)]
    leaked = [name for name, probe in probes.items()
              if any(r is not None and r.kind not in (ReplyKind.ERROR, ReplyKind.STATS) for r in probe())]
    session = coach.open_session(ALICE)
    bob_stats = next(coach.act(Request(BOB, Action.STATS, chart=False))).data.get("attempts")
    list(coach.act(Request(BOB, Action.START, topic="regularization", count=1)))
    list(coach.act(Request(CAROL, Action.START, topic="regularization", count=1)))
    answer = ("Dropout randomly turns off a fraction of neurons during each training step, so neurons cannot "
              "rely on specific other neurons ({}).")
    with ThreadPoolExecutor(3) as pool:
        done = [pool.submit(lambda u=user, w=word: list(coach.act(Request(u, Action.ANSWER, text=answer.format(w)))))
                for user, word in ((ALICE, "ALICEWORD"), (BOB, "BOBWORD"), (CAROL, "CAROLWORD"))]
    print([[r.kind.value for r in d.result()] for d in done])
    mixed = sum(sum(w in p.fixed + p.variable for w in ("ALICEWORD", "BOBWORD", "CAROLWORD")) != 1
                for p in llm.calls)
    own = all(len(coach.store.attempts(u)) == 1 and w in coach.store.attempts(u)[0].answer
              for u, w in ((ALICE, "ALICEWORD"), (BOB, "BOBWORD"), (CAROL, "CAROLWORD")))
    record(12, "Engine isolation", "Bob (same id, other platform) calls answer/hint/skip/reveal/stop/current/stats "
           "while Alice is mid-interview; 3 users answer at once, FakeLLM prompts inspected",
           f"{len(leaked)} of {len(probes)} calls reached Alice's session; Bob's stats {bob_stats} attempts; "
           f"{len(llm.calls)} model prompts, {mixed} with another user's (or no) answer; "
           f"attempts stored per owner: {own}")
    assert not leaked and session is not None and session.position == 0 and not bob_stats
    assert len(llm.calls) == 3 and mixed == 0 and own


def test_case14_a_flooding_user_is_slowed_and_others_are_not(tmp_path: Path, record: Any) -> None:
    now = [0.0]
    coach = build_coach(tmp_path / "rate.db", llm=FakeLLM(respond=lambda prompt: json.dumps(CRITIQUE)))
    coach.rate_limiter = RateLimiter(clock=lambda: now[0])
    coach.follow_ups = False
    flooder, other = UserRef("slack", "UFLOOD"), UserRef("slack", "UCALM")
    accepted, slowed, message = 0, 0, ""
    other_ok = 0
    for i in range(100):   # 100 answers in one minute
        now[0] = i * 0.6
        if coach.open_session(flooder) is None:
            list(coach.act(Request(flooder, Action.START, count=3)))
        text = "Dropout turns off random neurons during training."
        first = next(coach.act(Request(flooder, Action.ANSWER, text=text)))
        if first.kind is ReplyKind.ERROR and "quickly" in first.text:
            slowed, message = slowed + 1, first.text
        else:
            accepted += 1
        if i % 10 == 0:
            if coach.open_session(other) is None:
                list(coach.act(Request(other, Action.START, count=3)))
            reply = next(coach.act(Request(other, Action.ANSWER, text="Momentum averages past gradients.")))
            other_ok += reply.kind is ReplyKind.SCORE
    record(14, "Rate limiting", "one user sends 100 answers in 60 s while another answers every 6 s",
           f"flooder: {accepted} graded, {slowed} slowed with “{message}”; other user: {other_ok}/10 graded")
    assert slowed >= 80 and "wait" in message and other_ok == 10
