"""How an answer was spoken, from its word timestamps: pace, filler words, long pauses, length. Never scored."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bot.core.speech.base import Transcript, Word

FILLERS = frozenset({"um", "umm", "uh", "uhh", "uhm", "erm", "er", "hmm", "mm", "ah"})
PACE = (110, 170)          # words a minute: slower drags, faster is hard to follow in an interview
LONG_PAUSE = 2.5           # seconds of silence between two words that an interviewer notices
SHORT_GAP = 0.25           # a gap this long around "like" or "you know" sets it apart as a filler
TARGETS = {"concept": (30, 90), "scenario": (45, 120), "experience": (45, 120)}
FOLLOW_UP_TARGET = (15, 60)
FILLERS_PER_MINUTE_OK = 3.0
_WORD = re.compile(r"[^a-z']+")
_CLAUSE_END = (",", ".", "?", "!", ";", ":", "…", "-", "—")
# "do you know", "if you know": a real question or condition, not a filler.
_YOU_KNOW_NOT_AFTER = frozenset({"do", "did", "if", "as", "would", "could", "don't", "didn't", "whether", "what"})


def target_for(kind: str | None, follow_up: bool = False) -> tuple[int, int]:
    """The length range in seconds that suits a question of this kind."""
    if follow_up:
        return FOLLOW_UP_TARGET
    return TARGETS.get(kind or "", TARGETS["concept"])


def _norm(word: Word) -> str:
    return _WORD.sub("", word.text.lower())


def _gap(words: Sequence[Word], i: int) -> float:
    """Silence before word i (0 for the first)."""
    return max(0.0, words[i].start - words[i - 1].end) if i > 0 else 0.0


def _set_apart_before(words: Sequence[Word], tokens: list[str], i: int) -> bool:
    """Word i starts a clause: the first word, after punctuation, after a pause, or after another filler."""
    return (i == 0 or words[i - 1].text.rstrip().endswith(_CLAUSE_END) or _gap(words, i) >= SHORT_GAP
            or tokens[i - 1] in FILLERS)


def _set_apart_after(words: Sequence[Word], tokens: list[str], i: int) -> bool:
    """Word i ends a clause: the last word, punctuation after it, a pause after it, or a filler next."""
    last = i == len(words) - 1
    return (last or words[i].text.rstrip().endswith(_CLAUSE_END) or _gap(words, i + 1) >= SHORT_GAP
            or tokens[i + 1] in FILLERS)


def count_fillers(words: Sequence[Word]) -> Counter[str]:
    """Filler words: um/uh and kin always; "like" and "you know" only when set apart from the sentence (by
    punctuation or a short pause on both sides), or "like" right after another filler."""
    tokens = [_norm(w) for w in words]
    found: Counter[str] = Counter()
    for i, token in enumerate(tokens):
        if token in FILLERS:
            found["um" if token.startswith(("um", "mm", "hmm")) else "uh" if token.startswith(("uh", "er", "ah"))
                  else token] += 1
        elif token == "like" and (_set_apart_before(words, tokens, i) and _set_apart_after(words, tokens, i)
                                  or (i > 0 and tokens[i - 1] in FILLERS | {"like"})):
            found["like"] += 1
        elif (token == "you" and i + 1 < len(tokens) and tokens[i + 1] == "know"
              and (i == 0 or tokens[i - 1] not in _YOU_KNOW_NOT_AFTER)
              and _set_apart_before(words, tokens, i) and _set_apart_after(words, tokens, i + 1)):
            found["you know"] += 1
    return found


def long_pauses(words: Sequence[Word], threshold: float = LONG_PAUSE) -> list[dict[str, Any]]:
    """Silences of at least `threshold` seconds between two words: where, how long, and the word before."""
    return [{"at": round(words[i - 1].end, 1), "seconds": round(_gap(words, i), 1), "after": words[i - 1].text}
            for i in range(1, len(words)) if _gap(words, i) >= threshold]


def measure(transcript: Transcript, target: tuple[int, int] = TARGETS["concept"]) -> dict[str, Any]:
    """Pace, fillers, long pauses and length of a spoken answer, with one plain sentence on each."""
    words = transcript.words
    seconds = max(0.0, words[-1].end - words[0].start) if words else 0.0
    minutes = seconds / 60 if seconds > 0 else 0.0
    wpm = round(len(words) / minutes) if minutes else 0
    fillers = count_fillers(words)
    filler_count = sum(fillers.values())
    pauses = long_pauses(words)
    data: dict[str, Any] = {
        "seconds": round(seconds, 1), "recording_seconds": round(transcript.duration, 1), "words": len(words),
        "wpm": wpm, "pace_range": list(PACE), "fillers": dict(fillers.most_common()), "filler_count": filler_count,
        "fillers_per_minute": round(filler_count / minutes, 1) if minutes else 0.0,
        "long_pauses": len(pauses), "longest_pause": max((p["seconds"] for p in pauses), default=0.0),
        "pauses": pauses, "target_seconds": list(target), "timed": transcript.timed}
    data["notes"] = notes(data)
    return data


def notes(d: dict[str, Any]) -> list[str]:
    """One sentence on each part of the delivery."""
    low, high = d["pace_range"]
    pace = ("a little fast: slow down so each point lands" if d["wpm"] > high else
            "a little slow: keep the answer moving" if d["wpm"] < low else "a comfortable pace")
    lines = [f"Pace: {d['wpm']} words a minute, {pace}."]
    if d["filler_count"]:
        listed = ", ".join(f"{word} ×{n}" for word, n in d["fillers"].items())
        advice = (" Try a silent pause instead." if d["fillers_per_minute"] > FILLERS_PER_MINUTE_OK else "")
        lines.append(f"Filler words: {d['filler_count']} ({listed}), {d['fillers_per_minute']:g} a minute.{advice}")
    else:
        lines.append("Filler words: none.")
    if d["long_pauses"]:
        lines.append(f"Long pauses: {d['long_pauses']} (longest {d['longest_pause']:g} s).")
    lo, hi = d["target_seconds"]
    length = ("a bit short: there is room to cover more of the key points" if d["seconds"] < lo else
              "long: get to the key points sooner" if d["seconds"] > hi else "about right")
    lines.append(f"Length: {d['seconds']:.0f} s (target {lo}–{hi} s), {length}.")
    if not d.get("timed", True):
        lines.append("(Word times were estimated: the transcription server gave none.)")
    return lines


def delivery_text(d: dict[str, Any]) -> str:
    """The delivery block shown under the rubric's points."""
    return "\n".join(["Delivery (how you said it; not part of the score):"] + [f"• {n}" for n in d.get("notes", [])])
