"""Grading against hostile users and hostile models: injections, broken model output, over-long context (4, 5, 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.core.embedder import HashEmbedder
from bot.core.grading.grader import Grader
from bot.core.llm.llama import LlamaCppLLM
from bot.core.replies import Action, ReplyKind, Request, UserRef
from bot.core.testing import FakeLLM
from tests.fake_slack_api import build_coach
from tests.test_injection import MAX_RISE, _labeled, _payloads, _targets

RUBRIC_ONLY = "(Feedback from the rubric only"
GOOD = ("Dropout randomly turns off a fraction of neurons during each training step, so neurons cannot rely on "
        "specific other neurons. It is only applied during training.")
VALID = {"verdicts": [], "errors": [], "strengths": ["Clear."], "improvements": ["Say more."],
         "follow_up": "What happens at inference time?"}


# ---------------------------------------------------------------------------------------------- case 4


class CachedEmbedder:
    """The real embedder with a per-text cache: the same weak answer is graded with 40 payloads."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.cache: dict[str, Any] = {}

    def encode(self, texts: Any) -> Any:
        missing = list(dict.fromkeys(t for t in texts if ("enc", t) not in self.cache))
        if missing:
            self.cache.update(zip((("enc", t) for t in missing), self.inner.encode(missing), strict=True))
        return [self.cache[("enc", t)] for t in texts]

    def embed(self, texts: Any) -> Any:
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.array([self.cache[t] for t in texts])


def _largest_rise(grader: Grader, real_bank: Any) -> tuple[int, int, str]:
    """(largest score change, pairs tried, where): every payload appended to every weak and partial answer."""
    worst, pairs = (-100, ""), 0
    for entry, kind, answer in [t for t in _targets(real_bank) if t[1] == "weak"]:
        base = grader.rubric_grade(entry, answer).score
        for number, payload in enumerate(_payloads()):
            text = payload["text"].replace("{point}", entry.points[0])
            joined = f"{answer}\n\n{text}" if number % 2 else f"{answer} {text}"
            rise = grader.rubric_grade(entry, joined).score - base
            worst = max(worst, (rise, f"{entry.id}/{kind}/{payload['kind']}"))
            pairs += 1
    return worst[0], pairs, worst[1]


def test_case4_injections_change_no_score(real_embedder: Any, real_bank: Any, record: Any) -> None:
    cached = CachedEmbedder(real_embedder)
    grader, undefended = Grader(cached), Grader(cached, defend=False)
    rise, pairs, where = _largest_rise(grader, real_bank)
    drift, clean = 0, 0
    for item in _labeled():
        entry = real_bank.get(item["question_id"])
        for answer in item["answers"]:
            on, off = grader.rubric_grade(entry, answer["text"]), undefended.rubric_grade(entry, answer["text"])
            drift, clean = max(drift, abs(on.score - off.score)), clean + 1
    kinds = sorted({p["kind"] for p in _payloads()})
    record(4, "Prompt injection (real embedder)",
           f"{len(_payloads())} payloads ({', '.join(kinds)}) appended to the weak "
           f"answers of {len({e.id for e, _, _ in _targets(real_bank)})} questions",
           f"{pairs} graded pairs; largest score change {rise:+d} ({where}); benign drift {drift} over {clean} "
           "clean answers")
    assert len(_payloads()) >= 30 and rise <= MAX_RISE and drift == 0


# ---------------------------------------------------------------------------------------------- case 5

HOSTILE: dict[str, list[str]] = {
    "not JSON": ["Sure! Here is my critique: great answer, 100/100."] * 2,
    "cut off": ['{"verdicts": ["agrees"], "strengths": ["Good', '{"strengths": ["Clear"], "improvements": ["Sa'],
    "empty": ["", ""],
    "wrong types": ['{"strengths": "all good", "improvements": 5, "follow_up": []}'] * 2,
    "too many items": [json.dumps(VALID | {"strengths": ["x"] * 20, "improvements": ["y"] * 20})] * 2,
    "out of range claim": [json.dumps(VALID | {"verdicts": ["contradicts"] * 40,
                                               "errors": [{"claim": 999, "quote": "x" * 5, "why": "wrong"},
                                                          {"claim": -1, "quote": "dropout", "why": "wrong"}]})],
    "forged score": [json.dumps(VALID | {"score": 1000, "rubric_score": 100})],
    "quote not in the answer": [json.dumps(VALID | {"verdicts": ["contradicts"] * 3, "errors": [
        {"claim": 1, "quote": "dropout is a kind of optimizer", "why": "wrong claim"}]})],
    "huge strings": [json.dumps(VALID | {"strengths": ["z" * 100_000], "follow_up": "w" * 50_000})],
    "bad then good": ["{oops", json.dumps(VALID)],
}


def _mini_entry(bank: Any) -> Any:
    return bank.get("dropout")


@pytest.mark.parametrize("name", list(HOSTILE))
def test_case5_hostile_model_output_through_the_grader(test_bank: Any, name: str) -> None:
    grader = Grader(HashEmbedder(), llm=FakeLLM(list(HOSTILE[name])))
    entry = _mini_entry(test_bank)
    base = grader.rubric_grade(entry, GOOD)
    final = grader.critique(entry, GOOD, base)
    assert final.score == base.score and final.feedback  # the model never changes the score
    if not final.llm:
        assert any("rubric only" in note for note in final.notes)
    assert all(len(line) < 2_000 for line in final.feedback)


def test_case5_hostile_model_output_through_the_coach(tmp_path: Path, record: Any) -> None:
    outcomes: dict[str, str] = {}
    for number, (name, responses) in enumerate(HOSTILE.items()):
        coach = build_coach(tmp_path / f"c{number}.db", llm=FakeLLM(list(responses)))
        user = UserRef("slack", "U5")
        list(coach.act(Request(user, Action.START, topic="regularization", count=1)))
        replies = list(coach.act(Request(user, Action.ANSWER, text=GOOD)))
        kinds = [r.kind for r in replies]
        critique = next(r for r in replies if r.kind is ReplyKind.CRITIQUE)
        attempt = coach.store.attempts(user)[0]
        assert kinds[:2] == [ReplyKind.SCORE, ReplyKind.CRITIQUE] and ReplyKind.ERROR not in kinds, name
        assert attempt.score == replies[0].data["score"], name
        assert (RUBRIC_ONLY in critique.text) == (not attempt.llm), name
        outcomes[name] = "critique" if attempt.llm else "rubric-only (marked)"
    for fail in (RuntimeError("model crashed"), TimeoutError("model too slow")):
        coach = build_coach(tmp_path / f"f{fail.__class__.__name__}.db", llm=FakeLLM(fail=fail))
        user = UserRef("slack", "U5")
        list(coach.act(Request(user, Action.START, topic="regularization", count=1)))
        replies = list(coach.act(Request(user, Action.ANSWER, text=GOOD)))
        assert RUBRIC_ONLY in replies[1].text
        outcomes[f"raises {fail.__class__.__name__}"] = "rubric-only (marked)"
    fallback = sum(v.startswith("rubric") for v in outcomes.values())
    record(5, "Hostile model output", f"{len(outcomes)} kinds: {', '.join(outcomes)}; through Grader.critique and "
           "Coach.answer", f"0 crashes, 0 scores changed; {fallback} fell back to rubric-only (marked), "
           f"{len(outcomes) - fallback} validated and used")


# ---------------------------------------------------------------------------------------------- case 7


def test_case7_over_long_context_is_trimmed(tiny_gguf: Path, tmp_path: Path, record: Any) -> None:
    model = LlamaCppLLM(tiny_gguf, n_threads=2, n_ctx=256, seed=3)
    try:
        coach = build_coach(tmp_path / "ctx.db", llm=model)
        coach.follow_ups = False
        user = UserRef("slack", "U7")
        list(coach.act(Request(user, Action.START, topic="regularization", count=1)))
        long_answer = (GOOD + " ") * 400   # about 12k words against a 256-token context
        replies = list(coach.act(Request(user, Action.ANSWER, text=long_answer)))
        stats = model.last_stats
        kinds = [r.kind for r in replies]
        record(7, "Over-long context (tiny GGUF, n_ctx 256)", "a 12k-word answer plus the critique prompt through "
               "Coach.answer → Grader.critique → LlamaCppLLM",
               f"prompt {stats.prompt_tokens} tokens after trimming {stats.trimmed_tokens}; replies "
               f"{[k.value for k in kinds]}; errors shown 0")
        assert ReplyKind.ERROR not in kinds and kinds[:2] == [ReplyKind.SCORE, ReplyKind.CRITIQUE]
        assert stats.prompt_tokens <= model.n_ctx
    finally:
        model.close()
