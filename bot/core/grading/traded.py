"""Two parallel statements whose predicates trade places: "high bias is what you get when the model overfits".

An entry often says two things of the same shape about two subjects: "High bias leads to underfitting" and "High
variance leads to overfitting" (two points), or "A feedforward network treats inputs as independent, while an RNN
treats them as related" (one point). The words that tell the two apart ("underfitting", "overfitting") are rarely
a pair the antonym lists know, and a wrong answer says them in the reference's own words, of the other subject. Here
each statement is read from the dependency parse as its subject and the non-noun words of its main clause; a clause
of the answer whose subject is one statement's and whose words hold what only the other statement says of its own
subject, and none of what its own statement says, has traded them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.core.grading.conflicts import stem
from bot.core.grading.parse import Parser
from bot.core.grading.roles import GENERAL

_VERBS = frozenset({"VERB", "AUX"})
# The words that say what a statement claims of its subject: not its nouns, which the two statements share or name.
_MARKS = frozenset({"ADJ", "VERB", "ADV"})
_CONTRASTS = frozenset({"while", "whereas", "whilst", "but", "although", "though", "unlike"})
# A clause that denies or relates is not a plain claim ("does not overfit", "like high variance, ...").
_DENIES = re.compile(r"(?i)\b(?:not|no|never|neither|nor|instead|rather|unlike|both|like|similar(?:ly)?|same|"
                     r"either|as well|each other)\b|n't\b")
# Verbs that say what a thing is: a clause with one states its subject's definition, whatever the point's verb.
_DEFINING = frozenset({"be", "mean", "measure", "tell", "describe", "represent", "compute", "calculate", "give",
                       "show", "capture", "quantify", "indicate", "reflect", "refer", "denote", "equal"})
# At most this many words tell two parallel statements apart.
_APART = 3
_PLAIN = frozenset({"be", "have", "do", "get", "make", "use", "can", "will", "would", "may", "also", "just", "very",
                    "more", "less", "most", "only", "often", "usually", "typically", "then", "so", "too", "much"})


@dataclass(frozen=True)
class Statement:
    """A clause's subject (stems naming it), the stems of its content words, and its non-noun content stems."""

    subject: frozenset[str]
    words: frozenset[str]
    marks: frozenset[str]
    span: tuple[int, int]
    verb: str = ""
    listed: frozenset[str] = frozenset()   # nouns that are items of a list of three ("rules, search or learning")


def _name(token: Any) -> frozenset[str]:
    """The stems naming a subject: its head and compounds, and a modifier of a general head ("feedforward network")."""
    general = token.lower_ in GENERAL
    words = [t for t in token.children if (t.dep_ == "compound" and t.pos_ in ("NOUN", "PROPN", "ADJ"))
             or (general and t.dep_ == "amod")]
    return frozenset(stem(t.lower_) for t in [*words, token] if t.is_alpha and t.lower_ not in GENERAL)


def _word(token: Any) -> str:
    """A content word's stem; an adverb on a copula keeps its ending: "were actually right" says nothing of "actual
    positive cases", while "people who actually have the disease" are the actual cases."""
    hedge = token.pos_ == "ADV" and token.lower_.endswith("ly") and token.head.lemma_ == "be"
    return token.lower_ if hedge else stem(token.lower_)


def _joined(verb: Any, main_only: bool) -> set[int]:
    """Token indices of clauses under `verb` that are read apart: a clause with its own subject joined by "and",
    a contrast ("whereas ..."), and in `main_only` any subordinate clause too ("because the model ...")."""
    out: set[int] = set()
    for c in verb.subtree:
        if c.i == verb.i or c.pos_ not in _VERBS:
            continue
        own_subject = any(k.dep_ in ("nsubj", "nsubjpass") for k in c.children)
        contrast = any(k.lower_ in _CONTRASTS for k in c.children if k.dep_ in ("mark", "cc", "prep"))
        # "Precision is how many ... are right, recall is how many ..." parses the first clause as the second's
        # complement: a clause with its own subject before the verb is a statement of its own.
        spliced = own_subject and c.dep_ == "ccomp" and c.i < verb.i
        if contrast or spliced or (own_subject and c.dep_ in ("conj", "parataxis")) or \
                (main_only and own_subject and c.dep_ in ("advcl", "ccomp") and verb.lemma_ != "be"):
            out |= {t.i for t in c.subtree}
    return out


def statements(doc: Any, main_only: bool = False) -> list[Statement]:
    """Each clause of a parsed text with a plain noun subject."""
    out = []
    for verb in doc:
        if verb.pos_ not in _VERBS or verb.dep_ not in ("ROOT", "conj", "advcl", "ccomp"):
            continue
        subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subject is None or subject.pos_ not in ("NOUN", "PROPN") or not (name := _name(subject)):
            continue
        inside = {t.i for t in subject.subtree}
        apart = _joined(verb, main_only)
        tokens = [t for t in verb.subtree if t.i not in apart and not t.is_punct]
        content = [t for t in tokens if t.i not in inside and t.is_alpha and not t.is_stop
                   and t.lemma_.lower() not in _PLAIN]
        start, end = min(t.idx for t in tokens), max(t.idx + len(t.text) for t in tokens)
        out.append(Statement(name, frozenset(_word(t) for t in content),
                             frozenset(_word(t) for t in content if t.pos_ in _MARKS), (start, end),
                             verb.lemma_.lower(),
                             frozenset(_word(t) for t in content if t.pos_ == "NOUN" and len(t.conjuncts) >= 2)))
    return out


@lru_cache(maxsize=256)
def _entry(points: tuple[str, ...], parser: Parser) -> list[tuple[int, Statement]]:
    """Each point's statements, read once per entry (every sentence of every answer is checked against them)."""
    return [(p, s) for p, doc in enumerate(parser.parse(list(points))) for s in statements(doc, main_only=True)]


def traded(sentence: str, points: Sequence[str], parser: Parser, answer: str = "") -> list[tuple[int, str]]:
    """(point, quote) for each clause of `sentence` that says of one statement's subject what only a parallel
    statement of the entry says of its own."""
    said = [s for s in statements(parser.parse([sentence])[0])
            if not _DENIES.search(sentence[s.span[0]:s.span[1]])]
    if not said:
        return []
    entry = _entry(tuple(points), parser)
    whole = (answer or sentence).casefold()
    every: list[Statement] | None = None
    out = []
    for mine in said:
        for p, own in ((p, s) for p, s in entry if s.subject == mine.subject):
            for _, other in entry:
                if not (other.subject - own.subject and own.subject - other.subject) or other.verb != own.verb:
                    continue   # not a parallel statement of another subject: no shared frame ("leads to")
                # the answer's clause says it in that frame or as what its subject is ("high bias is what you get
                # when ...", "precision measures ..."), not with a verb of its own ("Deep learning stacks ...
                # artificial neurons" is no trade with "... are both branches of artificial intelligence": blind
                # part 15, a right answer)
                if mine.verb != own.verb and mine.verb not in _DEFINING:
                    continue
                theirs, ours = other.marks - own.words, own.marks - other.words
                # what tells the two apart is a word or two each ("underfitting", "overfitting")
                # ... and the answer says the other's words of its subject, not as an item of a list ("AI ...
                # whether through rules, search or learning" says nothing that learns: blind part 18, a right answer)
                if not 0 < len(theirs) <= _APART or not 0 < len(ours) <= _APART or mine.words & ours or \
                        2 * len((mine.words - mine.listed) & theirs) < len(theirs):
                    continue
                # a trade names both subjects; and the answer never gives its own subject its own words
                if not all(w in whole for w in sorted(other.subject)):
                    continue
                if every is None:
                    every = statements(parser.parse([answer])[0]) if answer else said
                if any(s.subject == mine.subject and s.words & ours for s in every):
                    continue
                out.append((p, sentence[mine.span[0]:mine.span[1]]))
                break
            else:
                continue
            break
    return out

