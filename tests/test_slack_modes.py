"""Interviewer mode and deck choice on Slack: signed requests into the real Bolt app on loopback, the real Coach
(two decks installed), and the fake Web API (users.info says who administers the workspace)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.replies import UserRef
from tests.fake_slack_api import TEAM, Slack, dm_event, running


def _text(message: dict[str, Any]) -> str:
    return "\n".join(b["text"]["text"] for b in message["blocks"] if b.get("type") == "section")


def _buttons(message: dict[str, Any]) -> list[str]:
    return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


@pytest.fixture()
def two(tmp_path: Path, two_decks: Path) -> Iterator[Slack]:
    """The app with the mini and databases decks; U9 is named in COACH_SLACK_MANAGERS."""
    with running(tmp_path, knowledge=two_decks, admins=frozenset({"U9"})) as served:
        yield served


def ask(slack: Slack, user: str, text: str) -> str:
    """Run `/interview <text>` and wait for its private answer."""
    before = len(slack.api.calls("response_url"))
    assert slack.command(user, text).status == 200
    calls = slack.api.wait_for(lambda: len(slack.api.calls("response_url")) > before and
                               slack.api.calls("response_url"))
    return str(calls[before].args["text"])


def test_interviewer_mode_in_the_dm_probes_and_reports_at_the_end(slack: Slack) -> None:
    assert slack.command("U1", "start interviewer cnn 1").status == 200
    intro = slack.wait_dm("U1", lambda m: "interviewer mode" in _text(m))
    assert "no score or feedback until the end" in _text(intro)
    question = slack.question("U1")
    assert _buttons(question) == ["coach_answer", "coach_skip", "coach_stop", "coach_flag"]
    context = [b for b in question["blocks"] if b["type"] == "context"]
    assert context and "<!date^" in context[0]["elements"][0]["text"]   # the deadline in the reader's own time
    assert "Time budget: 4:00" in _text(question)
    slack.event(dm_event("U1", "Pooling reduces the spatial size of feature maps.", ts="2000.000100"), "Ev1")
    probe = slack.wait_dm("U1", lambda m: _text(m).startswith("*Follow-up"))
    noted = slack.wait_dm("U1", lambda m: _text(m).startswith("Noted"))
    assert probe["thread_ts"] == noted["thread_ts"] == "2000.000100"
    assert _buttons(probe) == ["coach_answer", "coach_skip", "coach_stop"]
    # A reply in the thread answers the follow-up.
    slack.event(dm_event("U1", "It is used in most image networks.", ts="2000.000300", thread_ts="2000.000100"),
                "Ev2")
    slack.wait_dm("U1", lambda m: _text(m).startswith("*Follow-up") and m["ts"] != probe["ts"])
    slack.command("U1", "stop", channel="DU1")
    report = slack.wait_dm("U1", lambda m: "Interview report" in _text(m))
    assert "Verdict:" in _text(report) and "You answered: \"It is used in most image networks.\"" in _text(report)
    assert not [m for m in slack.dm("U1") if _text(m).startswith("*Score")]   # no score before the report


def test_the_workspace_default_deck_is_for_admins_and_a_member_picks_their_own(two: Slack) -> None:
    listing = ask(two, "U1", "deck")
    assert "Decks installed:" in listing and "• databases" in listing and "This workspace's default: none" in listing
    refused = ask(two, "U1", "deck databases workspace")
    assert refused == "Only someone who can manage this workspace can change its default deck."
    assert two.coach.store.space_deck("slack", TEAM) is None
    two.api.set_role("U2", "admin")
    assert ask(two, "U2", "deck databases workspace") == "This workspace's default deck is now 'databases'."
    assert {c.args["user"] for c in two.api.calls("users.info")} >= {"U1", "U2"}   # the role comes from Slack
    # Named in COACH_SLACK_MANAGERS, without a Slack role.
    assert ask(two, "U9", "deck workspace mini") == "This workspace's default deck is now 'mini'."
    ask(two, "U9", "deck databases workspace")
    assert "direct messages" in ask(two, "U3", "start 3")   # typed in a channel: the interview is in the DM
    two.question("U3")
    assert all(q.startswith("db-") for q in two.coach.open_session(UserRef("slack", "U3")).question_ids)
    assert ask(two, "U3", "deck mini") == "Your interviews and daily questions now come from the deck 'mini'."
    assert ask(two, "U3", "deck kubernetes") == "There is no deck 'kubernetes'. Decks: databases, mini."
    topics = ask(two, "U3", "topics")
    assert "regularization" in topics and "indexing" not in topics
    assert ask(two, "U3", "deck a b") == ("Use `/interview deck [name]`, or `/interview deck name workspace` for "
                                          "the workspace's default.")


def test_an_interview_goes_on_after_the_app_restarts(tmp_path: Path) -> None:
    with running(tmp_path) as slack:
        slack.command("U1", "start mode:interviewer cnn 1", channel="DU1")
        slack.question("U1")
        slack.event(dm_event("U1", "Pooling reduces the spatial size of feature maps.", ts="3000.000100"), "Ev1")
        slack.wait_dm("U1", lambda m: _text(m).startswith("*Follow-up"))
    with running(tmp_path) as slack:   # a new process on the same database
        assert slack.coach.open_session(UserRef("slack", "U1")).mode.value == "interviewer"
        slack.command("U1", "stop", channel="DU1")
        report = slack.wait_dm("U1", lambda m: "Interview report" in _text(m))
        assert 'you said: "Pooling reduces the spatial size of feature maps."' in _text(report)
