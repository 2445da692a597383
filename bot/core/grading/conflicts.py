"""Claims that contradict the reference, found in code: negated, reversed or out-of-range statements."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass

from bot.core.grading import conflict_words as W

# How many content words after a negation it reaches ("no notion of similarity": notion, similarity).
_SCOPE = 2
# A word in this many key points names the topic ("gates" of an LSTM question).
TOPIC_POINTS = 3
# A direction word acts on what stands this close to it, in the same clause.
NEAR = 2


@dataclass(frozen=True)
class Contradiction:
    """A statement of the answer that contradicts a key point: the answer's own words and the point they deny."""

    point: int
    quote: str  # verbatim from the answer
    reason: str  # what the reference says instead: the key point
    kind: str = "negation"  # "negation", "opposite" or "number"


# Words whose suffix is part of the word: "likely" is not "like", "only" is not "on".
# "timely" is no form of "time", nor "costly" of "cost".
_UNSTEMMED = frozenset({"likely", "unlikely", "likelier", "likeliest", "timely", "costly", "early", "daily", "weekly",
                        "monthly", "yearly", "friendly", "orderly"})


def stem(word: str) -> str:
    """A crude stem, enough to match "scaling" with "scaled" and "similarity" with "similar"."""
    word = _PLURALS.get(word.casefold(), word.casefold())
    if word in _UNSTEMMED:
        return word
    for suffix in W.SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            base = word[: -len(suffix)]
            # "offsetting" and "offsets", "dropped" and "drop": a consonant doubled before -ing or -ed
            if suffix in ("ing", "ings", "ed") and base[-1] == base[-2] and base[-1] in _DOUBLED:
                return base[:-1]
            return base
    return word


_DOUBLED = frozenset("bdgmnprt")
# Latin plurals: "the confusion matrix" names what "confusion matrices" does
_PLURALS = {"matrices": "matrix", "indices": "index", "vertices": "vertex", "appendices": "appendix"}


_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-.'’][A-Za-z0-9]+)*|[,;:.()!?]")
_AUX = frozenset({"do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "can", "could", "will",
                  "would", "should", "must", "need", "ai", "shall", "might", "may"})
_RELATIVE = frozenset({"who", "which", "that", "whose", "whom"})
_PRONOUNS = frozenset({"it", "they", "we", "you", "he", "she", "i"})
_IRREGULAR = {"won": "will", "ca": "can", "sha": "shall"}  # "won't", "can't", "shan't"


def tokenize(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Lower-case words and clause punctuation with their character spans; "doesn't" is "does" + "not"."""
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(text):
        word, (a, b) = match.group().casefold().replace("’", "'"), match.span()
        if word.endswith("n't") and len(word) > 3:
            words += [_IRREGULAR.get(word[:-3], word[:-3]), "not"]
            spans += [(a, b - 3), (b - 3, b)]
        elif word == "cannot":
            words += ["can", "not"]
            spans += [(a, a + 3), (a + 3, b)]
        else:
            words.append(word[:-2] if word.endswith("'s") else word)
            spans.append((a, b))
    return words, spans


def tokens(text: str) -> list[str]:
    """The words and clause punctuation of a text (see tokenize)."""
    return tokenize(text)[0]


def content_of(words: Sequence[str]) -> list[str]:
    """The words that carry content (no punctuation, no function words)."""
    return [w for w in words if w not in W.WEAK and w not in W.PUNCT and w not in W.NEGATIONS]


def _related(a: str, b: str) -> bool:
    """Two stems name the same thing: equal, or one contains the other (interdependence, dependent)."""
    return a == b or (min(len(a), len(b)) >= 5 and (a in b or b in a))


def negated(words: Sequence[str]) -> tuple[set[str], set[str], list[tuple[int, int]]]:
    """Stems said under a negation, stems said plainly, and the (start, end) token spans of each negation.

    A negation reaches _SCOPE content words ahead in its clause; in "X is not an issue" it reaches back to X.
    """
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        start = i
        if words[i] not in W.NEGATIONS or any(tuple(words[i:i + len(idiom)]) == idiom for idiom in W.IDIOMS) \
                or _relative(words, i) or _compared(words, i) or _yes_no(words, i) or _double(words, i) \
                or _conditional(words, i) or _needed(words, i):
            i += 1
            continue
        i += 1
        taken = 0
        while i < len(words) and taken < _SCOPE and words[i] not in W.NEGATIONS and words[i] not in W.BOUNDARY:
            # "without" is a preposition: it denies its own object ("without labels"), not the next phrase ("by
            # minimizing the error"); a gerund's object goes with it ("without looking at the other").
            if words[start] == "without" and taken and words[i] in W.PREPOSITIONS and not words[i - 1].endswith("ing"):
                break
            taken += words[i] not in W.WEAK
            i += 1
        spans.append((_clause_start(words, start) if _predicate(words, start, i) else start, i))
    inside = {stem(w) for a, b in spans for w in content_of(words[a:b])}
    covered = {k for a, b in spans for k in range(a, b)}
    plain = {stem(w) for k, w in enumerate(words) if k not in covered and w in content_of([w])}
    return inside, plain, spans


def topic_stems(question: str, points: Sequence[str]) -> set[str]:
    """Stems of the question and of words in TOPIC_POINTS points or more: they name the topic, not a claim.

    "No dropout at inference" or "no single neuron can be relied on" deny a topic word, and are right. In a
    contrast question every word of the points is topic: negations there describe the other side.
    """
    if W.CONTRAST_QUESTION.search(question):
        return {stem(w) for w in content_of(tokens(" ".join([question, *points])))}
    counts: dict[str, int] = {}
    for point in points:
        for word in set(map(stem, content_of(tokens(point)))):
            counts[word] = counts.get(word, 0) + 1
    return {stem(w) for w in content_of(tokens(question))} | {w for w, n in counts.items() if n >= TOPIC_POINTS}


def hits(stems: Iterable[str], others: Iterable[str], topic: set[str]) -> list[str]:
    """Stems of the first set that name something of the second, topic words left out."""
    others = list(others)
    return [s for s in stems if (len(s) >= 3 or any(c.isdigit() for c in s))
            and not any(_related(s, t) for t in topic) and any(_related(s, o) for o in others)]


Span = tuple[int, int]  # token positions, end excluded


def negation_conflict(sentence: str, point: str, topic: set[str], plain: Set[str] = frozenset(),
                      aside: Set[str] = frozenset()) -> Span | None:
    """The negation's tokens if the sentence denies something the point states plainly.

    plain: stems the answer states without a negation elsewhere; denying one of them is a contrast ("a while loop
    may never run; a do-while runs at least once"), not a denial. aside: stems the point says only in a modifier
    ("the units dropped during training"), not what it states. A point that is itself negative ("not included",
    "reduces") is left alone: its paraphrases negate other words.
    """
    words = tokens(sentence)
    p_words = tokens(point)
    # "barely noticeable at login": a point that hedges to almost nothing is said again by "never notices"
    if (W.NEGATIVE_VERBS | W.NEGATIONS | _HEDGES | _TROUBLE) & set(p_words):
        return None
    # a word that carries its own denial ("a non-technical audience") agrees with one denied ("without a technical
    # background")
    p_plain = {s for s in negated(p_words)[1] - set(aside) - _guarded(p_words) if not s.startswith("non-")}
    allowed = _allowed_only(p_words)
    for a, b in negated(words)[2]:
        # "only kernel mode may touch hardware": "user code can't touch hardware" agrees, unless it denies it of
        # kernel mode itself.
        if allowed and not allowed <= {stem(w) for w in words[max(0, a - 8):a]}:
            continue
        if _bounded(words, a, p_words) or _likened(words, a):
            continue
        inside = {stem(w) for w in content_of(words[a:b])}
        hit = [s for s in hits(inside, p_plain, topic) if not any(_related(s, o) for o in plain)]
        # What the negation denies is the first word it reaches that is not the topic ("didn't hand-engineer word
        # features" denies hand-engineering, not the point's "word embeddings").
        first = _denied_word(words, a, b, topic)
        if hit and first in hit:
            # "doesn't support": the quote starts at "does", the token before the split-off "not".
            return a - (a > 0 and words[a] == "not" and words[a - 1] in _AUX), b
    return None


_GUARDS = frozenset({"protect", "protects", "protecting", "shield", "shields", "guard", "guards", "safe", "safeguard",
                     "safeguards"})


def _guarded(words: Sequence[str]) -> set[str]:
    """Stems a point guards against ("to protect the service from overload and abuse") or sets aside ("in a handful
    of page reads instead of scanning the whole table"): denied ("without scanning the whole table"), they agree."""
    out: set[str] = set()
    for i, word in enumerate(words):
        if (word in ("from", "against") and any(w in _GUARDS for w in words[max(0, i - 6):i])) or \
                (word in ("of", "than") and i > 0 and words[i - 1] == ("instead" if word == "of" else "rather")):
            end = next((j for j in range(i + 1, len(words)) if words[j] in W.BOUNDARY), len(words))
            out |= {stem(w) for w in content_of(words[i + 1:end])}
    return out


# Verbs that say little of their own: a negation of one denies what follows ("does not mean a better model").
_LIGHT = frozenset(stem(w) for w in ("mean", "means", "imply", "implies", "indicate", "indicates", "show", "shows",
                                     "make", "makes", "have", "has", "get", "gets", "give", "gives", "need", "needs",
                                     "require", "requires", "use", "uses", "look", "looking", "see", "take", "takes",
                                     "help", "helps", "do", "does", "become", "becomes", "support", "supports",
                                     "allow", "allows", "enable", "enables", "let", "lets", "update", "updates",
                                     "change", "changes"))
def _denied_word(words: Sequence[str], a: int, b: int, topic: set[str]) -> str | None:
    """The stem a negation denies: its first content word that is not the topic, a light verb ("does not mean") or a
    noun that hands over to its "of" phrase ("no notion of similarity")."""
    for k in range(a, b):
        if not content_of([words[k]]):
            continue
        s = stem(words[k])
        if any(_related(s, t) for t in topic) or s in _LIGHT or (k + 1 < len(words) and words[k + 1] == "of"):
            continue
        # "no neuron can count on its partners" denies what the subject can do, not the subject ("no scaling is
        # needed" denies the scaling)
        if words[a] == "no" and k + 1 < len(words) and words[k + 1] in _MODALS | {"will", "would", "should", "must"}:
            continue
        return s
    return None


_MODALS = frozenset({"may", "can", "could", "might"})
_HEDGES = frozenset({"barely", "hardly", "scarcely", "seldom", "rarely"})
# A point that says something goes badly ("struggle with long-term dependencies") is said again by a denial ("can't
# really learn dependencies that reach far back", blind part 21's strong answer).
_TROUBLE = frozenset({"struggle", "struggles", "struggling", "hamper", "hampers", "hinder", "hinders", "difficult",
                      "difficulty", "unable", "trouble"})
_BOUND = re.compile(r"\b(?:at most|up to|no more than|maximum|max|limit\w*|caps?|capped|smaller of|minimum of)\b")


def _bounded(words: Sequence[str], start: int, point: Sequence[str]) -> bool:
    """Whether a denied comparison ("never has more than the smaller of the two") restates a bound the point sets
    ("at most the smaller of"); a bound the point does not set ("cannot handle more than 10,000 rows") is a claim."""
    at = next((k for k in range(start, min(start + 3, len(words))) if words[k] in W.NEGATIONS), None)
    if at is None or not _BOUND.search(" ".join(point)):
        return False
    return any(words[k] in W.COMPARATIVES and "than" in words[k + 1:k + 3] for k in (at + 1, at + 2)
               if k < len(words))


def _allowed_only(words: Sequence[str]) -> set[str]:
    """Who a point allows something to alone ("only kernel mode may ..."): the stems between "only" and its modal."""
    for i, word in enumerate(words):
        if word == "only":
            modal = next((j for j in range(i + 1, min(i + 5, len(words))) if words[j] in _MODALS), None)
            if modal is not None:
                return {stem(w) for w in content_of(words[i + 1:modal])}
    return set()


def _relative(words: Sequence[str], index: int) -> bool:
    """Whether the negation sits in a relative clause ("people who aren't real"): it describes, it does not deny."""
    j = index - 1
    while j >= 0 and words[j] in _AUX:
        j -= 1
    if j >= 0 and words[j] in _RELATIVE:
        return True
    # "data it hasn't seen": a pronoun right after a noun opens a relative clause without "that".
    return j >= 1 and words[j] in _PRONOUNS and bool(content_of([words[j - 1]]))


def _yes_no(words: Sequence[str], index: int) -> bool:
    """Whether the "no" is half of "yes/no" or "yes or no" (a kind of answer, not a denial)."""
    before = list(words[max(0, index - 2):index])
    return words[index] == "no" and (before[-1:] == ["yes"] or before == ["yes", "or"])


def _likened(words: Sequence[str], index: int) -> bool:
    """Whether the negation's clause goes on "the way they do with ..." or "as it does ...": "gradients don't vanish
    the way they do with sigmoid" says of sigmoid what it denies of ReLU (blind part 16's right answer, flagged)."""
    end = next((j for j in range(index + 1, len(words)) if words[j] in W.PUNCT), len(words))
    tail = list(words[index + 1:end])
    return any(tail[i:i + 2] == ["the", "way"] or (tail[i] in ("as", "like") and
                                                   any(w in ("do", "does", "did") for w in tail[i + 1:i + 4]))
               for i in range(len(tail)))


def _double(words: Sequence[str], index: int) -> bool:
    """Whether the negation denies a loss ("you don't lose representational power"): the two agree with a point
    that keeps or helps."""
    nxt = [w for w in words[index + 1:index + 4] if w not in _AUX and w not in W.WEAK]
    if bool(nxt) and nxt[0] in W.LOSS_VERBS:
        return True
    # "no representational power is lost": the loss said after its thing (blind part 22's strong answer)
    tail = words[index + 1:index + 7]
    return words[index] == "no" and any(tail[k] in ("is", "are", "was", "were", "gets", "get", "be", "been")
                                        and tail[k + 1] in W.LOSS_VERBS and not W.PUNCT & set(tail[:k])
                                        for k in range(len(tail) - 1))


_BARRIERS = frozenset({"too", "hard", "harder", "difficult", "impossible", "tough"})


def _needed(words: Sequence[str], index: int) -> bool:
    """Whether "without" follows a barrier in its clause ("too few to train from scratch without overfitting", "you
    can't train it without overfitting"): it says the thing happens, it denies nothing."""
    if words[index] != "without":
        # the "can't" of "can't train it without overfitting" is the barrier itself
        end = next((j for j in range(index + 1, len(words)) if words[j] in W.PUNCT), len(words))
        return "without" in words[index + 1:end]
    start = next((j + 1 for j in range(index - 1, max(-1, index - 13), -1) if words[j] in W.PUNCT),
                 max(0, index - 12))
    return any(w in _BARRIERS or w in W.NEGATIONS for w in words[start:index])


def _conditional(words: Sequence[str], index: int) -> bool:
    """Whether the negation stands in a condition or answers one that is denied ("people won't trust a model if
    nobody can say why", "unless it is scaled", "you need to explain it, otherwise people can't trust it"): it says
    what a thing needs, it denies nothing the point states."""
    if "unless" in words:
        return True
    # "Without activation functions the layers collapse, so the network couldn't learn non-linear patterns": what
    # follows a sentence's opening "without" says what happens in its absence (a new user's trial)
    if words[:1] == ["without"] and index > 0:
        return True
    start = next((j + 1 for j in range(index - 1, -1, -1) if words[j] in W.PUNCT), 0)
    if any(w in _OTHERWISE for w in words[start:index]):
        return True
    for k, word in enumerate(words):
        if word != "if":
            continue
        end = next((j for j in range(k + 1, len(words)) if words[j] in W.PUNCT), len(words))
        if k < index < end:
            return True
        if any(w in W.NEGATIONS or w in W.CONDITION_DENIALS for j, w in enumerate(words[k + 1:end], k + 1)
               if j != index):
            return True
    return False


# What follows these says what happens without the thing named before: "..., otherwise people can't trust it".
_OTHERWISE = frozenset({"otherwise", "else"})


def _compared(words: Sequence[str], index: int) -> bool:
    """Whether the negation opens a comparison ("no better than random", "not faster than a CPU"): it sets a bound on a
    value, it denies nothing the reference states."""
    nxt = words[index + 1] if index + 1 < len(words) else ""
    return (nxt in W.COMPARATIVES or nxt.endswith("er")) and "than" in words[index + 2:index + 4]


def _predicate(words: Sequence[str], a: int, b: int) -> bool:
    """Whether the negation says "is not an issue" of what precedes it."""
    return any(words[k] in W.PREDICATES for k in range(a + 1, min(b + 1, len(words))))


def _clause_start(words: Sequence[str], index: int) -> int:
    """Where the clause holding index begins (after the last punctuation, at most 6 words back)."""
    start = index
    while start > 0 and index - start < 6 and words[start - 1] not in W.BOUNDARY:
        start -= 1
    return start
