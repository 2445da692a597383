"""What a copied sentence points back to: a reference sentence that opens with "This" or "They" says its claim of
what the reference's sentence before it names; copied after another sentence, or with another name put in, it says
it of another thing ("This leads to large changes in the weights" after the answer's sentence on vanishing
gradients, where the reference says it of exploding ones)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from bot.core.grading import names
from bot.core.grading.edits import MIN_COPIED, Copyable, Edit, content, copied, name_key, sentences_of, terms
from bot.core.grading.initials import initials
from bot.core.grading.vocabulary import GENERIC, Vocabulary, text_stems
from bot.core.text import split_sentences

# A sentence (or a clause joined on) that opens with a word pointing back: "This leads to ...", ", and this means".
_POINTS_BACK = re.compile(r"(?:(?:and|so|thus|however|also),?\s+)?(?:this|these|that|it|they|such)\b", re.IGNORECASE)
_JOINED_BACK = re.compile(r"[,;]\s+(?=(?:and|so|thus)\s+(?:this|these|it|they)\b)", re.IGNORECASE)


def moved(sentences: Sequence[str], answer: str, vocabulary: Vocabulary) -> list[Edit]:
    """Copied sentences that point back ("This leads to ...") to another term than the reference's: the reference says
    it of exploding gradients, the answer put it after its sentence on vanishing ones, or named vanishing gradients
    where the reference's sentence says "This"."""
    theirs = split_sentences(answer)
    copyable = {}
    for at, sentence in enumerate(theirs):
        stems, spans = text_stems(sentence)
        if at and _POINTS_BACK.match(sentence) and len(content(stems)) >= MIN_COPIED:
            copyable[at] = Copyable(sentence, tuple(stems), tuple(spans), Counter(content(stems)))
    if not copyable:
        return []
    references = sentences_of(theirs)
    units = [unit.strip() for sentence in sentences for unit in _JOINED_BACK.split(sentence) if unit.strip()]
    found = []
    for before, unit in zip(["", *units], units, strict=False):
        stems, spans = text_stems(unit)
        match = copied(stems, list(copyable.values()))
        if match is None:
            continue
        at = next(k for k, c in copyable.items() if c is match[0])
        if _POINTS_BACK.match(unit):
            # the sentence before must be the reference's too: then it was moved (or its term changed), not rephrased
            told = copied(text_stems(before)[0], references) if before else None
            if told is None:
                continue
            named, rest = before, unit
        else:
            # the words the answer put where the reference's sentence opens with "They"
            told = None
            first = match[1].get_opcodes()[0]
            if first[0] not in ("replace", "insert") or first[3] != 0:
                continue
            end = spans[first[4] - 1][1]
            named, rest = unit[:end], unit[end:]
        referent = _referent(named, rest, theirs[at - 1], vocabulary)
        if referent:
            # in the reference's order the term was changed in the sentence before; out of it, this one was moved
            quote = before if told is not None and told[0].text == theirs[at - 1] else unit
            # the point is found for the sentence said of its own term ("exploding gradients: this leads to ...")
            found.append(Edit(f"{referent}: {theirs[at]}", quote, "swap"))
    return found


def _referent(named: str, rest: str, antecedent: str, vocabulary: Vocabulary) -> str | None:
    """What the reference's sentence points back to, when the answer points it to a sibling or another name instead;
    None when the answer's words name the same (or name it too)."""
    mine, own = terms(text_stems(named)[0], vocabulary), terms(text_stems(rest)[0], vocabulary)
    stems, spans = text_stems(antecedent)
    # what a sentence points back to is one of the entry's own terms, not a generic word of it ("too small")
    said = {(t.group, t.cls): (a, b) for a, b, t in vocabulary.find(stems, owned=False) if t.group < GENERIC}
    siblings = sorted(said[h, d] for g, c in mine for h, d in said
                      if g == h and c != d and (g, c) not in said and (h, d) not in mine | own)
    if siblings:
        return _text(antecedent, spans, *siblings[0])
    theirs = {name_key(n): n for n in names.names_of(antecedent)}
    put = {name_key(n): n for n in names.names_of(named)}
    # the parts both names share say nothing of which is meant ("Neural Networks" of CNNs and RNNs)
    theirs, put = ({k: n for k, n in one.items() if k not in other} for one, other in ((theirs, put), (put, theirs)))
    # the reference's name said in the answer's words, in any case ("autoencoders"), is no other name put in
    words = {name_key(w) for w in re.findall(r"[\w-]+", f"{named} {rest}")}
    if put and theirs and not theirs.keys() & words and \
            initials(re.findall(r"[A-Za-z][\w-]*", " ".join(theirs.values()))) not in \
            {n.strip().casefold() for n in put.values()}:
        return " ".join(theirs.values())
    return None


def _text(text: str, spans: Sequence[tuple[int, int]], a: int, b: int) -> str:
    """The characters of tokens a to b."""
    return text[spans[a][0]:spans[b - 1][1]]
