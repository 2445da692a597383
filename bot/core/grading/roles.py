"""Who does what, by the parse: a clause that gives a point's action to another participant of that point.

"the discriminator creates new data instances from random noise" against "A GAN pairs a generator that creates data
with a discriminator judging authenticity": the point's verb ("create") and its object ("data") are said, but of
"discriminator", a noun the point names in another role. The sibling-term checks (claims.py, crossing.py) need both
names as terms of the entry's vocabulary, and "generator network" there leaves a bare "generator" unnamed; here each
side is read as (subject, verb, object) triples from spaCy's dependency parse, so any noun the point names counts.

A clause is flagged only when its verb (or a verb of the same action: "makes" for "creates") and object are the
point's (or what the entry's points do that action to elsewhere: "generates new images"), its subject is another
noun of the same point that the point never makes the subject of that verb, the answer never gives that verb and
object to the point's own subject, and nothing in the sentence denies, contrasts or relates ("not", "instead of",
"both", "like").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.core.grading.conflicts import stem
from bot.core.grading.initials import initials
from bot.core.grading.parse import Parser

# Verbs that say too little to bind a role: "is", "has", "uses", "does", "gets", "makes".
_LIGHT = frozenset({"be", "have", "do", "get", "use", "make", "let", "help", "allow", "need", "include", "become",
                    "call", "see", "give", "keep", "go", "come", "work", "involve", "mean", "contain"})
# Nouns too general to name a participant: "the generator network" is named by "generator".
GENERAL = frozenset({"network", "model", "net", "part", "component", "thing", "one", "system", "unit", "module",
                      "process", "step", "way", "kind", "type", "something", "side"})
# A sentence that denies, contrasts, relates two participants or hedges is not a plain claim of who does what.
_GENERAL_STEMS = frozenset(stem(w) for w in GENERAL)
_RELATING = re.compile(r"(?i)\b(?:not|no|never|n't|neither|nor|instead|rather|unlike|whereas|both|also|too|like|"
                       r"similar(?:ly)?|either|as well|each other|in turn|mutual(?:ly)?|together|same)\b|n't\b")
_OPENING_ALSO = re.compile(r"(?i)^\s*(?:and\s+)?also\s*,\s*")
_SUBJECTS = frozenset({"nsubj", "csubj"})
# Verbs that name one action in other words ("the discriminator makes new images" against "the generator creates
# data"): each maps to the group's first lemma, so a swap said with a synonym of the point's verb is still a swap.
_SAME_ACTION = (("create", "make", "produce", "generate", "synthesize", "output", "build", "construct"),
                ("judge", "evaluate", "assess", "check", "classify", "distinguish", "discriminate", "detect",
                 "verify", "rate", "score", "spot"),
                ("reduce", "decrease", "lower", "lessen", "shrink", "diminish", "cut"),
                ("increase", "raise", "boost", "grow", "enlarge"),
                ("remove", "drop", "delete", "discard", "eliminate", "erase"),
                ("send", "transmit", "forward", "emit", "publish"),
                ("store", "save", "persist", "cache", "retain", "hold"),
                ("read", "fetch", "retrieve", "load"),
                ("update", "adjust", "modify", "change", "alter", "tweak"),
                ("predict", "estimate", "forecast"),
                ("compute", "calculate"),
                ("combine", "merge", "aggregate"),
                ("split", "divide", "partition"),
                ("choose", "select", "pick"),
                ("release", "free", "unlock"),
                ("acquire", "lock", "grab"))
_CANON = {verb: group[0] for group in _SAME_ACTION for verb in group}
# "make" names creating only with a plain object: "makes training faster" causes, it creates nothing.
_CAUSATIVE = frozenset({"oprd", "ccomp", "xcomp", "acomp"})
# A noun after these is the means, not a doer: "DQN approximates Q-values with a deep network".
_INSTRUMENTS = frozenset({"with", "using", "via", "through", "by", "from"})
_RELATIVE = frozenset({"that", "which", "who", "whom"})


@dataclass(frozen=True)
class Triple:
    """One action: who does it (stems naming the subject), the verb's lemma, what it is done to (object stems)."""

    subject: frozenset[str]
    verb: str
    objects: frozenset[str]
    span: tuple[int, int]   # character span of the clause, subject to object
    words: str = ""         # the subject's last word and the verb as written ("discriminator creates")
    described: frozenset[str] = frozenset()   # nouns inside the object's phrase ("a policy that tells the agent")


def _name(token: Any) -> frozenset[str]:
    """The stems that name a noun phrase's head: the head and its compounds, without general nouns."""
    return frozenset(stem(w) for w in _named_words(token))


def _named_words(token: Any) -> tuple[str, ...]:
    """The words, lower-cased and in their order, that name a noun phrase's head (its compounds, then the head)."""
    words = sorted([t for t in token.children if t.dep_ == "compound" and t.pos_ in ("NOUN", "PROPN")] + [token],
                   key=lambda t: t.i)
    return tuple(t.lower_ for t in words if t.is_alpha and stem(t.lower_) not in _GENERAL_STEMS)


def _nouns(token: Any) -> frozenset[str]:
    """The stems of a phrase's nouns (an object's head, its compounds and conjuncts)."""
    heads = [token, *[c for c in token.conjuncts]]
    return frozenset(stem(t.lower_) for h in heads for t in h.subtree
                     if t.pos_ in ("NOUN", "PROPN") and t.is_alpha and t.lower_ not in GENERAL
                     and (t.i == h.i or t.head.i == h.i or t.dep_ == "compound"))


def _subject(verb: Any) -> Any | None:
    """The noun that does the verb's action: its subject, the agent of a passive, the noun a relative or participial
    clause hangs on, or the subject of the verb it is joined to."""
    for child in verb.children:
        if child.dep_ == "agent":
            return next((c for c in child.children if c.dep_ == "pobj"), None)
    for child in verb.children:
        if child.dep_ in _SUBJECTS:
            if child.lower_ in _RELATIVE and verb.dep_ == "relcl":
                return _cleft(verb.head)
            return child if child.pos_ in ("NOUN", "PROPN") else None
    if verb.dep_ == "acl" and verb.tag_ == "VBG":
        return verb.head
    if verb.dep_ == "relcl":
        return None
    if verb.dep_ == "conj" and verb.head.pos_ in ("VERB", "AUX"):
        return _subject(verb.head)
    return None


def _cleft(noun: Any) -> Any:
    """The noun a relative clause is said of: "the discriminator is the one that produces the images" says it of the
    discriminator, not of "one"."""
    if noun.lower_ in GENERAL and noun.dep_ == "attr" and noun.head.lemma_ == "be":
        return next((c for c in noun.head.children if c.dep_ == "nsubj" and c.pos_ in ("NOUN", "PROPN")), noun)
    return noun


def _objects(verb: Any) -> frozenset[str]:
    """What the verb acts on: its direct object, the subject of a passive, the noun a past participle hangs on."""
    found: frozenset[str] = frozenset()
    for child in verb.children:
        if child.dep_ in ("dobj", "nsubjpass"):
            found |= _nouns(child)
    if verb.dep_ == "acl" and verb.tag_ == "VBN":
        found |= _nouns(verb.head)
    return found


def triples(doc: Any) -> list[Triple]:
    """Each (subject, verb, object) a parsed text states with a noun subject and an object."""
    out = []
    for verb in doc:
        lemma = verb.lemma_.lower()
        action = _CANON.get(lemma, lemma)
        if verb.pos_ != "VERB" or action in _LIGHT or \
                (lemma == "make" and any(c.dep_ in _CAUSATIVE for c in verb.children)):
            continue
        subject = _subject(verb)
        objects = _objects(verb)
        if subject is None or subject.pos_ not in ("NOUN", "PROPN") or not objects:
            continue
        name = _name(subject)
        if not name:
            continue
        tokens = [subject, verb, *[t for c in verb.children if c.dep_ in ("dobj", "nsubjpass") for t in c.subtree]]
        start, end = min(t.idx for t in tokens), max(t.idx + len(t.text) for t in tokens)
        # only a clause describing the object counts (a prepositional phrase is often attached to it by mistake),
        # and not the doer of that clause: "messages that a consumer acknowledges" names a consumer that acts
        described = frozenset(stem(t.lower_) for c in verb.children if c.dep_ in ("dobj", "nsubjpass")
                              for m in c.children if m.dep_ in ("relcl", "acl")
                              for t in m.subtree if t.pos_ in ("NOUN", "PROPN")
                              and not (t.dep_ in _SUBJECTS and t.head.i == m.i))
        out.append(Triple(name, action, objects, (start, end), f"{subject.lower_} {verb.lower_}",
                          described))
    return out


_USING = frozenset({"use", "employ", "apply"})


def _nouns_of(doc: Any, means: bool = True, instruments: frozenset[str] = _INSTRUMENTS) -> frozenset[str]:
    """The noun stems a text names; without `means`, not those only in a means ("with momentum, the update ...")."""
    return frozenset(stem(t.lower_) for t in doc if t.pos_ in ("NOUN", "PROPN") and t.is_alpha
                     and (means or not any(a.dep_ == "prep" and a.lower_ in instruments for a in t.ancestors)))


def _users(doc: Any) -> frozenset[str]:
    """The noun stems that are the subjects of "use", "employ" or "apply" in a text."""
    return frozenset(stem(t.lower_) for t in doc if t.dep_ in ("nsubj", "nsubjpass") and t.head.lemma_ in _USING)


@lru_cache(maxsize=256)
def _entry(points: tuple[str, ...], parser: Parser) -> tuple[list[tuple[list[Triple], frozenset[str]]],
                                                            dict[str, frozenset[str]]]:
    """Each point's triples and nouns, and what the entry's points do each action to, together ("generates new
    images" elsewhere lets "makes new images" stand for "creates data"); read once per entry."""
    # Two kinds of noun take no part of their own in the action, so an answer that gives it to them gives it to no
    # one else: the nouns after "by" say how ("the variance scaled by the number of units"), and the noun that uses
    # the doer does its job through it ("Each gate uses a sigmoid that outputs values": "gates producing values").
    read = [(triples(doc), _nouns_of(doc, means=False, instruments=frozenset({"by"})) - _users(doc))
            for doc in parser.parse(list(points))]
    acted_on: dict[str, frozenset[str]] = {}
    for t in (t for theirs, _ in read for t in theirs):
        acted_on[t.verb] = acted_on.get(t.verb, frozenset()) | t.objects
    return read, acted_on


def given_away(sentence: str, points: Sequence[str], candidates: Iterable[int], parser: Parser,
               answer: str = "", siblings: Callable[[frozenset[str], frozenset[str]], bool] | None = None
               ) -> list[tuple[int, str]]:
    """(point, quote) for each clause that gives a point's action, on the point's object, to another noun of the
    point, or to a sibling term of its doer (`siblings`: whether two subjects are two terms of one group of the
    entry, "SGD" and "standard gradient descent"); `answer` is the whole answer (the point's own subject doing it
    anywhere there clears the clause)."""
    # an opening "Also," adds the sentence to the answer; it does not say the subject does it too (a new user's trial)
    if _RELATING.search(_OPENING_ALSO.sub("", sentence)):
        return []
    parsed = parser.parse([sentence])[0]
    mine = triples(parsed)
    if not mine:
        return []
    named = _nouns_of(parsed, means=False)
    every: list[Triple] | None = None   # the whole answer's, parsed only when a clause is a candidate
    read, acted_on = _entry(tuple(points), parser)
    out = []
    for p in candidates:
        theirs, nouns = read[p]
        for said in mine:
            for meant in theirs:
                if said.verb != meant.verb or not said.objects & acted_on[meant.verb] \
                        or said.subject & (meant.subject | meant.objects):
                    continue
                # the subject must be another participant of the point, never said to do this itself there
                # (a sibling of the point's doer need not be named in the point: the generator's point never names
                # the discriminator)
                other = said.subject <= nouns or (siblings is not None and siblings(said.subject, meant.subject))
                if not other or said.subject & meant.described or \
                        any(t.verb == said.verb and t.subject & said.subject for t in theirs):
                    continue
                # a swap names both: the point's own doer stands in the sentence too, in another role; and words
                # the point says as they stand ("validation set tunes") are its own, however they parse
                if not meant.subject <= named or said.words in " ".join(points[p].casefold().split()):
                    continue
                if every is None:
                    every = triples(parser.parse([answer])[0]) if answer and answer != sentence else mine
                if any(t.verb == meant.verb and t.subject & meant.subject and t.objects & meant.objects
                       for t in every):
                    continue
                out.append((p, sentence[said.span[0]:said.span[1]]))
                break
    return out


# Words a definition's predicate shares with any other that say nothing of which term it defines.
_PLAIN = frozenset(stem(w) for w in ("how", "well", "when", "what", "which", "that", "the", "a", "an", "is", "are",
                                     "be", "it", "its", "of", "to", "and", "or", "in", "on", "for", "by", "with",
                                     "about", "extent", "way", "something", "model", "models", "means", "mean"))
_VERBS = frozenset({"VERB", "AUX"})
_DEFINING = frozenset({"be", "mean", "refer", "denote", "describe"})


@dataclass(frozen=True)
class Said:
    """A clause's noun subject (stems naming it) and the content stems of everything else it says."""

    subject: frozenset[str]
    rest: frozenset[str]
    span: tuple[int, int]
    defines: bool = False   # "is", "means", "refers to": the clause says what its subject is
    words: tuple[str, ...] = ()   # the subject's words in their order, for its initials


def _predicate(verb: Any, clause: Any) -> bool:
    """Whether a clause under "is" is what the subject is ("Interpretability is how well a human can understand"),
    not a clause of its own ("..., while interpretability is ...")."""
    return clause.head.i == verb.i and verb.lemma_ == "be" and clause.dep_ in ("ccomp", "advcl") and \
        not any(k.lower_ in _CONTRASTS for k in clause.children)


_CONTRASTS = frozenset({"while", "whereas", "whilst", "but", "although", "though"})


def _stated(doc: Any) -> list[Said]:
    """Each clause of a parsed text whose subject is a plain noun phrase: what it says of that subject."""
    out = []
    for verb in doc:
        if verb.pos_ not in _VERBS or verb.dep_ not in ("ROOT", "conj", "advcl", "ccomp"):
            continue
        subject = next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)
        if subject is None or subject.pos_ not in ("NOUN", "PROPN") or not _name(subject):
            continue
        inside = {t.i for t in subject.subtree}
        # the clause: the verb's subtree without clauses joined to it (each is read on its own)
        joined = {t.i for c in verb.subtree if c.i != verb.i and c.dep_ in ("conj", "advcl", "ccomp", "parataxis")
                  and c.pos_ in _VERBS and any(k.dep_ in ("nsubj", "nsubjpass") for k in c.children)
                  and not _predicate(verb, c) for t in c.subtree}
        tokens = [t for t in verb.subtree if t.i not in joined and not t.is_punct
                  and not (t.dep_ in ("mark", "cc") and t.head.i == verb.i and t.i < verb.i)]
        rest = frozenset(stem(t.lower_) for t in tokens if t.i not in inside and t.is_alpha and not t.is_stop
                         and stem(t.lower_) not in _PLAIN)
        start, end = min(t.idx for t in tokens), max(t.idx + len(t.text) for t in tokens)
        out.append(Said(_name(subject), rest, (start, end), verb.lemma_.lower() in _DEFINING, _named_words(subject)))
    return out


def _abbreviates(short: Said, long: Said) -> bool:
    """Whether a one-word subject is the initials of another's words ("ML" for "machine learning")."""
    return len(short.words) == 1 and len(long.words) >= 2 and short.words[0] == initials(long.words)


def defined_away(sentence: str, points: Sequence[str], parser: Parser, answer: str = "") -> list[tuple[int, str]]:
    """(point, quote) for each clause that says of one point's subject what another point says of its own ("
    Explainability is how well a human can understand the cause of a decision" against "Interpretability is ...")."""
    definitions = [(said, quote) for said in _stated(parser.parse([sentence])[0])
                   if said.defines and not _RELATING.search(quote := sentence[said.span[0]:said.span[1]])]
    if not definitions:
        return []
    theirs = [next(iter(_stated(doc)), None) for doc in parser.parse(list(points))]
    subjects = [s.subject if s is not None else frozenset() for s in theirs]
    out = []
    every: list[Said] | None = None
    for said, quote in definitions:
        own = [q for q, s in enumerate(subjects) if s and s == said.subject]
        if not own:
            continue
        for p, meant in enumerate(theirs):
            if meant is None or not meant.defines or meant.subject & said.subject or p in own or \
                    _abbreviates(said, meant) or _abbreviates(meant, said):
                continue
            shared = len(said.rest & meant.rest)
            if shared < max(3, (len(meant.rest) + 1) // 2) or \
                    any(shared <= len(said.rest & q.rest) + 1 for q in (theirs[k] for k in own) if q is not None):
                continue
            # the answer gives the point's own subject that predicate somewhere: it compares, it does not swap
            if every is None:
                every = _stated(parser.parse([answer])[0]) if answer else []
            if any(s.subject == meant.subject and len(s.rest & meant.rest) >= shared - 1 for s in every):
                continue
            out.append((p, quote))
            break
    return out
