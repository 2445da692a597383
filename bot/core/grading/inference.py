"""When a thing happens, moved: a thing of training placed at inference ("the vanishing gradient problem occurs when a
trained network is run for inference on new data" for "... the weights barely update during training"), and a graph
built at runtime said fixed ahead of it ("compiled once before training starts and then stays fixed" for "PyTorch
builds a dynamic computational graph at runtime").

An entry whose points say something happens during training, and say nothing of inference, is contradicted by a
clause that says the point's words and places them at inference, test time or prediction: the entry gives that
thing no life at inference, so a right answer has no cause to put it there. A clause that denies or sets the
inference aside ("not at inference", "rather than at test time") says the point again. Likewise a point whose graph
is dynamic, built at runtime, is contradicted by a clause that fixes it ahead of time, unless the clause speaks of
another framework or sets the fixed graph aside ("unlike TensorFlow 1's static graphs").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.grading.vocabulary import is_content, text_stems

_TRAINING = re.compile(r"(?i)\b(?:during|while|in|throughout)\s+training\b|\btraining\s+(?:time|phase|process)\b|"
                       r"\btrains?\s+on\b")
_INFERENCE = re.compile(r"(?i)\b(?:at|during|for|in)\s+(?:inference|test(?:ing)?\s+time|prediction\s+time|"
                        r"deployment)\b|\b(?:run|used|deployed)\s+(?:for|at)\s+inference\b|\binference\s+time\b|"
                        r"\bmak(?:es|ing|e)\s+predictions\s+on\s+new\s+data\b|\bonce\s+(?:it\s+is\s+|it's\s+)?deployed\b")
# ... or uses at inference what training left ("looks up ... the learned embeddings", "running averages collected")
_ASIDE = re.compile(r"(?i)\b(?:not|no|never|nor|rather|instead|unlike|whereas|while|only\s+during\s+training|"
                    r"training|learned|learnt|stored|saved|collected|running|reus\w*|pre-?trained)\b|n't\b")
_CLAUSE = re.compile(r"[;:]|,\s+(?=(?:and|but|while|whereas|so|which|although|though|because)\b)")
_PHASE_WORDS = frozenset({"train", "trained", "inference", "test", "time", "predict", "deploy", "dure", "dur"})
MIN_SHARED = 2  # content stems a clause shares with the point, past the phase words


def _stems(text: str) -> set[str]:
    """The content stems of a text, less the phase words."""
    return {s for s in text_stems(text)[0] if is_content(s) and s not in _PHASE_WORDS}


def placed_at_inference(sentence: str, points: Sequence[str]) -> list[tuple[int, str]]:
    """The point and the clause where the sentence places a training-time point at inference."""
    if not _INFERENCE.search(sentence) or any(_INFERENCE.search(p) for p in points):
        return []
    for clause in _CLAUSE.split(sentence):
        # "a trained network" names a state, not the phase: the words are read without it
        bare = re.sub(r"(?i)\b(?:a|the|an|our|your|fully)\s+trained\b", " ", clause)
        if not _INFERENCE.search(bare) or _ASIDE.search(bare):
            continue
        mine = _stems(bare)
        for p, point in enumerate(points):
            if _TRAINING.search(point) and len(mine & _stems(point)) >= MIN_SHARED:
                return [(p, clause.strip())]
    return []


_DYNAMIC = re.compile(r"(?i)\bdynamic\w*\b.*\b(?:graph|runtime|run time)\b")
_FIXED = re.compile(r"(?i)\bstatic\b|\bcompiled?\s+(?:once|ahead|up\s*front|in\s+advance)|\bahead[- ]of[- ]time\b|"
                    r"\b(?:defined|built|constructed|fixed|compiled|frozen|locked)\s+(?:\w+\s+){0,3}(?:once\s+)?before\s+"
                    r"(?:training|any|the\s+model\s+runs|running|execution)\b|\bstays?\s+fixed\b|\bin\s+advance\b")
# (the word "dynamic" itself may stay in a memorized sentence that then fixes the graph: "its dynamic computational
# graph, which is defined and compiled once before training starts")
_ANEW = re.compile(r"(?i)\bdynamically\b|\bon[- ]the[- ]fly\b|\bruntime\b|\brun\s+time\b|\bdefine-by-run\b|\beager\w*|"
                   r"\bnot\b|\bno\b|n't\b|\bnever\b|\bunlike\b|\brather\b|\binstead\b|\bwhereas\b|\btensorflow\b|"
                   r"\btheano\b|\bcaffe\b|\bother\s+frameworks?\b|\bolder\b")


def fixed_ahead(sentence: str, points: Sequence[str]) -> list[tuple[int, str]]:
    """The point and the clause where the sentence fixes ahead of time a graph the point builds at runtime."""
    point = next((p for p, text in enumerate(points) if _DYNAMIC.search(text)), None)
    if point is None or not _FIXED.search(sentence) or _ANEW.search(sentence):
        return []
    for clause in re.split(r"[;:]", sentence):
        if _FIXED.search(clause):
            return [(point, clause.strip())]
    return []
