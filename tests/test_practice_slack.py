"""Slack, through the real Bolt app and the fake Web API: team practice, flags and review, export and forget,
and the privacy rules (nobody reads another person's answer, score or export through any command or button)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.access import Access
from bot.core.replies import Action, Request, UserRef
from bot.slack_app import web_client
from bot.slack_messages import SlackPoster
from bot.slack_team import RESULTS_EVENT, team_sender
from tests.fake_slack_api import FORM, FakeSlackApi, Slack, build_coach, interaction_body, running, slack_request

ADMIN, ANN, BEN, CAL = "UADMIN", "UANN", "UBEN", "UCAL"
TEAM = "CTEAM"
MONDAY = datetime(2025, 3, 3, 8, 5, tzinfo=UTC)      # 09:05 in Berlin
GOOD = ("Pooling reduces the spatial size of feature maps. Max pooling keeps the largest value in each window, and "
        "pooling has no learnable parameters. Zebra-note.")
MARK = "Zebra-note"


@pytest.fixture()
def app(tmp_path: Path, knowledge: Path) -> Any:
    access = Access(knowledge_dir=knowledge)
    with running(tmp_path, knowledge=knowledge, access=access) as served:
        served.api.state.admins.add(ADMIN)
        yield served


def said(slack: Slack, user: str, count: int = 1, timeout: float = 10.0) -> list[str]:
    """The texts the user was answered with through response_url (ephemeral), once there are `count` of them."""
    def found() -> list[str]:
        calls = [c for c in slack.api.calls("response_url") if c.args.get("text") is not None
                 and c.args.get("_to") == user]
        return [c.args["text"] for c in calls] if len(calls) >= count else []
    return slack.api.wait_for(found, timeout)


def command(slack: Slack, user: str, text: str, channel: str = "C_GENERAL", count: int | None = None) -> str:
    before = len([c for c in slack.api.calls("response_url") if c.args.get("_to") == user])
    assert slack.command(user, text, channel).status == 200
    return said(slack, user, count or before + 1)[-1]


def team_on(slack: Slack) -> None:
    reply = command(slack, ADMIN, f"team <#{TEAM}|practice> 09:00 Europe/Berlin")
    assert "Team practice is on" in reply, reply


def sender(slack: Slack, coach: Any = None, **options: Any) -> Any:
    return team_sender(coach or slack.coach, SlackPoster(web_client("xoxb-test", slack.api.url)), post_interval=0,
                       **options)


def channel_posts(slack: Slack) -> list[dict[str, Any]]:
    """The team channel's messages, thread replies included."""
    return slack.api.messages(TEAM)


def questions(slack: Slack) -> list[dict[str, Any]]:
    """The team channel's top-level posts."""
    return [m for m in slack.api.messages(TEAM) if not m.get("thread_ts")]


def interact(slack: Slack, payload: dict[str, Any]) -> None:
    assert slack_request(slack.url, interaction_body(payload), FORM).status == 200


def submit_view(slack: Slack, user: str, callback_id: str, metadata: str, values: dict[str, str]) -> None:
    state = {block: {"text": {"type": "plain_text_input", "value": value}} for block, value in values.items()}
    interact(slack, {"type": "view_submission", "user": {"id": user, "team_id": "T0001"}, "team": {"id": "T0001"},
                     "api_app_id": "A1", "token": "legacy", "trigger_id": "t",
                     "view": {"id": "V1", "type": "modal", "callback_id": callback_id, "team_id": "T0001",
                              "private_metadata": metadata, "state": {"values": state}}})


def opened_view(slack: Slack, callback_id: str, count: int = 1) -> dict[str, Any]:
    views = slack.api.wait_for(lambda: [c.args["view"] for c in slack.api.calls("views.open")
                                        if c.args["view"]["callback_id"] == callback_id][count - 1:])
    return views[-1]


def answer_team_question(slack: Slack, user: str, text: str, post: dict[str, Any], n: int) -> dict[str, Any]:
    """A member presses Answer privately on the channel post and sends the form; their feedback, from their DM."""
    slack.click(user, "coach_team_answer", post)
    view = opened_view(slack, "coach_answer_modal", n)
    submit_view(slack, user, "coach_answer_modal", view["private_metadata"], {"answer": text})
    return slack.wait_dm(user, lambda m: "coach_share" in json.dumps(m["blocks"]))


# ---------------------------------------------------------------------------------------------- setting up


def test_team_setup_refusals_are_one_sentence_each(app: Slack) -> None:
    assert "Only people who manage the app" in command(app, ANN, f"team <#{TEAM}|practice> 09:00 Europe/Berlin")
    app.api.state.outside.add("COUT")
    assert "I am not a member of that channel" in command(app, ADMIN, "team <#COUT|elsewhere> 09:00 Europe/Berlin")
    assert "'25:00' is not a time of day" in command(app, ADMIN, f"team <#{TEAM}|practice> 25:00 Europe/Berlin")
    assert "not a time zone" in command(app, ADMIN, f"team <#{TEAM}|practice> 09:00 Mars/Olympus")
    assert "Pick the channel from the list" in command(app, ADMIN, "team #practice 09:00 Europe/Berlin")
    assert "Name the channel" in command(app, ADMIN, "team 09:00 Europe/Berlin", channel="DUADMIN")
    assert app.coach.store.team(UserRef("slack-team", TEAM)) is None   # nothing was set up by a refusal
    team_on(app)
    assert "Only people who manage the app" in command(app, ANN, f"team stop <#{TEAM}|practice>")
    assert "Team practice is on" in command(app, ANN, f"team status <#{TEAM}|practice>")   # anyone may look


def test_the_team_question_is_posted_once_a_work_day_and_pause_stop_resume_work(app: Slack) -> None:
    team_on(app)
    first, second = sender(app), sender(app, coach=build_coach(Path(app.coach.store.engine.url.database)))
    assert first.tick(MONDAY - timedelta(minutes=10)) == 0            # 08:55 in Berlin: not yet
    assert first.tick(MONDAY) + second.tick(MONDAY) == 1              # two processes, one post
    assert sender(app).tick(MONDAY + timedelta(hours=3)) == 0         # a restarted process: nothing again
    posts = channel_posts(app)
    assert len(posts) == 1 and "Team question of 2025-03-03" in posts[0]["text"]
    assert posts[0]["metadata"]["event_payload"]["local_date"] == "2025-03-03"
    saturday = MONDAY + timedelta(days=5)
    assert sender(app).tick(saturday) == 0                            # no team question on weekends
    assert "paused" in command(app, ADMIN, f"team pause <#{TEAM}|practice>")
    assert sender(app).tick(MONDAY + timedelta(days=1)) == 0
    assert "Team practice is on" in command(app, ADMIN, f"team resume <#{TEAM}|practice>")
    assert sender(app).tick(MONDAY + timedelta(days=1)) == 1
    assert "stopped" in command(app, ADMIN, f"team stop <#{TEAM}|practice>")
    assert sender(app).tick(MONDAY + timedelta(days=2)) == 0
    assert "There is no team practice" in command(app, ADMIN, f"team resume <#{TEAM}|practice>")
    assert len(questions(app)) == 2


def test_a_sender_that_died_after_posting_is_not_repeated_by_the_one_that_takes_over(app: Slack) -> None:
    team_on(app)
    dying = sender(app)
    store = dying.coach.store
    mark = store.mark_daily_sent
    store.mark_daily_sent = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("killed"))   # type: ignore
    assert dying.tick(MONDAY) == 0                     # posted, then died before marking it sent
    store.mark_daily_sent = mark                       # type: ignore[method-assign]
    other = sender(app, coach=build_coach(Path(store.engine.url.database)), stale_after=timedelta(0))
    assert other.tick(MONDAY) == 0                     # took the claim over, found the post, only marked it
    assert len(channel_posts(app)) == 1
    assert other.coach.store.daily_send(UserRef("slack-team", TEAM), "2025-03-03").status == "sent"


# ---------------------------------------------------------------------------------------------- answering privately


def test_members_answer_privately_and_the_next_day_gets_anonymous_results_once(app: Slack) -> None:
    team_on(app)
    assert sender(app).tick(MONDAY) == 1
    [post] = channel_posts(app)
    feedback = answer_team_question(app, ANN, GOOD, post, 1)
    answer_team_question(app, BEN, "Pooling reduces the spatial size of feature maps.", post, 2)
    answer_team_question(app, CAL, "It makes the image smaller.", post, 3)
    assert "Score" in json.dumps(app.dm(ANN)) and "Only you see this" in json.dumps(feedback)
    # The channel holds the question only: nobody's answer, score or feedback.
    assert len(channel_posts(app)) == 1
    public = json.dumps(channel_posts(app))
    assert MARK not in public and "Score" not in public and "makes the image smaller" not in public
    # Nor does any other member's DM.
    assert MARK not in json.dumps(app.dm(BEN)) + json.dumps(app.dm(CAL))
    # A second answer by the same member is refused, in their DM.
    slack_twice = answer_attempt_count(app, ANN)
    app.click(ANN, "coach_team_answer", post)
    view = opened_view(app, "coach_answer_modal", 4)
    submit_view(app, ANN, "coach_answer_modal", view["private_metadata"], {"answer": "Again."})
    app.wait_dm(ANN, lambda m: "already answered this team question" in m["text"])
    assert answer_attempt_count(app, ANN) == slack_twice

    tuesday = MONDAY + timedelta(days=1)
    assert sender(app).tick(tuesday) == 1 and sender(app).tick(tuesday) == 0
    thread = [m for m in channel_posts(app) if m.get("thread_ts") == post["ts"]]
    [results] = thread
    assert results["metadata"]["event_type"] == RESULTS_EVENT
    text = results["text"] + json.dumps(results["blocks"])
    assert "3 people answered" in text and "lowest" in text and "median" in text and "highest" in text
    assert "most often missed" in text and "Example answer" in text
    assert MARK not in text and "makes the image smaller" not in text
    # Wednesday posts Tuesday's results, never Monday's again.
    assert sender(app).tick(tuesday + timedelta(days=1)) == 1
    assert len([m for m in channel_posts(app) if m.get("thread_ts") == post["ts"]]) == 1
    # Yesterday's question is closed: its form refuses an answer.
    app.click(BEN, "coach_team_answer", post)
    view = opened_view(app, "coach_answer_modal", 5)
    submit_view(app, BEN, "coach_answer_modal", view["private_metadata"], {"answer": "Late answer."})
    app.wait_dm(BEN, lambda m: "That team question is closed" in m["text"])


def answer_attempt_count(app: Slack, user: str) -> int:
    return len(app.coach.store.attempts(UserRef("slack", user)))


def test_fewer_than_three_answers_show_no_score_figures(app: Slack) -> None:
    team_on(app)
    sender(app).tick(MONDAY)
    [post] = channel_posts(app)
    answer_team_question(app, ANN, GOOD, post, 1)
    sender(app).tick(MONDAY + timedelta(days=1))
    [results] = [m for m in channel_posts(app) if m.get("thread_ts") == post["ts"]]
    assert "1 person answered" in results["text"] and "lowest" not in json.dumps(results)
    assert "nobody's score can be told apart" in json.dumps(results)


def test_share_posts_only_ones_own_answer_and_others_cannot_share_it(app: Slack) -> None:
    team_on(app)
    sender(app).tick(MONDAY)
    [post] = channel_posts(app)
    feedback = answer_team_question(app, ANN, GOOD, post, 1)
    share = next(e for b in feedback["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == "coach_share")
    # Ben replays Ann's Share button (its value is her attempt id): refused, nothing posted.
    app.click(BEN, "coach_share", feedback, value=share["value"])
    app.wait_dm(BEN, lambda m: "not yours" in m["text"])
    assert [m for m in channel_posts(app) if m.get("thread_ts") == post["ts"]] == []
    app.click(ANN, "coach_share", feedback)
    shared = app.api.wait_for(lambda: [m for m in channel_posts(app) if m.get("thread_ts") == post["ts"]])
    assert "Real UANN shared their answer" in shared[0]["text"] and MARK in json.dumps(shared[0])
    app.click(ANN, "coach_share", feedback)
    app.wait_dm(ANN, lambda m: "already shared" in m["text"])


def test_answer_by_dm_is_answered_in_the_dm_thread(app: Slack) -> None:
    team_on(app)
    sender(app).tick(MONDAY)
    [post] = channel_posts(app)
    app.click(ANN, "coach_team_dm", post)
    question = app.wait_dm(ANN, lambda m: "Team question" in m["text"])
    from tests.fake_slack_api import dm_event
    app.event(dm_event(ANN, GOOD, f"{time.time():.6f}", thread_ts=question["ts"]), "Ev-team-1")
    app.wait_dm(ANN, lambda m: "coach_share" in json.dumps(m["blocks"]))
    assert len(channel_posts(app)) == 1
    assert app.coach.store.attempts(UserRef("slack", ANN))[0].answer == GOOD


# ---------------------------------------------------------------------------------------------- flags and review


def test_flag_button_form_review_fix_and_dismiss(app: Slack, knowledge: Path) -> None:
    app.command(ANN, "start 2")
    question = app.question(ANN)
    app.click(ANN, "coach_flag", question)
    view = opened_view(app, "coach_flag_modal")
    submit_view(app, ANN, "coach_flag_modal", view["private_metadata"], {"reason": "The key points are wrong"})
    app.wait_dm(ANN, lambda m: "flagged for review" in m["text"])
    app.wait_dm(ANN, lambda m: "Question 2 of 2" in m["text"])       # the interview moved on
    flagged = app.coach.store.flags()[0].question_id
    assert flagged in app.coach.store.held_questions(UserRef("slack", ANN))
    # Not a reviewer: the queue stays closed, and so do its buttons.
    assert "Only reviewers" in command(app, BEN, "review")
    app.click(BEN, "coach_review_dismiss", question, value="1")
    assert "Only reviewers" in said(app, BEN, 2)[-1]
    # A workspace admin sees it, and fixes the key points through the form.
    queue = command(app, ADMIN, "review")
    assert "1 flagged question" in queue
    response = [c for c in app.api.calls("response_url") if c.args["_to"] == ADMIN][-1].args
    assert "coach_review_fix" in json.dumps(response["blocks"])
    app.click(ADMIN, "coach_review_fix", {"ts": "1", "blocks": response["blocks"]})
    form = opened_view(app, "coach_review_modal")
    assert app.coach.bank.get(flagged).question in json.dumps(form)
    submit_view(app, ADMIN, "coach_review_modal", form["private_metadata"],
                {"question": app.coach.bank.get(flagged).question, "answer": app.coach.bank.get(flagged).answer,
                 "key_points": "First fixed point\nSecond fixed point\nThird fixed point"})
    app.wait_dm(ADMIN, lambda m: "Fixed" in m["text"])
    assert app.coach.bank.get(flagged).key_points == ("First fixed point", "Second fixed point", "Third fixed point")
    assert "First fixed point" in (knowledge / "mini.overrides.yaml").read_text()
    assert app.coach.store.held_questions(UserRef("slack", ANN)) == set()
    # A second flag, dismissed.
    list(app.coach.act(Request(UserRef("slack", BEN), Action.FLAG, text="typo", target="momentum")))
    app.click(ADMIN, "coach_review_dismiss", question, value=str(app.coach.store.flags()[0].id))
    assert "Dismissed" in said(app, ADMIN, 2)[-1]


def test_a_flag_without_reason_or_on_a_removed_question_gets_one_sentence(app: Slack) -> None:
    assert "Say what is wrong" in json.dumps(slack_flag(app, ANN, ""))
    list(app.coach.act(Request(UserRef("slack", ANN), Action.START, count=1)))
    app.coach.bank.entries.pop(app.coach.open_session(UserRef("slack", ANN)).current_question_id)
    assert "no longer in the question bank" in json.dumps(slack_flag(app, ANN, "wrong"))


def slack_flag(app: Slack, user: str, reason: str) -> dict[str, Any]:
    mark = len(app.dm(user))
    app.command(user, f"flag {reason}".strip())
    return app.api.wait_for(lambda: app.dm(user)[mark:])[-1]


# ---------------------------------------------------------------------------------------------- export and forget


def uploads(api: FakeSlackApi) -> list[Any]:
    return api.calls("files.completeUploadExternal")


def test_export_is_the_askers_own_data_sent_to_their_dm(app: Slack) -> None:
    assert "no answers to export" in command(app, BEN, "export csv")
    list(app.coach.act(Request(UserRef("slack", ANN), Action.START, count=1)))
    list(app.coach.act(Request(UserRef("slack", ANN), Action.ANSWER, text=GOOD)))
    assert "only you can see it" in command(app, ANN, "export csv")
    [done] = app.api.wait_for(lambda: uploads(app.api))
    assert done.args["channel_id"] == "DUANN"
    raw = app.api.wait_for(lambda: [c.raw for c in app.api.calls("upload")])[0]
    assert GOOD.encode()[:30] in raw and b"question_id" in raw
    # Ben has nothing, whatever he types: there is no way to name another user.
    assert "no answers to export" in command(app, BEN, f"export csv {ANN}")
    assert "not an export format" in command(app, ANN, "export pdf")


def test_forget_asks_then_deletes_only_the_pressers_data(app: Slack) -> None:
    for user in (ANN, BEN):
        list(app.coach.act(Request(UserRef("slack", user), Action.START, count=1)))
        list(app.coach.act(Request(UserRef("slack", user), Action.ANSWER, text=GOOD)))
    list(app.coach.act(Request(UserRef("slack", ANN), Action.DAILY, daily=True, time="08:00", zone="UTC")))
    ask = command(app, ANN, "forget")
    assert "cannot be undone" in ask and app.coach.store.attempts(UserRef("slack", ANN))
    response = [c for c in app.api.calls("response_url") if c.args["_to"] == ANN][-1].args
    app.click(ANN, "coach_forget", {"ts": "1", "blocks": response["blocks"]})
    assert "Deleted" in said(app, ANN, 2)[-1]
    assert app.coach.store.attempts(UserRef("slack", ANN)) == [] and app.coach.store.get_user(
        UserRef("slack", ANN)) is None
    assert app.coach.store.users_with_daily_on() == []                  # off the daily schedule too
    assert len(app.coach.store.attempts(UserRef("slack", BEN))) == 1    # Ben's data is untouched
    assert "no answers to export" in command(app, ANN, "export jsonl")


def test_results_are_not_posted_twice_when_the_question_after_them_failed(app: Slack,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.slack_team

    team_on(app)
    team = sender(app)
    team.tick(MONDAY)
    [post] = questions(app)
    real = bot.slack_team.team_message
    failing = iter([RuntimeError("killed between the results and the question")])

    def once(reply: Any, day: str) -> Any:
        error = next(failing, None)
        if error is not None:
            raise error
        return real(reply, day)

    monkeypatch.setattr(bot.slack_team, "team_message", once)
    tuesday = MONDAY + timedelta(days=1)
    assert team.tick(tuesday) == 0                     # the results went out, the question did not
    assert len([m for m in channel_posts(app) if m.get("thread_ts") == post["ts"]]) == 1
    assert team.tick(tuesday) == 1                     # the claim's owner retries at once
    assert len([m for m in channel_posts(app) if m.get("thread_ts") == post["ts"]]) == 1
    assert len(questions(app)) == 2
