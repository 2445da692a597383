"""The wrong time for a step: "Before I train anything, I run permutation feature importance" against the reference's
"feature importance can be investigated after model training".

A phrase of when places a step on the model's timeline: before training, during training, after training, before
deployment, once deployed (at inference). A clause of the answer that places a step is compared with the reference's
sentences (key points and clauses of the reference answer) that place one too and share two of its content words:
it contradicts them when no such sentence places the step at a time that can be the same ("after training" and
"before deployment" can). A reference that places a step twice ("during training ...; at test time ...") leaves
both times open, and a clause that denies anything is not read, since "not before training" places nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.grading.conflicts import stem
from bot.core.grading.parse import Parser
from bot.core.grading.rubric import STOPWORDS
from bot.core.text import split_sentences

PRE_TRAIN, TRAIN, POST_TRAIN, PRE_DEPLOY, DEPLOYED = range(5)
_TRAINED = r"(?:train(?:ed|ing)?|fit(?:ted|ting)?)"
_PLACES = (
    (PRE_TRAIN, rf"\bbefore (?:you |we |i )?(?:even )?(?:start(?:ing)? |begin(?:ning)? )?(?:to )?(?:any(?:thing)? )?"
                rf"(?:model )?(?:is |has been |gets )?{_TRAINED}\b|\bbefore any (?:model|network|training)\b|"
                r"\bup ?front\b|\bpreprocessing step\b|\bdata prep(?:aration)?\b|\bprior to training\b"),
    (TRAIN, r"\b(?:during|while|in the course of) (?:the )?(?:model'?s? )?training\b|\bat training time\b|"
            r"\btraining[- ]time (?:issue|concern|problem|thing)"),
    (POST_TRAIN, rf"\bafter (?:the )?(?:model )?(?:has been |is |was )?{_TRAINED}\b|"
                 rf"\bonce (?:the model |it |the network )?(?:is |has been |'s )?(?:trained|fitted)\b|"
                 r"\bafter (?:all )?training\b|\bpost-training\b"),
    (PRE_DEPLOY, r"\bbefore (?:the model |it )?(?:go(?:es)?[- ]live|going live|launch|deploy\w*|(?:is |gets )?deployed|"
                 r"production|shipping|release)\b|\bdevelopment phase\b|\btesting phase\b"),
    (DEPLOYED, r"\bafter (?:the model (?:has been |is )?|it (?:has been |is )?)?deploy\w*|"
               r"\bonce (?:the model |it )?(?:is |has been |'s |goes )?(?:deployed|live)\b|\bin production\b|"
               r"\bat (?:inference|prediction|test|serving)(?: time)?\b|\bduring (?:inference|prediction)\b|"
               r"\bwhen (?:it |the (?:model|network) )?(?:makes?|making) (?:a )?predictions?\b|"
               r"\bdeployed (?:model|network)\b|\blive traffic\b|\bpost-deployment\b"),
)
_COMPILED = tuple((place, re.compile(pattern, re.IGNORECASE)) for place, pattern in _PLACES)
# Times that cannot be the same: before training and any time after it starts; before deployment and once deployed.
# What is learned during training is used after it and at inference ("at inference the embedding layer looks up the
# learned vectors"; scaling for dropout is done in training or at test time, by convention), so training is told
# apart from neither.
_APART = frozenset(frozenset(pair) for pair in ((PRE_TRAIN, TRAIN), (PRE_TRAIN, POST_TRAIN), (PRE_TRAIN, DEPLOYED),
                                                (PRE_DEPLOY, DEPLOYED)))
_DENIAL = re.compile(r"\b(?:not|no|never|without|nothing|none|neither|nor)\b|n't\b", re.IGNORECASE)
_CLAUSES = re.compile(r"(?<=[.!?])\s+|;|:|\n|,\s+(?:but|whereas|so)\s+")
# Content words a reference sentence shares with the clause to be about the same step: SHARED, or SHARED_DONE when
# one of them is what the clause does ("adjusts the weights"; "makes predictions with the learned weights" is another
# step than "weights are adjusted").
SHARED, SHARED_DONE = 3, 2
# Words that name no particular step: the phases themselves and what every entry talks about.
_COMMON = STOPWORDS | frozenset({
    "model", "models", "network", "networks", "data", "training", "train", "trained", "inference", "time", "before",
    "after", "during", "while", "once", "use", "used", "using", "make", "makes", "phase", "step", "steps", "thing",
    "things", "way", "new", "first", "deep", "learning", "get", "gets", "prediction", "predictions", "deployed",
    "deployment", "production", "test", "also", "very", "just", "even", "still", "one", "two", "each", "every", "you",
    "your", "our", "she", "such", "more", "most", "much", "many", "some", "any", "all", "only", "who", "here", "being",
    "might"})


@dataclass(frozen=True)
class Placed:
    """A clause that places a step in time, and the content stems it says the step with."""

    text: str
    places: frozenset[int]
    stems: frozenset[str]
    verbs: frozenset[str] = frozenset()  # the stems said as verbs: what is done, not what it is done with


def clauses(text: str) -> list[str]:
    """The clauses of a text, split where a new claim starts."""
    return [c.strip() for c in _CLAUSES.split(text) if c and c.strip()]


def _modifier(doc: Any, at: int) -> bool:
    """Whether the phrase of when starting at character `at` says when a thing was made, not when the claim holds:
    "the running averages collected during training" describes the averages."""
    token = next((t for t in doc if t.idx <= at < t.idx + max(len(t), 1)), None)
    # "the deployed model" names the time in the modifier itself: only a phrase that opens with "during", "after"...
    if token is None or token.pos_ not in ("ADP", "SCONJ"):
        return False
    while token is not None and token.head.i != token.i and token.pos_ not in ("VERB", "AUX"):
        token = token.head
    return token is not None and token.dep_ in ("acl", "relcl", "amod")


def _stems(text: str) -> frozenset[str]:
    """The stems of a text's content words."""
    return frozenset(stem(w) for w in re.findall(r"[a-z][a-z-]+", text.lower()) if w not in _COMMON and len(w) > 2)


def placed(text: str, parser: Parser) -> list[Placed]:
    """Each clause of a text that places a step in time, and is no denial."""
    found = []
    for clause in clauses(text):
        if _DENIAL.search(clause):
            continue
        spans = [(place, m.start()) for place, rx in _COMPILED for m in rx.finditer(clause)]
        if not spans:
            continue
        doc = parser.parse([clause])[0]
        places = frozenset(place for place, at in spans if not _modifier(doc, at))
        if places:
            verbs = frozenset(stem(t.lower_) for t in doc if t.pos_ == "VERB" and t.dep_ != "amod")
            found.append(Placed(clause, places, _stems(clause), verbs))
    return found


def reference(points: Sequence[str], answer: str, parser: Parser) -> list[Placed]:
    """The reference's clauses that place a step: the key points', and the reference answer's, where a sentence that
    places nothing of its own stays at the time its paragraph's sentence before it said ("After training, use
    diagnostic tools. By analyzing learning curves ..." analyzes after training)."""
    found = [c for point in points for c in placed(point, parser)]
    for paragraph in re.split(r"\n\s*\n", answer):
        before: frozenset[int] = frozenset()
        for sentence in split_sentences(" ".join(paragraph.split())):
            own = placed(sentence, parser)
            if own:
                found += own
                before = frozenset().union(*(c.places for c in own))
            elif before and not _DENIAL.search(sentence):
                found.append(Placed(sentence, before, _stems(sentence)))
                before = frozenset()
    return found


def apart(mine: frozenset[int], theirs: frozenset[int]) -> bool:
    """Whether no time of one side can be a time of the other."""
    return all(frozenset((a, b)) in _APART for a in mine for b in theirs)


def _about(clause: Placed, theirs: Placed) -> bool:
    """Whether a reference sentence is about the step a clause places."""
    shared = clause.stems & theirs.stems
    return len(shared) >= SHARED or len(shared) >= SHARED_DONE and bool(shared & clause.verbs)


def misplaced(sentence: str, reference: Sequence[Placed], parser: Parser) -> list[tuple[str, str]]:
    """(quote, the reference's words) for each clause of the sentence that places a step at a time no sentence of
    the reference about that step allows."""
    found = []
    for clause in placed(sentence, parser):
        # one place per clause: "before training ... at inference" in one clause is a story, not a placement
        if len(clause.places) != 1:
            continue
        about = [r for r in reference if _about(clause, r)]
        if about and all(apart(clause.places, r.places) for r in about):
            best = max(about, key=lambda r: len(clause.stems & r.stems))
            found.append((clause.text.rstrip("."), best.text))
    return found
