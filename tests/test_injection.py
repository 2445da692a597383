"""Prompt injection and hostile input: text aimed at the grader never raises a score; odd input never crashes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from bot.core.grading.grader import Grader

DATA = Path(__file__).resolve().parent / "data"
REPO = DATA.parent.parent
MAX_RISE = 5
QUESTIONS = 10


def _payloads() -> list[dict[str, str]]:
    return yaml.safe_load((DATA / "injection_payloads.yaml").read_text(encoding="utf-8"))


def _labeled() -> list[dict[str, Any]]:
    path = DATA / "labeled_answers.yaml"
    if not path.exists():
        pytest.skip("tests/data/labeled_answers.yaml is not there yet")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


class CachingEmbedder:
    """The real embedder with a per-text cache: the same answer is graded under many payloads."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.cache: dict[Any, Any] = {}

    def encode(self, texts: Sequence[str]) -> list[Any]:
        missing = [t for t in dict.fromkeys(texts) if ("enc", t) not in self.cache]
        if missing:
            self.cache.update(zip((("enc", t) for t in missing), self.inner.encode(missing), strict=True))
        return [self.cache[("enc", t)] for t in texts]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed(missing), strict=True))
        return np.stack([self.cache[t] for t in texts]) if texts else self.inner.embed([])


@pytest.fixture(scope="module")
def cached(real_embedder) -> CachingEmbedder:
    return CachingEmbedder(real_embedder)


@pytest.fixture(scope="module")
def grader(cached) -> Grader:
    return Grader(cached)


@pytest.fixture(scope="module")
def undefended(cached) -> Grader:
    return Grader(cached, defend=False)


def _targets(real_bank) -> list[tuple[Any, str, str]]:
    """(entry, kind, text): a weak answer (the first sentence of a partial one) and a partial answer per question."""
    out = []
    for item in _labeled()[:QUESTIONS]:
        entry = real_bank.get(item["question_id"])
        partial = next(a["text"] for a in item["answers"] if a["quality"] == "partial")
        out += [(entry, "weak", partial.split(". ")[0].rstrip(".") + "."), (entry, "partial", partial)]
    return out


def test_payload_set_covers_every_kind() -> None:
    payloads = _payloads()
    kinds = {p["kind"] for p in payloads}
    assert len(payloads) >= 30
    assert {"override", "fake_json", "fake_delimiter", "zero_width", "homoglyph", "language", "code_block",
            "role_marker"} <= kinds


def test_injections_never_raise_a_score(grader, real_bank) -> None:
    targets = _targets(real_bank)
    assert len({entry.id for entry, _, _ in targets}) >= 10
    worst, lowest = (-100, "", ""), 0
    for entry, kind, answer in targets:
        base = grader.rubric_grade(entry, answer)
        for number, payload in enumerate(_payloads()):
            text = payload["text"].replace("{point}", entry.points[0])
            for joined in [(f"{answer} {text}", f"{answer}\n\n{text}")[number % 2]]:
                grade = grader.rubric_grade(entry, joined)
                rise = grade.score - base.score
                worst, lowest = max(worst, (rise, f"{entry.id}/{kind}", payload["text"][:60])), min(lowest, rise)
                assert rise <= MAX_RISE, (entry.id, kind, payload["text"], base.score, grade.score)
                assert grade.injected and any("addressed to the grader" in line for line in grade.feedback)
    print(f"\nlargest score rise from an injection: {worst[0]:+d} ({worst[1]}: {worst[2]!r}); "
          f"largest drop: {lowest:+d}; {len(targets)} answers x {len(_payloads())} payloads")


def test_the_defence_does_not_change_clean_answers(grader, undefended, real_bank) -> None:
    drift = 0
    count = 0
    for item in _labeled():
        entry = real_bank.get(item["question_id"])
        for answer in item["answers"]:
            on, off = grader.rubric_grade(entry, answer["text"]), undefended.rubric_grade(entry, answer["text"])
            drift = max(drift, abs(on.score - off.score))
            assert on.to_json() == off.to_json() and not on.injected
            count += 1
    print(f"\nbenign drift over {count} labeled answers: {drift}")
    assert drift == 0


def test_the_model_never_sees_injected_text(real_bank) -> None:
    from bot.core.embedder import HashEmbedder

    grader = Grader(HashEmbedder())
    entry = real_bank.get(_labeled()[0]["question_id"])
    for payload in _payloads():
        text = payload["text"].replace("{point}", entry.points[0])
        prompt = grader.critique_prompt(entry, "Dropout switches off random neurons during training. " + text)
        # The random marker's hex digits may contain "100": look only between the markers.
        head, _, rest = prompt.variable.partition("<<ANSWER-")
        body = rest.partition(">>")[2].split("<<END-")[0]
        assert "100" not in body and "grader" not in body.lower(), payload["text"]


ODD = {
    "empty": "",
    "spaces": " \n\t ",
    "huge": "Dropout randomly turns off neurons during training so the network generalizes. " * 9000,
    "one_long_word": "x" * 100_000,
    "binary": bytes(range(256)).decode("latin-1") * 40,
    "emoji": "🤖🧠🔥 " * 50,
    "emoji_text": "Dropout 🎲 randomly turns off neurons 🧠 during training so it overfits less 📉.",
    "rtl": "הנשירה מכבה נוירונים באופן אקראי בזמן האימון. التسرب يوقف الخلايا العصبية عشوائيا أثناء التدريب.",
    "rtl_marks": "\u202eDropout turns off random neurons during training\u202c and reduces overfitting.",
    "nul": "Dropout\x00 turns off neurons",
    "surrogate_like": "Dropout \ud7ff\ue000 neurons",
}


@pytest.mark.parametrize("name", list(ODD))
def test_odd_answers_are_handled_clearly(grader, real_bank, name: str) -> None:
    entry = real_bank.get(_labeled()[0]["question_id"])
    grade = grader.grade(entry, ODD[name], use_llm=False)
    data = grade.to_json()
    assert 0 <= data["score"] <= 100 and data["feedback"]
    if name in ("empty", "spaces", "binary", "emoji", "one_long_word", "nul"):
        assert grade.score == 0 and grade.flagged and grade.feedback[0].endswith(".")
    if name == "huge":
        # graded like the sentence it repeats (a one-line partial answer on the v2 scale), not blocked
        once = grader.grade(entry, ODD[name][: ODD[name].index(".") + 1], use_llm=False)
        assert grade.truncated and any("first" in line for line in grade.feedback)
        assert grade.score > 25 and abs(grade.score - once.score) <= 5, (grade.score, once.score)
    if name == "rtl":
        assert grade.score <= 10


def test_grading_modules_import_no_platform_library() -> None:
    code = ("import sys; import bot.core.grading.grader, bot.core.grading.rubric, bot.core.grading.guards, "
            "bot.core.grading.critique; "
            "print([m for m in ('discord', 'slack_bolt', 'slack_sdk', 'rich') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
