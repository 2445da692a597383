"""The UNT short-answer set (Mohler and Mihalcea, v2.0) as a deck, with its student answers and human grades."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.core.bank import Bank, Deck, Entry

DECK = "unt-short-answer"
QUESTIONS = 81        # short-answer questions once the '#' (selection/ordering) ones are left out
ANSWERS = 2273        # graded student answers of those questions
_BREAK = re.compile(r"(?:\s*<br\s*/?>\s*)+", re.IGNORECASE)
# Smart quotes reach the files double-encoded (UTF-8 read as cp1252, saved again); read as Latin-1 every one
# becomes a run of non-ASCII characters. The set has no other non-ASCII text, so each run is one quote mark.
_GARBLED_QUOTE = re.compile(r"[\x80-\xff]+")


def default_dir() -> Path:
    """../shared/benchmarks/unt-short-answer next to the repository (never copied into it)."""
    return Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "unt-short-answer"


@dataclass(frozen=True)
class StudentAnswer:
    """One student's answer to one question, with the average of the two human grades (0-5)."""

    entry_id: str
    qid: str
    assignment: int
    text: str
    grade: float


@dataclass(frozen=True)
class UntSet:
    """The deck (one entry per question, the instructor answer as reference) and every graded answer."""

    bank: Bank
    answers: tuple[StudentAnswer, ...]

    def assignments(self) -> list[int]:
        """Assignment numbers, ascending (11 and 12 are the two exams)."""
        return sorted({a.assignment for a in self.answers})

    def of_assignment(self, number: int) -> list[StudentAnswer]:
        """The answers of one assignment."""
        return [a for a in self.answers if a.assignment == number]


def clean(text: str) -> str:
    """A raw line as plain text: `<br>` tags become line breaks, garbled quotes an apostrophe, spaces trimmed."""
    text = _GARBLED_QUOTE.sub("'", text)
    text = _BREAK.sub("\n", text)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def entry_id(qid: str) -> str:
    """The deck id of question x.y (ids allow no dots)."""
    return "unt-" + qid.replace(".", "-")


def read_lines(path: Path) -> list[str]:
    """Non-empty lines of a Latin-1 file."""
    return [line for line in path.read_text(encoding="latin-1").splitlines() if line.strip()]


def split_prefixed(line: str) -> tuple[str, str]:
    """('x.y', text) from a line that starts with its question id."""
    qid, _, text = line.strip().partition(" ")
    return qid, clean(text)


def selected_ids(folder: Path) -> list[str]:
    """Question ids of docs/files, in file order, without the '#' lines."""
    return [line.strip() for line in read_lines(folder / "docs" / "files") if not line.strip().startswith("#")]


def prefixed_file(path: Path) -> dict[str, str]:
    """raw/questions or raw/answers as {qid: text}."""
    return dict(split_prefixed(line) for line in read_lines(path))


def make_entry(qid: str, question: str, answer: str) -> Entry:
    """One deck entry: no key points, so the rubric comes from the instructor answer."""
    return Entry(id=entry_id(qid), question=question, answer=answer, topics=(f"assignment-{qid.split('.')[0]}",),
                 difficulty=2, kind="concept", deck=DECK)


def student_answers(folder: Path, qid: str) -> list[StudentAnswer]:
    """raw/x.y paired line by line with scores/x.y/ave."""
    lines = read_lines(folder / "raw" / qid)
    grades = [float(g) for g in read_lines(folder / "scores" / qid / "ave")]
    if len(lines) != len(grades):
        raise ValueError(f"UNT {qid}: {len(lines)} answers but {len(grades)} grades")
    out = []
    for line, grade in zip(lines, grades, strict=True):
        prefix, text = split_prefixed(line)
        if prefix != qid:
            raise ValueError(f"UNT raw/{qid}: a line is prefixed {prefix!r}")
        out.append(StudentAnswer(entry_id(qid), qid, int(qid.split(".")[0]), text, grade))
    return out


def load_unt(folder: Path | None = None, *, check_counts: bool = True) -> UntSet:
    """Read the set; with check_counts the README's 81 questions and 2,273 answers are asserted."""
    folder = folder or default_dir()
    if not (folder / "docs" / "files").is_file():
        raise FileNotFoundError(f"UNT short-answer set not found in {folder}")
    questions, references = prefixed_file(folder / "raw" / "questions"), prefixed_file(folder / "raw" / "answers")
    ids = selected_ids(folder)
    entries = [make_entry(q, questions[q], references[q]) for q in ids]
    answers = tuple(a for q in ids for a in student_answers(folder, q))
    if check_counts:
        assert len(entries) == QUESTIONS, f"expected {QUESTIONS} questions, read {len(entries)}"
        assert len(answers) == ANSWERS, f"expected {ANSWERS} answers, read {len(answers)}"
    deck = Deck(deck=DECK, title="UNT CS short-answer set (Mohler & Mihalcea 2011)", questions=entries)
    return UntSet(Bank(entries={e.id: e for e in entries}, decks={DECK: deck}), answers)
