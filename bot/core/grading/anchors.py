"""Where words stand in a sentence's dependency tree: what a term is said with, and terms that share a predicate.

The word-overlap checks align a clause with a reference statement by the content words they share; sharing words is
not saying the same thing of them ("computes the mean of each feature across the examples" shares feature, across
and example with "normalizes across the features of a single example" and says the other). These helpers read the
spaCy parse (parse.py) of both texts so that a check counts only the shared words that stand near the term it
compares, and knows when two terms are coordinated ("traverse the left subtree, then the root, then the right
subtree": both are traversed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.grading.parse import Parser, shared

# Arcs of the dependency tree between a term and the words it is said with ("normalizes -> across -> features": 2).
REACH = 3
_SKIP = frozenset({"det", "punct", "cc"})  # arcs that relate nothing ("the", ",", "and")

Span = tuple[int, int]  # character offsets, end excluded


def _tokens(doc: Any, span: Span) -> list[Any]:
    """The parse's tokens that overlap a character span."""
    a, b = span
    return [t for t in doc if t.idx < b and t.idx + len(t.text) > a]


def near_spans(text: str, span: Span, reach: int = REACH, parser: Parser | None = None) -> list[Span]:
    """Character spans of the content words within `reach` arcs of the words of a span (the term), the term's own
    included; a preposition, an auxiliary, a copula or a relative pronoun costs no arc ("the test set is what I use
    to tune": set, use, tune are one, two, three arcs apart) and is not returned (it relates, it says nothing)."""
    doc = (parser or shared()).parse([text])[0]
    seen = {t.i: 0 for t in _tokens(doc, span)}
    frontier = [(doc[i], 0) for i in seen]
    while frontier:
        tok, cost = frontier.pop()
        for other in [tok.head, *tok.children]:
            if other.dep_ in _SKIP:
                continue
            step = cost + (0 if _free(other) else 1)
            if step <= reach and step < seen.get(other.i, reach + 1):
                seen[other.i] = step
                frontier.append((other, step))
    return [(doc[i].idx, doc[i].idx + len(doc[i].text)) for i in seen if not _free(doc[i])]


def _free(tok: Any) -> bool:
    """Words that only relate others: prepositions, auxiliaries and copulas, relative and interrogative pronouns."""
    return tok.pos_ in ("ADP", "AUX", "PART", "SCONJ") or tok.lemma_ == "be" or tok.tag_ in ("WDT", "WP")


def near_stems(text: str, span: Span, stems: Sequence[str], spans: Sequence[Span], reach: int = REACH,
               parser: Parser | None = None) -> frozenset[str]:
    """The stems (of the text's own tokenization: stems, spans) that stand within `reach` arcs of a span."""
    close = near_spans(text, span, reach, parser)
    return frozenset(s for s, (x, y) in zip(stems, spans, strict=True) if any(x < q and p < y for p, q in close))


# Arcs along which a list of things goes on ("the left subtree, then the root, then the right subtree"): conjuncts,
# appositions, and the objects and bare noun phrases of one verb. Never a subject: "the generator creates fake data and
# the discriminator judges it" says different things of two subjects.
_LIST_ARCS = frozenset({"conj", "appos", "npadvmod", "dobj"})


def _top(tok: Any) -> Any:
    """The token a list item hangs from, climbing list arcs."""
    while tok.dep_ in _LIST_ARCS and tok.head.i != tok.i:
        tok = tok.head
    return tok


def coordinated(text: str, one: Span, other: Span, parser: Parser | None = None) -> bool:
    """Whether two spans of a text are items of one list ("traverse the left subtree, then the root, then the right
    subtree"): what is said of one is said of the other."""
    doc = (parser or shared()).parse([text])[0]
    first, second = _tokens(doc, one), _tokens(doc, other)
    if not first or not second:
        return False
    heads = [max(span, key=lambda t: t.i) for span in (first, second)]   # the head noun ends an English term
    return heads[0].i != heads[1].i and _top(heads[0]).i == _top(heads[1]).i and \
        all(h.dep_ in _LIST_ARCS for h in heads)


def pronoun_first(text: str, parser: Parser | None = None) -> bool:
    """Whether a text opens with a pronoun that stands for something ("It reduces ..."), not a determiner ("This
    Person Does Not Exist uses ...", "These layers ...")."""
    doc = (parser or shared()).parse([text])[0]
    return len(doc) > 0 and doc[0].pos_ == "PRON"


def modifies_noun(text: str, span: Span, parser: Parser | None = None) -> bool:
    """Whether the words of a span only describe a noun, as a participle or adjective in front of it ("the trained
    model", "a tested build"): they say what the thing is, not when or how the claim happens."""
    doc = (parser or shared()).parse([text])[0]
    tokens = _tokens(doc, span)
    return bool(tokens) and all(t.dep_ == "amod" and t.tag_ in ("VBN", "VBD", "JJ") and t.head.i > t.i
                                and t.head.pos_ in ("NOUN", "PROPN") for t in tokens)



def in_relative(text: str, span: Span, parser: Parser | None = None) -> bool:
    """Whether a span's words stand in a relative clause ("the data it was trained on", "drift from what it was
    trained on"): they say which thing is meant, they claim nothing of their own."""
    doc = (parser or shared()).parse([text])[0]
    tokens = _tokens(doc, span)
    for tok in tokens:
        verb = tok if tok.pos_ in ("VERB", "AUX") else tok.head
        if verb.dep_ == "relcl" or (verb.dep_ in ("pcomp", "ccomp") and any(
                c.tag_ in ("WP", "WDT") or any(g.tag_ in ("WP", "WDT") for g in c.children) for c in verb.children)):
            return True
        # "what it was trained on": the relative word hangs from the verb's own preposition
        if verb.dep_ == "pcomp" and verb.head.dep_ == "prep" and \
                any(c.tag_ in ("WP", "WDT") for c in verb.head.children):
            return True
    return False


def governors(text: str, span: Span, depth: int = 2, parser: Parser | None = None) -> list[str]:
    """The words a span hangs from, nearest first, up to `depth` of them: its heads outside it that are not
    prepositions, auxiliaries or copulas (the verb of a subject, the noun of a modifier: "passing" in "passing the
    gradients forward", then the verb that clause hangs from); for a copula's complement its subject first ("error"
    in "the error was low")."""
    doc = (parser or shared()).parse([text])[0]
    tokens = _tokens(doc, span)
    if not tokens:
        return []
    inside = {t.i for t in tokens}
    out: list[str] = []
    tok = tokens[0]
    # "the error was very low" says what "a low error" says: a copula's complement describes its subject.
    if tok.dep_ in ("acomp", "attr") and tok.head.lemma_ == "be":
        out += [c.text for c in tok.head.children if c.dep_ in ("nsubj", "nsubjpass")][:1]
    head = tok
    while len(out) < depth and head.head.i != head.i:
        head = head.head
        if head.i not in inside and not _free(head):
            out.append(head.text)
    return out


def predicates(text: str, span: Span, parser: Parser | None = None) -> list[Span]:
    """The pieces of a clause that are predicates joined by "and" or "or" under one subject ("they merge the input
    and output gates into one gate and drop the forget gate": two claims), as character spans; [] when it has one."""
    a, b = span
    if not any(w in text[a:b] for w in (" and ", " or ")):
        return []
    doc = (parser or shared()).parse([text])[0]
    cuts = []
    for tok in doc:
        verbs = tok.pos_ in ("VERB", "AUX") and tok.head.pos_ in ("VERB", "AUX")
        if a <= tok.idx < b and tok.dep_ == "conj" and verbs and a <= tok.head.idx < b \
                and not any(c.dep_ in ("nsubj", "nsubjpass") for c in tok.children):
            start = tok.left_edge.idx
            before = doc[tok.left_edge.i - 1] if tok.left_edge.i > 0 else None
            joined = before is not None and before.dep_ in ("cc", "punct") and before.idx >= a
            cuts.append((before.idx if joined and before is not None else start, start))
    if not cuts:
        return []
    pieces, begin = [], a
    for end, nxt in sorted(cuts):
        if end > begin:
            pieces.append((begin, end))
        begin = nxt
    pieces.append((begin, b))
    return [(x, y) for x, y in pieces if text[x:y].strip()]
