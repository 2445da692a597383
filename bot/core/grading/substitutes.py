"""Another of the point's kind put in its place: "vanilla RNNs suffer from the dying ReLU problem" for "... suffer
from vanishing gradients", "the heads' outputs are averaged" for "... concatenated".

The deck's terms fall into kinds whose members exclude each other in one slot: the problems of training a deep
network, the ways to merge several outputs, the parts of an optimizer, the kinds of layer, the loss functions. A
clause that says what a point says (it shares the point's other words) but names, of one kind, a member the entry
never mentions, while the answer never gives the point's member at all, has put another thing in the point's place.
The entry's silence is the guard: a member the reference names somewhere (ReLU in an answer about vanishing
gradients) may be said beside the point for a reason the entry knows, so it counts only in a clause that says nearly
all the rest of the point (and is not the point's own); a member the answer gives elsewhere is not lost. A clause
that sets the new member aside ("rather than", "unlike", "not") says the point again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.grading.vocabulary import is_content, text_stems

# The kinds, each a tuple of members; each member is a pattern for its written forms (case is ignored). Kinds are
# drawn from the deck's subject (deep learning and its practice), not from single answers.
KINDS: tuple[tuple[str, ...], ...] = (
    # what goes wrong when training a deep or recurrent network
    (r"vanish\w*(?:\s+and\s+explod\w*)?\s+gradients?", r"explod\w*\s+gradients?", r"dying\s+relu|dead\s+neurons?",
     r"internal\s+covariate\s+shift", r"mode\s+collapse", r"overfit\w*", r"local\s+minim\w*|saddle\s+points?"),
    # how several outputs are merged into one
    (r"concatenat\w*", r"averag\w*|element-wise\s+mean", r"\bsum(?:s|med|ming)?\b|added\s+up|adds?\s+up",
     r"\bmax(?:imum)?\b(?!-?pool)", r"multipli\w*\s+together"),
    # the ideas an optimizer is built from
    # (dropout is no optimizer's idea, but it is what a candidate who half-remembers puts there: a new user's trial)
    (r"momentum", r"rmsprop", r"adagrad", r"adadelta", r"weight\s+decay|\bl2\b", r"learning[- ]rate\s+(?:decay|"
     r"schedul\w*|annealing)", r"nesterov", r"dropout"),
    # kinds of layer and what a layer ends with
    (r"fully[- ]connected|\bdense\s+layers?", r"\w*pool\w*", r"convolution\w*|\bconv\b", r"dropout",
     r"batch[- ]?norm\w*", r"layer[- ]?norm\w*", r"recurrent\s+layers?", r"embedding\s+layers?"),
    # the activation functions
    (r"\brelu\b(?!\s+problem)", r"sigmoid", r"\btanh\b", r"softmax", r"leaky\s+relu", r"\bgelu\b", r"swish"),
    # the losses
    (r"mean\s+squared\s+error|\bmse\b", r"mean\s+absolute\s+error|\bmae\b", r"cross[- ]entropy|log[- ]loss",
     r"hinge\s+loss", r"huber"),
    # how a function of the inputs is represented
    (r"neural\s+net\w*|deep\s+net\w*", r"decision\s+trees?|gradient[- ]boost\w*|random\s+forests?",
     r"q-?tables?|look-?up\s+tables?", r"linear\s+regression", r"support\s+vector|\bsvms?\b"),
    # the rules of calculus and probability
    (r"chain\s+rule", r"bayes\W*(?:s\s+)?(?:rule|theorem)", r"product\s+rule", r"quotient\s+rule"),
    # the senses the brain's cortices serve
    (r"visual\s+cortex", r"auditory\s+cortex", r"motor\s+cortex", r"olfactory"),
    # what an activation brings to a network
    # (normalizing a batch or a layer is a layer's job, not what an activation brings)
    (r"non-?linear\w*", r"(?<!batch\s)(?<!layer\s)(?<!batch-)(?<!layer-)(?<!batch)(?<!layer)normali[sz]\w*",
     r"regulari[sz]\w*", r"spars\w*"),
    # the direction of a pass through a network
    (r"back-?propagat\w*|backprop\w*|backward\s+pass", r"forward\s+propagat\w*|forward\s+pass"),
    # what keeps a recurrent network's memory
    (r"\bgat(?:e|es|ed|ing)\b", r"attention\s+heads?|self-attention"),
    # where data waits before it is used
    (r"\bssds?\b|solid[- ]state", r"vram|gpu\s+memory", r"\bram\b|system\s+memory",
     r"\bhdds?\b|hard\s+(?:disk|drive)s?"),
)
_KINDS = tuple(tuple(re.compile(m, re.IGNORECASE) for m in kind) for kind in KINDS)
# What sets a member aside in its clause: a contrast, a denial, an alternative
_ASIDE = re.compile(r"(?i)\b(?:not|no|never|rather\s+than|instead\s+of|unlike|as\s+opposed\s+to|without|except|"
                    r"avoid\w*|whereas|while|than|nor|neither)\b|n't\b")
# (a "which" clause stays with the noun it describes: "MSE for classification tasks, which measures ... a
# probability" says the whole of cross-entropy's point of MSE)
_CLAUSE = re.compile(r"[;:]|,\s+(?=(?:and|but|while|whereas|so|although|though|because)\b)|"
                     r"\s+(?:but|whereas)\s+")
MIN_SHARED = 2  # content stems a clause shares with the point, past the members' own
MIN_SHARE = 0.4  # ... and this share of the point's other content stems
# A member the entry names elsewhere may stand in the point's place only in a clause that says the rest of the point
# nearly whole: "a final max-pooling layer is what classifies the image based on the high-level features".
STRICT_SHARED = 3
STRICT_SHARE = 0.6


def _members(kind: Sequence[re.Pattern[str]], text: str) -> set[int]:
    """The members of a kind a text names."""
    return {i for i, member in enumerate(kind) if member.search(text)}


def _stems_past(text: str, kind: Sequence[re.Pattern[str]]) -> set[str]:
    """The content stems of a text, less the words of the kind's members it names."""
    for member in kind:
        text = member.sub(" ", text)
    return {s for s in text_stems(text)[0] if is_content(s)}


def _restates(mine: set[str], theirs: set[str]) -> bool:
    """Whether a clause's stems say a point's other words."""
    shared = len(mine & theirs)
    return shared >= MIN_SHARED and shared >= MIN_SHARE * len(theirs)


def replaced(sentence: str, points: Sequence[str], entry_texts: Sequence[str], answer: str) -> list[tuple[int, str]]:
    """The point and the clause where the sentence names, in a point's place, a member of its kind the entry never
    names, and the answer never gives the point's own."""
    known = " ".join(entry_texts)
    for kind in _KINDS:
        if not _members(kind, sentence):
            continue
        unknown = _members(kind, sentence) - _members(kind, known)
        given = _members(kind, answer)
        for clause in _CLAUSE.split(sentence):
            put = _members(kind, clause)
            if not put or _ASIDE.search(clause):
                continue
            mine = _stems_past(clause, kind)
            best: tuple[int, int] | None = None
            for p, point in enumerate(points):
                own = _members(kind, point)
                # the members the clause puts in, and the point's own it leaves out ("RMSprop and dropout" for
                # "RMSprop and momentum")
                new, lost = put - own, own - put
                if not own or not new or not lost:
                    continue
                strict = not (new & unknown)
                # a known member that a point of its own names, in a clause that says that point: its own claim
                if strict and any(_members(kind, q) & new and _restates(mine, _stems_past(q, kind)) for q in points):
                    continue
                theirs = _stems_past(point, kind)
                shared = len(mine & theirs)
                # said whole by words of its own: not those of the points that name the new member ("across the
                # features" is said of batch and layer normalization alike)
                theirs_only = len(mine & theirs - set().union(*(_stems_past(q, kind) for q in points
                                                                if q != point and _members(kind, q) & new)))
                whole = theirs_only >= STRICT_SHARED and theirs_only >= STRICT_SHARE * len(theirs)
                # the point's own member given elsewhere is not lost, unless this clause says the point whole
                if (not lost - given or strict) and not whole:
                    continue
                if _restates(mine, theirs) and (best is None or shared > best[1]):
                    best = (p, shared)
            if best is not None:
                return [(best[0], clause.strip())]
    return []
