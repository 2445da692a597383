"""The deep-learning deck covers every answer line of the seed exactly once, and nothing else."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_bac99975c722b8a5.txt"
ADVERT_PREFIXES = ("Are you prepared for questions like", "Did you know?", "There is no better source of knowledge",
                   "We’ve already delivered")


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def answer_lines() -> list[str]:
    """The seed's answer lines: without the advertising lines and the mentor testimonials at the end."""
    lines = [norm(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    end = next(i for i, line in enumerate(lines) if line.startswith("There is no better source of knowledge"))
    return [line for line in lines[:end] if not line.startswith(ADVERT_PREFIXES)]


@pytest.mark.skipif(not SEED.exists(), reason="the seed lives in ../shared, beside the checkout")
def test_every_seed_answer_line_is_in_exactly_one_entry(real_bank) -> None:
    seed = answer_lines()
    paragraphs = [(e.id, norm(p)) for e in real_bank.entries.values() for p in e.answer.split("\n\n") if p.strip()]
    used = [0] * len(seed)
    for entry_id, paragraph in paragraphs:
        exact = [i for i, line in enumerate(seed) if line == paragraph]
        if not exact:  # typo fixes only: the paragraph must stay nearly identical to one seed line
            ratios = [difflib.SequenceMatcher(None, line, paragraph).ratio() for line in seed]
            best = max(range(len(seed)), key=ratios.__getitem__)
            assert ratios[best] > 0.97, f"{entry_id}: paragraph not from the seed: {paragraph[:80]}"
            exact = [best]
        used[exact[0]] += 1
    missing = [seed[i][:60] for i, n in enumerate(used) if n == 0]
    twice = [seed[i][:60] for i, n in enumerate(used) if n > 1]
    assert not missing and not twice, (missing, twice)
    assert len(seed) == len(paragraphs)
    assert 75 <= len(real_bank) <= 85


def test_no_advert_in_the_deck(real_bank) -> None:
    for entry in real_bank.entries.values():
        assert "mentor" not in entry.answer.lower(), entry.id
        assert not entry.answer.startswith("Did you know")


def test_near_duplicate_topics_stay_distinct_questions(real_bank) -> None:
    questions = [e.question.lower() for e in real_bank.entries.values()]
    assert len(set(questions)) == len(questions)
    for word in ("dropout", "transfer learning", "backpropagation"):
        assert sum(word in q for q in questions) >= 2, word
