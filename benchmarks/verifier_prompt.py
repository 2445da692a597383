"""The model as a claim verifier (a candidate, measured, not shipped): P(opposite) of a sentence against a point.

One forward pass per pair, no sampling: a few-shot prompt ends where the label is due and the next-token logits of
the three label words ("same", "opposite", "unrelated") are read and normalised. The fixed few-shot part is the
prompt's prefix, so the model reuses it and evaluates only the pair's own tokens. The model's free text is never
read (its free-text verdicts were measured harmful).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

LABELS = ("same", "opposite", "unrelated")

SYSTEM = ("You check a statement from a student's answer against one fact from the reference answer. Reply with one "
          "word: same (the statement agrees with the fact, or says part of it in other words), opposite (the "
          "statement contradicts the fact: roles or definitions swapped, a direction or cause reversed, the wrong "
          "phase, the wrong thing, or a wrong number), or unrelated (it is about something else).")

# Worked pairs from outside the deck (databases, networks, statistics): none is from an evaluation set.
SHOTS: tuple[tuple[str, str, str], ...] = (
    ("An index speeds up reads but slows down writes, because every insert must also update the index.",
     "Indexes make writes a bit slower since each insert also has to update the index.", "same"),
    ("TCP guarantees ordered, reliable delivery, while UDP sends datagrams without delivery guarantees.",
     "UDP retransmits lost packets and keeps them in order, while TCP just sends datagrams with no guarantee.",
     "opposite"),
    ("A cache keeps recently used results so that repeated requests are served faster.",
     "Sharding splits one table across several machines by a key.", "unrelated"),
    ("A p-value below 0.05 is commonly taken as statistically significant.",
     "A result is usually called significant when its p-value is above 0.5.", "opposite"),
    ("A thread acquires the mutex before entering the critical section and releases it after leaving.",
     "You take the lock first and give it back once the critical section is done.", "same"),
    ("The server compresses the response before sending it, and the client decompresses it after receiving.",
     "The client compresses the response once it has received it, and the server decompresses it.", "opposite"),
    ("Normalising a schema removes duplicated data, which makes updates consistent.",
     "Normalisation duplicates data across tables so that updates can become inconsistent.", "opposite"),
    ("A load balancer spreads incoming requests over several servers.",
     "Requests are distributed across many servers by the load balancer.", "same"),
)


@dataclass(frozen=True)
class Verdict:
    """The label probabilities of one (sentence, point) pair."""

    same: float
    opposite: float
    unrelated: float


class Verifier(Protocol):
    """Judges answer sentences against key points."""

    def judge(self, pairs: Sequence[tuple[str, str]]) -> list[Verdict]:
        """One verdict per (sentence, point) pair, in order."""
        ...

    def prewarm(self) -> None:
        """Evaluate the fixed few-shot prefix now (when a question is shown)."""
        ...


def _turn(role: str, text: str) -> str:
    return f"<|im_start|>{role}\n{text}<|im_end|>\n"


def pair_text(point: str, sentence: str, order: str = "fact_first") -> str:
    """One pair as the user turn shows it."""
    if order == "fact_first":
        return f"Fact: {point}\nStatement: {sentence}"
    return f"Statement: {sentence}\nFact: {point}"


def prefix(order: str = "fact_first") -> str:
    """The fixed part: system text and the worked pairs (ChatML, the packaged Qwen models' template)."""
    shots = "".join(_turn("user", pair_text(p, s, order)) + _turn("assistant", label) for p, s, label in SHOTS)
    return _turn("system", SYSTEM) + shots


def prompt(point: str, sentence: str, order: str = "fact_first") -> str:
    """The whole prompt of one pair, ending where the label is due."""
    return prefix(order) + _turn("user", pair_text(point, sentence, order)) + "<|im_start|>assistant\n"


def verdict(logits: Sequence[float]) -> Verdict:
    """Softmax over the three label tokens' logits."""
    top = max(logits)
    exp = [math.exp(v - top) for v in logits]
    total = sum(exp)
    return Verdict(*(e / total for e in exp))
