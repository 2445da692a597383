"""Values a sentence claims: its numbers (not a formula's), its ranges, and where they disagree with a point's."""

from __future__ import annotations

import re

# A number within this factor of the point's range agrees with it ("about 0.6" for "between 0.2 and 0.5").
NUMBER_SLACK = 1.5


_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(%|percent)?")
# A number inside a formula ("1/(1-p)", "2^n", "x*2") is not a claimed value: its run of non-spaces has an operator.
# A number glued to a variable ("200n", "3x") is a coefficient of a formula too.
# A dotted address or version ("192.168.0.1", "10.x.x.x", "3.8.0") is no value either.
_FORMULA_CHUNK = re.compile(r"[/^*=]|\d-[A-Za-z]|[A-Za-z]-\d|\d[A-Za-z]\b|\d\.\d+\.[\dxX]|\d\.[xX]\b")


def _claimed(text: str) -> list[re.Match[str]]:
    """The numbers of a text that are claimed values, not parts of a formula."""
    out = []
    for match in _NUMBER.finditer(text):
        a, b = match.start(1), match.end(1)
        while a > 0 and not text[a - 1].isspace():
            a -= 1
        while b < len(text) and not text[b].isspace():
            b += 1
        if not _FORMULA_CHUNK.search(text[a:b]):
            out.append(match)
    return out


NUMBER_WORDS = {"zero": 0.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0, "seven": 7.0,
          "eight": 8.0, "nine": 9.0, "ten": 10.0, "twelve": 12.0, "hundred": 100.0, "thousand": 1000.0}


def numbers(text: str) -> list[float]:
    """The numbers of a text, percentages as fractions."""
    return [float(m.group(1)) / (100 if m.group(2) else 1) for m in _claimed(text.replace(",", ""))]


_RANGE = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?)\s*(%|percent)?\s*(?:and|to|-|–)\s*(-?\d+(?:\.\d+)?)\s*(%|percent)?"
                    r"(?![\w.]*\d)")


_SPELLED = "|".join(NUMBER_WORDS)
# "between zero and one", "from minus one to one", "zero to one": a range in words (said aloud, or by a new user)
_WORD_RANGE = re.compile(rf"\b(?:(?:between)\s+(?P<a>(?:minus\s+|negative\s+)?(?:{_SPELLED}))\s+and|"
                         rf"(?:from\s+)?(?P<b>(?:minus\s+|negative\s+)?(?:{_SPELLED}))\s+to)\s+"
                         rf"(?P<c>(?:minus\s+|negative\s+)?(?:{_SPELLED}))\b", re.IGNORECASE)


def _spelled(word: str) -> float:
    """A number word, signed ("minus one" -> -1)."""
    parts = word.casefold().split()
    return -NUMBER_WORDS[parts[-1]] if len(parts) > 1 else NUMBER_WORDS[parts[0]]


def ranges(text: str) -> list[tuple[float, float, tuple[int, int]]]:
    """The ranges a text gives ("between -1 and 1", "0 to 255", "20-50%", "between zero and one"), percentages as
    fractions, with spans."""
    out = []
    for m in _RANGE.finditer(text.replace("−", "-")):
        scale = 100 if (m.group(2) or m.group(4)) else 1
        out.append((float(m.group(1)) / scale, float(m.group(3)) / scale, m.span()))
    for m in _WORD_RANGE.finditer(text):
        out.append((_spelled(m.group("a") or m.group("b")), _spelled(m.group("c")), m.span()))
    return sorted(out, key=lambda r: r[2])


def _close(a: float, b: float) -> bool:
    """Two range ends that agree: equal, or of one sign within NUMBER_SLACK of each other."""
    return a == b or (a * b > 0 and max(abs(a), abs(b)) / min(abs(a), abs(b)) <= NUMBER_SLACK)


def range_agrees(sentence: str, point: str) -> bool:
    """Whether the sentence gives the point's range, a percentage for a fraction ("20 to 50 percent" for "between
    0.2 and 0.5"), each end within NUMBER_SLACK."""
    return any(_close(a, c) and _close(b, d) for a, b, _ in ranges(sentence) for c, d, _ in ranges(point))


def range_conflict(sentence: str, point: str) -> tuple[int, int] | None:
    """The sentence's range when the point gives another one ("-1 to 1" for "between 0 and 1")."""
    theirs = [(a, b) for a, b, _ in ranges(point)]
    mine = ranges(sentence)
    if not theirs or not mine or any((a, b) in theirs for a, b, _ in mine):
        return None
    return mine[0][2]


_EXAMPLE = re.compile(r"\b(?:for example|for instance|e\.g\.|such as|say|like)\s+(?:\w+\s+){0,2}?[\d.,]+\d*\b")


def number_conflict(sentence: str, point: str) -> tuple[int, int] | None:
    """The character span of the sentence's first number when the point gives a range and none is near it.

    "80 to 90 percent" against "between 0.2 and 0.5": the percent sign of a range is often written once.
    """
    if found_range := range_conflict(sentence, point):
        return found_range
    # "for example 100 requests per minute": a value the point gives as an example is one of many right ones
    point = _EXAMPLE.sub(" ", point)
    said, stated = numbers(sentence), [n for n in numbers(point) if n > 0]
    # the ends of a range in words count as said ("divided by 255 so they land between zero and one")
    said += [end for a, b, _ in ranges(sentence) for end in (a, b) if end not in said]
    if re.search(r"%|\bpercent\b", sentence) and stated and max(stated) <= 1:
        said = [n / 100 if 1 < n <= 100 else n for n in said]
    if not said or not stated or any(min(stated) / NUMBER_SLACK <= n <= max(stated) * NUMBER_SLACK for n in said):
        return None
    # a value the point gives, in digits or words ("6 bits" for "Six host bits"), or one inside the point's range
    # ("max(0, x)" against "between 0 and 1")
    given = numbers(point) + [NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", point.lower()) if w in NUMBER_WORDS]
    if any(n in given or any(min(a, b) <= n <= max(a, b) for a, b, _ in ranges(point)) for n in said):
        return None
    found = _claimed(sentence)
    if not found:
        return None
    # A range written "0-255000" or "80 to 90 percent" is quoted whole.
    last = max((m for m in found if m.start() - found[0].start() <= 25), key=lambda m: m.end())
    return found[0].start(), last.end()
