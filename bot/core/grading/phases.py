"""The wrong phase said with both phases: "Dropout is applied at inference time, never during training".

The who-does-what check compares a clause's phase word with the point's (claims.py); a clause that names both phases
names the point's phase too and passes, though it says the point the other way round. Here each phase a clause names
gets a sign: plain (+), denied (-: "never during training", "no dropout is applied at inference"), and "only" in
front of one phase denies the other ("only applied in training": training +, inference -). A clause that says the
point's predicate (the same main verb, said of the same subject) and gives a phase the other sign contradicts it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bot.core.grading import conflict_words as W
from bot.core.grading.parse import Parser

TRAIN = frozenset({"train", "training", "fit", "fitting"})
TEST = frozenset({"inference", "test", "testing", "prediction", "predictions", "predicting", "serving", "deployment",
                  "production"})
_PHASES = ((TRAIN, "training"), (TEST, "inference"))
_DENY = W.NEGATIONS | {"n't", "off", "disabled", "removed", "turned"}
_WHEN = frozenset({"time", "phase", "stage", "step"})  # "at inference time": the phase names when
# Words between a denial or "only" and the phase's preposition ("never during training", "only at test time").
LOCAL = 3
_PIECES = re.compile(r";|:|,\s+(?:and|but|whereas|so|because|since|which|thus|hence)\s+", re.IGNORECASE)
_WHEN_MARKS = frozenset({"when", "whenever", "while", "once"})
_IN_USE = frozenset({"apply", "use", "enable", "activate", "employ"})
_PERSIST = frozenset({"stay", "remain", "keep", "continue"})  # "stays active", "keeps doing the same"
_ACTIVE = frozenset({"active", "on", "enabled", "applied", "same", "running", "working", "used"})


def _phase(token: Any) -> str | None:
    """The phase a token names, if any."""
    for words, name in _PHASES:
        if token.lower_ in words or token.lemma_.lower() in words:
            return name
    return None


def _verb(token: Any) -> Any:
    """The verb a token's phrase hangs from (the token's own root when there is none)."""
    while token.head.i != token.i and token.pos_ not in ("VERB", "AUX"):
        token = token.head
    # "stays active when the model makes predictions": a when-clause says when the main predicate holds
    if token.dep_ in ("advcl", "pcomp") and any(c.dep_ in ("mark", "advmod") and c.lower_ in _WHEN_MARKS
                                                for c in token.children):
        return _verb(token.head)
    return token


# A frame around the claim: "the thing people forget is that it's applied at inference", "I think dropout is ...".
_FRAMES = frozenset({"be", "think", "forget", "remember", "know", "believe", "say", "mean", "guess", "feel", "note",
                     "notice", "realize", "realise", "find"})


def _root(doc: Any) -> Any:
    """The clause's main verb: the claim inside a frame ("... is that X", "I think X") rather than the frame."""
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    while root is not None and root.lemma_.lower() in _FRAMES:
        inner = next((c for c in root.children if c.dep_ == "ccomp"), None)
        if inner is None:
            break
        root = inner
    return root


def _predicate(root: Any) -> str:
    """The main verb's lemma, "apply" for the verbs of being in use ("used", "enabled", "stays active")."""
    lemma = root.lemma_.lower()
    # "turn off" is another predicate than "turn"
    lemma = " ".join([lemma, *(c.lower_ for c in root.children if c.dep_ == "prt")])
    if lemma in _PERSIST and any(c.lower_ in _ACTIVE for c in root.subtree if c.i > root.i):
        return "apply"
    return "apply" if lemma in _IN_USE else lemma


def signs(doc: Any) -> tuple[str | None, dict[str, int]]:
    """The main verb's lemma of a parsed clause and the sign of each phase it names (or implies with "only")."""
    root = _root(doc)
    verb = _predicate(root) if root is not None else None
    # the predicate denied ("is not applied", "no dropout is applied"): every phase of the clause with it
    denied = root is not None and any(t.i < root.i and (t.lower_ in _DENY or t.lower_ == "no") for t in doc)
    out: dict[str, int] = {}
    only: str | None = None
    for token in doc:
        name = _phase(token)
        # a phase word that only describes a noun ("the training data") says what a thing is, not when
        if name is None or token.dep_ in ("compound", "amod") and token.head.pos_ == "NOUN" and \
                _phase(token.head) is None and token.head.lower_ not in _WHEN:
            continue
        # only a phase said of the clause's own predicate ("the units that were dropped in training" is not)
        if root is not None and _verb(token).i != root.i:
            continue
        head = token.head.head if token.head.lower_ in _WHEN else token.head
        # "as in training", "the same as during training": a comparison, not the phase of the claim
        if head.head.lower_ in ("as", "like", "than"):
            continue
        start = head.i if head.dep_ == "prep" or head.pos_ == "ADP" else token.i
        before = [t.lower_ for t in doc[max(0, start - LOCAL):start]]
        # a denial of its own after the verb ("..., never during training") turns this phase alone
        # ("turns off neurons during training": "off" belongs to the verb, it denies nothing)
        local = any(t.lower_ in _DENY and t.dep_ != "prt" for t in doc[max(0, start - LOCAL):start]
                    if root is None or t.i > root.i)
        out[name] = -1 if denied != local else 1
        if "only" in before:
            only = name
    if only and len(out) == 1:
        other = "inference" if only == "training" else "training"
        out[other] = -out[only]
    return verb, out


def _subject(doc: Any, lead: str | None = None) -> str | None:
    """The lemma of the main verb's subject ("dropout"); "it" or "they" is `lead`, the sentence's first subject
    ("Dropout is a regularizer, and ... it's applied at inference"); None for none or another pronoun."""
    root = _root(doc)
    for token in doc:
        if token.dep_ in ("nsubj", "nsubjpass") and root is not None and token.head.i == root.i:
            if token.pos_ != "PRON":
                return token.lemma_.lower()
            return lead if token.lower_ in ("it", "they") else None
    return None


def _lead(doc: Any) -> str | None:
    """The first noun subject of a parsed sentence."""
    return next((t.lemma_.lower() for t in doc if t.dep_ in ("nsubj", "nsubjpass") and t.pos_ in ("NOUN", "PROPN")),
                None)


def phase_conflicts(sentence: str, points: Sequence[str], candidates: Sequence[int], parser: Parser) \
        -> list[tuple[int, str]]:
    """(point, quote) for each clause of the sentence that gives a phase of a candidate point's clause the other
    sign: the quote is the clause."""
    # "..., so the network at inference sees ..." is a claim of its own with its own predicate; "while the model
    # serves predictions" says when the claim before it holds, and stays with it
    pieces = [piece for piece in _PIECES.split(sentence) if piece.strip()]
    mine = [(p, d) for p, d in zip(pieces, parser.parse(pieces), strict=True) if any(_phase(t) for t in d)]
    if not mine:
        return []
    lead = _lead(parser.parse([sentence])[0])
    found: list[tuple[int, str]] = []
    for p in candidates:
        parts = [piece for piece in _PIECES.split(points[p]) if piece.strip()]
        theirs = [d for d in parser.parse(parts) if any(_phase(t) for t in d)]
        for text, doc in mine:
            verb, said = signs(doc)
            for other in theirs:
                their_verb, stated = signs(other)
                # the same predicate said of the same subject ("dropout stays active" for "dropout is applied";
                # "all neurons are used" is said of the neurons, not of dropout)
                subject = _subject(doc, lead)
                if verb is None or verb != their_verb or subject is None or subject != _subject(other):
                    continue
                if any(said[k] != stated[k] for k in said.keys() & stated.keys()):
                    found.append((p, text.strip().rstrip(".")))
                    break
            if found and found[-1][0] == p:
                break
    return found
