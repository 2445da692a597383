"""Child of the durability case: imports once, then forks one answering process per "go" line on stdin.

Each forked process resumes (or starts) an interview on the SQLite file given as argv[1] and answers through the
real Coach; after each SCORE reply is handed out it writes "ATTEMPT <id>". The parent kills it with SIGKILL.
Like a person, it takes a moment between answers, so most kills land while an interview is open.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.core.coach import RateLimiter  # noqa: E402
from bot.core.replies import Action, ReplyKind, Request, UserRef  # noqa: E402
from tests.fake_slack_api import build_coach  # noqa: E402

THINK_SECONDS = 0.02
ANSWER = "Dropout randomly turns off neurons during each training step so the network overfits less."


def say(line: str) -> None:
    os.write(1, (line + "\n").encode())


def answer_forever(db: str) -> None:
    coach = build_coach(Path(db))
    coach.rate_limiter = RateLimiter(limit=10**9)
    user = UserRef("slack", "UDUR")
    session = coach.open_session(user)
    say(f"RESUME {session.id if session else 0} {session.position if session else -1}")
    while True:
        if coach.open_session(user) is None:
            list(coach.act(Request(user, Action.START, count=3)))
            say(f"START {coach.open_session(user).id}")  # type: ignore[union-attr]
        for reply in coach.act(Request(user, Action.ANSWER, text=ANSWER)):
            if reply.kind is ReplyKind.SCORE:
                say(f"ATTEMPT {reply.data['attempt_id']}")
        time.sleep(THINK_SECONDS)


def main() -> None:
    db = sys.argv[1]
    # What a served process loads once at start (Runtime.warm_up): the claim check's parser, before forking.
    from bot.core.grading.parse import shared

    shared().load()
    for _ in sys.stdin:
        pid = os.fork()
        if pid == 0:
            try:
                answer_forever(db)
            finally:
                os._exit(1)
        say(f"PID {pid}")
        os.waitpid(pid, 0)
        say("DEAD")


if __name__ == "__main__":
    main()
