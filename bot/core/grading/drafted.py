"""A rubric for entries without key points: the reference answer split into clauses, one checkable idea each."""

from __future__ import annotations

import re

from bot.core.text import split_sentences

MAX_POINTS = 6
MAX_SENTENCES = 8     # a reference answer's rubric without key points: its first sentences
# A single line break inside a paragraph is a wrapped line (a YAML `|` block, an editor's hard wrap), not the end of
# an idea; a blank line, a bullet or a numbered item starts a new one.
_WRAPPED = re.compile(r"(?<!\n)[ \t]*\n(?![ \t]*\n|[ \t]*(?:[-*•]|\d+[.)])\s)[ \t]*")
MIN_WORDS = 3         # a clause shorter than this is glued back to its neighbour: alone it names no idea
# Where one sentence joins two ideas: semicolons, ", and" / ", but" / ", whereas" / ", which" / ", so" / ", or",
# and " whereas " without a comma. The joiner is dropped; each clause keeps its own words.
_JOINS = re.compile(r"\s*;\s*|,\s+(and|but|whereas|while|which|so|or)\s+|\s+whereas\s+", re.IGNORECASE)
_LISTING = {"and", "or"}   # ", and" after another comma ends a list ("a, b, and c"): not a clause break


def _words(text: str) -> int:
    """Word count."""
    return len(text.split())


def _merge_short(parts: list[str]) -> list[str]:
    """Clauses with fewer than MIN_WORDS words joined to the previous one (or the next, for the first)."""
    out: list[str] = []
    for part in parts:
        if out and (_words(part) < MIN_WORDS or _words(out[-1]) < MIN_WORDS):
            out[-1] = f"{out[-1]}, {part}"
        else:
            out.append(part)
    return out


def _breaks(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of each joiner outside parentheses that is not the last comma of a list."""
    out: list[tuple[int, int]] = []
    last = 0
    for match in _JOINS.finditer(sentence):
        head = sentence[:match.start()]
        if head.count("(") > head.count(")"):
            continue
        word = (match.group(1) or "").lower()
        if word in _LISTING and "," in sentence[last:match.start()]:
            continue
        out.append((match.start(), match.end()))
        last = match.end()
    return out


def split_clauses(sentence: str) -> list[str]:
    """One sentence as its clauses (a short sentence stays whole)."""
    cuts = [0, *[i for pair in _breaks(sentence) for i in pair], len(sentence)]
    parts = [sentence[a:b].strip(" ,.") for a, b in zip(cuts[::2], cuts[1::2], strict=True)]
    return _merge_short([p for p in parts if p]) or [sentence.strip()]


def _tidy(clause: str) -> str:
    """Capitalised, ending with a full stop, like a hand-written key point."""
    clause = clause.strip().rstrip(".;,:")
    return clause[:1].upper() + clause[1:] + "."


def unwrap(text: str) -> str:
    """Text with wrapped lines joined: a line break inside a paragraph becomes a space."""
    return _WRAPPED.sub(" ", text.strip())


# A sentence may start with a name from code ("copy.deepcopy makes a deep copy.", "functools.wraps keeps ...").
_CODE_START = re.compile(r"(?<=[.!?])\s+(?=[a-z_]\w*[._(]\w)")


def drafted_points(answer: str) -> tuple[str, ...]:
    """The rubric of an entry without key points: the reference answer's sentences, lines unwrapped."""
    sentences = [p for s in split_sentences(unwrap(answer)) for p in _CODE_START.split(s) if p.strip()]
    return tuple(sentences[:MAX_SENTENCES]) or (answer.strip(),)


def clause_points(answer: str, limit: int = MAX_POINTS) -> tuple[str, ...]:
    """The reference answer's clauses in order, at most `limit` (the rest of a long answer joins the last)."""
    clauses = [c for s in split_sentences(unwrap(answer)) for c in split_clauses(s)]
    if len(clauses) > limit:
        clauses = clauses[: limit - 1] + [" ".join(clauses[limit - 1:])]
    return tuple(_tidy(c) for c in clauses) or (answer.strip(),)
