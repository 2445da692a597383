"""The wrong entity: a clause that restates a key point but names what the entry never names in the point's place.

"PyTorch is an open-source framework developed by the Google Brain team" restates "PyTorch is an open-source deep
learning framework from Facebook's AI Research lab" word for word, except that where the point names Facebook the
clause names Google, which the entry (question, key points, reference answer) never mentions. A name is a word
written as one (a capital inside a sentence, an acronym, letters with digits: "Google", "TF-IDF", "L2"); a clause
restates a point when it shares most of the point's content words. The point must lose a word of its own there
(the name replaced), so an answer that adds a name beside the point's own ("Adam, from Kingma and Ba, combines
RMSprop and momentum") is not flagged.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.core.grading.initials import shortens
from bot.core.grading.vocabulary import clauses, is_content, text_stems

# A clause restates a point when it shares at least this many of the point's content words ...
MIN_SHARED = 3
# ... and at least this share of them.
MIN_SHARE = 0.5
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_NAME = re.compile(r"(?:[A-Z][a-z]*[A-Z0-9][\w-]*|[A-Za-z]+\d[\w-]*|[A-Z][A-Z0-9-]+[a-z]?|[A-Z][a-z]+)$")


@dataclass(frozen=True)
class Misnamed:
    """A clause naming another entity where a key point names its own: the point, the answer's words, the name."""

    point: int
    quote: str
    name: str


def entry_stems(texts: Sequence[str]) -> frozenset[str]:
    """Every stem the entry uses (question, key points, reference answer), and the initials of its runs of two to
    five words: "GRU" is known where the entry says "gated recurrent unit"."""
    stems = {s for text in texts for s in text_stems(text)[0]}
    stems |= {s for text in texts for w in re.findall(r"[\w-]+", text) if "-" in w
              for part in w.split("-") if part for s in text_stems(part)[0]}
    for text in texts:
        # "Facebook's AI Research" gives "FAIR": a possessive ending is no word of its own
        words = [w for w in re.findall(r"[A-Za-z]+", re.sub(r"['’]s\b", "", text))]
        for n in range(2, 6):
            stems |= {"".join(w[0] for w in words[i:i + n]).casefold() for i in range(len(words) - n + 1)}
            # an acronym inside the run gives all its letters ("Facebook AI Research": "FAIR")
            stems |= {"".join(w if w.isupper() and len(w) <= 4 else w[0] for w in words[i:i + n]).casefold()
                      for i in range(len(words) - n + 1)}
    return frozenset(stems)


def _known(name: str, known: frozenset[str]) -> bool:
    """Whether the entry uses this name, or each part of it ("ROC-AUC"), or spells out its initials ("CNNs")."""
    parts = re.split(r"[-/]", name)
    for part in parts:
        # "GPU-backed": a plain word joined to a name is no name of its own
        if len(parts) > 1 and not _NAME.match(part):
            continue
        bare = part[:-1] if len(part) > 2 and part.endswith("s") and part[:-1].isupper() else part
        forms = (part, bare, bare + "s")
        if part and not any(set(text_stems(f)[0]) <= known or f.casefold() in known for f in forms):
            return False
    return True


def _names(text: str) -> list[tuple[str, int, int]]:
    """The words of a text written as names, with their spans; a capital word opening the text is not one."""
    out = []
    for m in _WORD.finditer(text):
        word = m.group().rstrip("'’")
        if _NAME.match(word) and (m.start() > 0 or not re.fullmatch(r"[A-Z][a-z]+", word)):
            out.append((word, m.start(), m.end()))
    return out


def _spelled_out(clause: str, at: int, written: Collection[str]) -> bool:
    """Whether the name at `at` is one word of a run of capitalized words that spells out a name the entry uses, cut
    short ("Artificial Intelligence" for "AI", "Amazon Web Services" for "AWS")."""
    words = list(_WORD.finditer(clause))
    k = next((i for i, m in enumerate(words) if m.start() == at), None)
    if k is None:
        return False
    lo = hi = k
    while lo > 0 and words[lo - 1].group()[:1].isupper():
        lo -= 1
    while hi + 1 < len(words) and words[hi + 1].group()[:1].isupper():
        hi += 1
    run = [m.group().removesuffix("'s").removesuffix("’s") for m in words[lo:hi + 1]]
    # a name cut short keeps capitals of the words it cuts ("AWS", "LayerNorm"), unlike a capital opening a text
    short = {name for name in written if sum(c.isupper() for c in name) >= 2}
    return any(shortens(name, run[i:j]) for i in range(len(run)) for j in range(i + 2, len(run) + 1)
               for name in short)


def names_of(text: str, start: int = 0, end: int | None = None) -> list[str]:
    """The words of a text written as names ("Docker", "SageMaker", "L2"), those between start and end."""
    return [word for word, a, b in _names(text) if start <= a and (end is None or b <= end)]


# "returns the prediction as JSON": a name after "as" gives a form or a role, not the point's entity
_EXAMPLES = re.compile(r"\b(?:e\.g\.|eg|such as|like|for example|for instance|say|as)\s*,?\s*$", re.IGNORECASE)


def _example(clause: str, at: int) -> bool:
    """Whether the name at this position is one of several examples ("a REST endpoint (Flask or FastAPI)", "such as
    Flask"): an example beside the point's words names a tool, it does not replace the point's entity."""
    opened = clause.rfind("(", 0, at)
    if opened > clause.rfind(")", 0, at):
        closed = clause.find(")", at)
        inside = clause[opened + 1:closed if closed > 0 else len(clause)]
        if re.search(r"\bor\b|/|,|\be\.g\.", inside):
            return True
    # a later name of a list of examples ("such as He or Xavier") is an example too
    return bool(_EXAMPLES.search(_LISTED.sub("", clause[:at])))


# Names listed before the one at hand: "He or ", "Flask, Django and "
_LISTED = re.compile(r"(?:\s*\b[A-Z][\w.-]*(?:\s*,\s*(?:(?:or|and)\s+)?|\s+(?:or|and)\s+|\s*/\s*))+$")


def _content(text: str) -> set[str]:
    """The content stems of a text."""
    return {s for s in text_stems(text)[0] if is_content(s)}


def _acronym_given(word: str, said: set[str]) -> bool:
    """Whether an acronym's singular or plural ("RBM" for "RBMs", "CNNs" for "CNN") is among the stems said."""
    if len(word) < 2 or not word.rstrip("s").isupper():
        return False
    bare = word[:-1] if word.endswith("s") else word
    return any(set(text_stems(form)[0]) <= said for form in (bare, bare + "s"))


def _inside(word: str, words: Collection[str]) -> bool:
    """Whether a name ends or starts a longer word of the answer: "FastAPI" gives the API, "PyTorch" Torch."""
    low = word.lower()
    return len(low) >= 3 and any(len(w) > len(low) and (w.endswith(low) or w.startswith(low)) for w in words)


def _lost(point: str, said: set[str], words: Collection[str] = ()) -> set[str]:
    """The stems of the point's names that the answer never gives. Names listed with "or" ("apps like DeepArt or
    Prisma", "AWS, Azure or GCP") are alternatives: giving one gives the list; names listed with "and" ("Word2Vec
    and GloVe") are each claimed."""
    runs: list[list[str]] = []
    joins: list[str] = []
    examples: list[bool] = []
    end = -1
    for word, a, b in _names(point):
        between = point[end:a] if end >= 0 else ""
        if runs and re.fullmatch(r"\s*(?:,|,?\s*(?:or|and))\s*", between):
            runs[-1].append(word)
            joins[-1] += between
        else:
            runs.append([word])
            joins.append("")
            # "Architectures like AlexNet, VGG and ResNet": names the point gives as examples are not claimed
            examples.append(bool(_EXAMPLES.search(point[:a])))
        end = b
    out: set[str] = set()
    for run, join, example in zip(runs, joins, examples, strict=True):
        if example:
            continue
        stems = [set(text_stems(w)[0]) for w in run]
        # "RBMs" is given by "an RBM": an acronym's plural is the same name.
        stems = [set() if _acronym_given(w, said) or _inside(w, words) else s for w, s in zip(run, stems, strict=True)]
        if re.search(r"\bor\b", join):
            if not any(s <= said for s in stems):
                out |= set().union(*stems)
        else:
            out |= set().union(*stems) - said
    return out


def misnamed(sentence: str, points: Sequence[str], known: frozenset[str], candidates: Sequence[int],
             answer: str = "", written: Collection[str] = ()) -> list[Misnamed]:
    """The clauses of a sentence that restate a candidate point with a name the entry never uses, in place of a name
    of the point that the answer never gives (written: the names the entry writes, "AI", "AWS")."""
    found = []
    said = set(text_stems(answer or sentence)[0])
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", answer or sentence)}
    for a, b in clauses(sentence):
        clause = sentence[a:b]
        novel = [(w, x, y) for w, x, y in _names(clause) if not _known(w, known) and not _example(clause, x)
                 and not _spelled_out(clause, x, written)]
        if not novel:
            continue
        mine = _content(clause)
        for p in candidates:
            theirs = _content(points[p])
            shared = mine & theirs
            lost = _lost(points[p], said, words)
            if len(shared) >= MIN_SHARED and len(shared) >= MIN_SHARE * len(theirs) and lost:
                word, x, y = novel[0]
                found.append(Misnamed(p, clause[x:y], word))
                break
    return found
