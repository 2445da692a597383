"""The terms of an entry in sibling groups, read once from its question, points and reference answer.

Terms that share a head noun ("the input, forget and output gates", "batch and layer normalization"), coordinated or
compared terms (the generator and the discriminator; GPUs faster than CPUs), a word and its negative form
("mutable", "immutable") and a few generic families (directions, phases, positions, counts) form groups; a term's
class says which terms agree ("sgd" and "stochastic gradient descent"). Also the clause splitting both sides use.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.bank import Entry
from bot.core.grading import conflict_words as W
from bot.core.grading.conflicts import stem, tokenize
from bot.core.grading.drafted import unwrap
from bot.core.grading.initials import initials
from bot.core.grading.parse import Parser, question_terms, shared
from bot.core.text import split_sentences

GENERIC = 10_000  # group numbers of the generic families start here
# Generic families too loose to decide anything by themselves: more / less, all / none, one / several.
LOOSE = frozenset({GENERIC + 1, GENERIC + 8, GENERIC + 9})

# Clause boundaries inside a sentence: a new clause starts after these ("X does A, and Y does B").
# ", which is why ...", ", which means ..." say a consequence of the whole clause before: a claim of its own; so does
# a purpose clause (", to prototype RNNs quickly"), whose object is no replacement for the words before the comma.
_CLAUSE = re.compile(r";|:|,\s+(?:and|but|while|whereas|whilst)\s+|\s+(?:while|whereas|whilst)\s+|"
                     r",\s+which\s+(?:is\s+why|means|makes|leads\s+to)\s+|"
                     r",\s+(?=(?:in\s+order\s+)?to\s+[a-z]+\b)", re.IGNORECASE)

# "He initialization for ReLU and Xavier for tanh": a second pairing after one said with "for" is a claim of its own.
_PAIRING = re.compile(r"\s+and\s+(?=[\w-]+\s+for\s)", re.IGNORECASE)

NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

_POS_TERMS = frozenset({"NOUN", "PROPN", "ADJ"})

# Modifiers that quantify rather than name a kind ("much data", "other layers"): never a sibling term.
_QUANTIFIERS = frozenset({"much", "many", "more", "most", "some", "any", "other", "such", "same", "each", "every",
                          "several", "few", "little", "own", "certain", "various", "whole", "entire", "new", "old",
                          # how much, not which kind ("enough RAM", "ample RAM"), and data a model has not seen
                          "enough", "ample", "sufficient", "adequate", "plenty", "unseen"})

# A clause that opens with one of these is the condition of the next one ("When it is too low, training diverges").
_CONDITION = re.compile(r"(?:when|whenever|if|once|unless|because|since|although|though|after|before|as)\b",
                        re.IGNORECASE)

# A comma starts a new clause when a subject follows it, not a list's next item ("forget, input and output gates").
_NEW_CLAUSE = (r"(?!\S+(?:\s+\S+){0,2}\s+(?:and|or)\s)(?:the|a|an|its|their|it|they|this|these|each|every|all|"
               r"[A-Za-z][\w-]*\s+(?:is|are|was|were|has|have|can|will|uses?|makes?|squash\w*|\w+s)\b)")

_DEFINING = frozenset({"mean", "refer", "denote", "stand"})  # verbs of a point that defines its subject

_NEGATIVE_PREFIXES = ("un", "non", "in", "im", "ir", "il", "dis")

@dataclass(frozen=True)
class Term:
    """One term: its stems, and its class (terms of one class agree, of two classes of a group contradict)."""

    stems: tuple[str, ...]
    group: int
    cls: int


# Words that say whose a thing is: "its inputs" names what something has.
BACK_REFERENCES = frozenset({"its", "their", "his", "her"})


@dataclass(frozen=True)
class Vocabulary:
    """An entry's sibling terms, longest first, and its compounds (stem pairs read as one word: "learning rate")."""

    terms: tuple[Term, ...]
    compounds: frozenset[tuple[str, str]] = frozenset()
    topic: str = ""   # what the question asks about: a point's leading "It" stands for it
    stated: tuple[frozenset[str], ...] = ()   # the stems of each clause of the reference answer
    stated_texts: tuple[str, ...] = ()        # ... and the clauses themselves
    by_first: dict[str, tuple[Term, ...]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[Term]] = {}
        for term in self.terms:  # longest first
            index.setdefault(term.stems[0], []).append(term)
        self.by_first.update({k: tuple(v) for k, v in index.items()})

    def find(self, stems: Sequence[str], owned: bool = True) -> list[tuple[int, int, Term]]:
        """(start, end, term) of each term occurrence in a stem sequence, longest match first.

        The entry's own terms do not overlap one another, nor do the generic words; a generic word may sit inside an
        entry term ("the early layers": "early" against "last"). Without owned, a term that is another term's
        modifier is left out after "its" ("a weighted sum of its inputs" is no input layer: it names what
        something has, not the sibling)."""
        out: list[tuple[int, int, Term]] = []
        for generic in (False, True):
            i = 0
            while i < len(stems):
                for term in self.by_first.get(stems[i], ()):
                    if (term.group >= GENERIC) == generic and tuple(stems[i:i + len(term.stems)]) == term.stems:
                        out.append((i, i + len(term.stems), term))
                        i += len(term.stems) - 1
                        break
                i += 1
        if not owned:
            out = [(a, b, t) for a, b, t in out if not (
                a > 0 and stems[a - 1] in BACK_REFERENCES and b - a == 1 and
                any(u.group == t.group and t.stems[0] in u.stems[:-1] for u in self.terms))]
        return sorted(out, key=lambda x: x[0])

def text_stems(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """Stems of the words of a text and their character spans (punctuation kept as tokens)."""
    words, spans = tokenize(text)
    return [w if NUMBER.fullmatch(w) else stem(w) for w in words], spans

_FILLER = frozenset({"too", "very", "quite", "rather", "also", "usual", "typical", "often", "general", "much", "far",
                     "even", "still", "really", "just", "actually", "significant", "slightly"})

# A clause that starts with one of these goes on with the one before it ("..., so training diverges").
_CONTINUES = re.compile(r"(?:so|which|because|causing|making|leading|thus|therefore|hence|since|that|as|resulting|"
                        r"meaning|giving|while|whereas|but|then|or|and\s+(?:so|then|thus))\b", re.IGNORECASE)

def is_content(s: str) -> bool:
    """Whether a stem carries content (not punctuation, a function word or a negation)."""
    return s not in W.WEAK and s not in W.PUNCT and s not in W.NEGATIONS and s not in _FILLER and \
        (len(s) > 2 or s.isdigit())

class Vocabularies:
    """The sibling terms of each entry, derived once (parsed when the question is shown) and cached."""

    def __init__(self, parser: Parser | None = None) -> None:
        self.parser = parser
        self._cache: dict[tuple[str, str], Vocabulary] = {}
        self._lock = threading.Lock()

    def of(self, entry: Entry) -> Vocabulary:
        """The entry's vocabulary."""
        key = (entry.id, entry.content_hash())
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        vocabulary = build(entry, self.parser or shared())
        with self._lock:
            self._cache[key] = vocabulary
        return vocabulary

def _phrase(tok: object) -> tuple[str, ...]:
    """The stems of a noun phrase: a token with its compound and adjective modifiers on the left."""
    left = [t for t in tok.lefts if t.dep_ in ("compound", "amod", "nmod")  # type: ignore[attr-defined]
            and (t.pos_ in _POS_TERMS or t.text[:1].isupper()) and t.lower_ not in _QUANTIFIERS]
    start = min([t.i for t in left] + [tok.i])  # type: ignore[attr-defined]
    span = tok.doc[start: tok.i + 1]  # type: ignore[attr-defined]
    return tuple(stem(t.lower_.replace(_JOIN, "-")) for t in span if t.is_alpha or t.like_num or _joined(t.text))


# A hyphenated word ("cross-entropy", "mini-batch") is parsed as one token: the small pipeline splits it into three
# and tags the pieces as adjectives, so "cross-entropy" was no noun and named no term.
_JOIN = "_"
_HYPHENATED = re.compile(r"(?<=[A-Za-z0-9])-(?=[A-Za-z])")


def _joined(word: str) -> bool:
    """Whether a token is a hyphenated word joined for the parser."""
    return _JOIN in word and all(part.isalnum() for part in word.split(_JOIN))


# Verbs the small pipeline reads as plural nouns after a noun ("Mean squared error suits regression" gives the
# term "error suits"): followed by what could be their object, they are verbs.
_VERBISH = frozenset({"suits", "means", "uses", "needs", "helps", "works", "requires", "lets", "gives", "makes"})


# Degree words before coordinated adjectives make them qualities of one thing ("more timely and accurate diagnoses"),
# not two kinds of it ("supervised and unsupervised learning").
_GRADED = frozenset({"more", "most", "less", "least", "very", "highly", "fairly", "quite", "extremely", "really"})


def _graded(tok: Any) -> bool:
    """Whether a degree word stands before an adjective ("more timely")."""
    return any(c.lower_ in _GRADED for c in tok.children)


def _verb_read_as_noun(tok: Any) -> bool:
    """Whether a token tagged as a noun is one of _VERBISH followed by a word that can be its object."""
    if tok.lower_ not in _VERBISH or tok.i + 1 >= len(tok.doc):
        return False
    after = tok.doc[tok.i + 1]
    return bool(after.is_alpha or _joined(after.text)) and after.pos_ not in ("AUX", "ADP", "CCONJ", "PUNCT", "PART")


def _one_thing(tok: Any) -> bool:
    """Whether a conjunct and its head name one thing: "a filter or kernel" (one article, "or") is a filter, also
    called a kernel, where "filters or kernels" and "a filter and a kernel" may be two."""
    return tok.pos_ == tok.head.pos_ == "NOUN" and tok.tag_ == tok.head.tag_ == "NN" and \
        any(c.lower_ == "or" for c in tok.head.children) and \
        any(c.dep_ == "det" and c.lower_ in ("a", "an") for c in tok.head.children) and \
        not any(c.dep_ == "det" for c in tok.children)


def _entry_groups(entry: Entry, parser: Parser) -> tuple[list[set[tuple[str, ...]]], set[tuple[str, str]]]:
    """Sibling groups read from the entry: terms the question names together, coordinated or compared terms,
    and terms sharing a head noun when each is the subject of a statement ("the input gate decides ...")."""
    texts = [entry.question, *entry.points, *(p for p in re.split(r"\n\s*\n", entry.answer) if p.strip())]
    docs = parser.parse([_HYPHENATED.sub(_JOIN, t) for t in texts])
    heads: dict[str, set[tuple[str, ...]]] = {}
    subjects: set[tuple[str, ...]] = set()
    pairs: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for n, doc in enumerate(docs):
        for tok in doc:
            # a subject tagged as a verb is a noun mis-tagged ("The test set is kept ...": "set" VERB, nsubjpass)
            if _verb_read_as_noun(tok):
                continue
            if tok.pos_ in ("NOUN", "PROPN") or (tok.pos_ == "VERB" and tok.dep_ in ("nsubj", "nsubjpass")):
                phrase = _phrase(tok)
                if len(phrase) >= 2:
                    heads.setdefault(phrase[-1], set()).add(phrase[-2:])
                if n <= len(entry.points):
                    subjects.add(phrase[-2:] if len(phrase) >= 2 else phrase)
            # "X and Y", "X or Y" name two kinds, but two names joined by "or" are one thing ("Xavier or Glorot").
            # Coordinated predicates ("more efficient and less likely to overfit") are two claims, not two kinds.
            if tok.dep_ == "conj" and tok.pos_ in _POS_TERMS and tok.head.pos_ in _POS_TERMS and \
                    not (tok.pos_ == tok.head.pos_ == "PROPN" and any(c.lower_ == "or" for c in tok.head.children)) \
                    and not _one_thing(tok) \
                    and not (tok.pos_ == tok.head.pos_ == "ADJ" and (tok.head.dep_ != "amod" or _graded(tok.head))) \
                    and not _gerunds(tok) and not _category(tok):
                pairs.append(_named(_phrase(tok.head), _phrase(tok)))
            # "A feedforward network treats inputs as independent, while an RNN treats them as related": the two
            # subjects a point contrasts are siblings.
            if tok.lower_ in ("while", "whereas") and tok.dep_ == "mark" and 0 < n <= len(entry.points):
                mine = [c for c in tok.head.children
                        if c.dep_ in ("nsubj", "nsubjpass") and c.pos_ in ("NOUN", "PROPN")]
                # the same verb said of both, or two kinds of one thing: a parse that hangs the clause elsewhere
                # ("if a customer has no orders") pairs nothing
                pairs += [(_phrase(s), _phrase(o)) for s in _subjects(tok.head) for o in mine
                          if s.i != o.i and (s.head.lemma_ == o.head.lemma_ or s.lemma_ == o.lemma_)]
            if tok.lower_ in ("than", "unlike", "versus", "vs") or \
                    (tok.lower_ == "of" and tok.head.lower_ == "instead"):
                objects = [c for c in tok.children if c.dep_ == "pobj" and c.pos_ in ("NOUN", "PROPN")]
                subjects_ = _subjects(tok)
                pairs += [(_phrase(s), _phrase(o)) for s in subjects_ for o in objects]
    # Terms that points define one each ("Atomicity means ...", "Isolation means ..."): exchanging two of them swaps
    # the definitions.
    defined = {_phrase(c) for doc in docs[1:len(entry.points) + 1] for tok in doc
               if tok.dep_ == "ROOT" and tok.lemma_ in _DEFINING for c in tok.children
               if c.dep_ == "nsubj" and c.pos_ in ("NOUN", "PROPN") and c.i <= 1}
    if len(defined) >= 2:
        pairs += [(a, b) for a in defined for b in defined if a < b]
    asked = {t for tok in docs[0] if tok.pos_ in ("NOUN", "PROPN") for t in [_phrase(tok)] if t}
    groups: list[set[tuple[str, ...]]] = []
    for terms in heads.values():
        named = {t for t in terms if t in subjects or any(t[-len(a):] == a or a[-len(t):] == t for a in asked)}
        if len(named) >= 2:
            groups.append(named)
    # Heads coordinated as modifiers: "the input, forget and output gates", "batch and layer normalization".
    for a, b in pairs:
        if a and b and a != b:
            groups.append({a, b})
    # A word and its negative form, both in the entry ("supervised", "unsupervised"; "mutable", "immutable").
    words = {stem(t.lower_) for doc in docs for t in doc if t.is_alpha}
    for word in words:
        for prefix in _NEGATIVE_PREFIXES:
            if word.startswith(prefix) and word[len(prefix):] in words and len(word) - len(prefix) >= 4:
                groups.append({(word[len(prefix):],), (word,)})
    compounds = {(t[-2], t[-1]) for terms in heads.values() for t in terms}
    return groups, compounds

def _named(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Two sibling phrases by their last two words ("sparse high-dimensional one-hot vectors" is "one-hot vectors"),
    or three when two leave them the same ("gradient descent and stochastic gradient descent")."""
    short = (first[-2:], second[-2:])
    return short if short[0] != short[1] else (first[-3:], second[-3:])


def _category(tok: Any) -> bool:
    """Whether a conjunct is the category of the others ("cameras, LIDAR, and other sensors"), not a sibling."""
    return any(c.lower_ == "other" for c in (*tok.children, *tok.head.children))


def _gerunds(tok: Any) -> bool:
    """Whether a conjunct is two gerunds that share an object, misread ("normalizing or standardizing features":
    "features" joined to "normalizing"): the two are one step said twice, not two kinds."""
    return tok.head.lower_.endswith("ing") and any(c.dep_ == "compound" and c.lower_.endswith("ing")
                                                   for c in tok.children)


def _subjects(tok: Any) -> list[Any]:
    """The noun subjects of the clause a token stands in (through coordinated verbs: "X runs and trains faster")."""
    verb = tok.head
    # spaCy makes a new Token object on each access: compare positions, not identity (a root that is no verb looped)
    while verb.head.i != verb.i:
        found = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass") and c.pos_ in ("NOUN", "PROPN")]
        if found:
            return found
        if verb.dep_ not in ("conj", "advmod", "acomp", "prep", "amod", "dobj", "xcomp") and \
                verb.pos_ in ("VERB", "AUX"):
            break
        verb = verb.head
    return [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass") and c.pos_ in ("NOUN", "PROPN")]

_PLAIN_KIND = frozenset(stem(w) for w in W.PLAIN_KIND)


def _merge(groups: list[set[tuple[str, ...]]]) -> list[set[tuple[str, ...]]]:
    """Groups that share a term become one."""
    merged: list[set[tuple[str, ...]]] = []
    for group in groups:
        for other in [m for m in merged if m & group]:
            merged.remove(other)
            group = group | other
        merged.append(group)
    return merged

def build(entry: Entry, parser: Parser) -> Vocabulary:
    """The entry's sibling terms: each term of an entry group is a class of its own; generic families by family."""
    terms: list[Term] = []
    groups, compounds = _entry_groups(entry, parser)
    for g, group in enumerate(_merge(groups)):
        classes: dict[tuple[str, ...], int] = {}
        for t in sorted(group, key=len, reverse=True):
            # "input" names the same thing as "original input", "unsupervised" as "unsupervised learning", "sgd" as
            # "stochastic gradient descent"; "gradient descent" and "stochastic gradient descent" are two kinds.
            same = [c for u, c in classes.items() if (len(t) == 1 and t[0] in (u[0], u[-1])) or _acronym(t, u)
                    or _acronym(u, t) or (u[1:] == t and u[0] in _PLAIN_KIND)]
            # "feature" of both "feature selection" and "feature extraction" is the word the kinds share: it names
            # neither one, so it is no term of the group
            if len(t) == 1 and len(set(same)) > 1:
                continue
            classes[t] = same[0] if same else len(classes)
        terms += [Term(t, g, c) for t, c in classes.items() if t]
    base = GENERIC
    for f, families in enumerate(W.FAMILIES):
        for c, family in enumerate(families):
            terms += [Term(tuple(stem(w) for w in word.split()), base + f, c) for word in family]
    seen: set[tuple[str, ...]] = set()
    unique = []
    for term in sorted(terms, key=lambda t: -len(t.stems)):
        if term.stems not in seen:
            seen.add(term.stems)
            unique.append(term)
    # A drafted point is a sentence of the reference, whose leading "It" is the sentence before's subject ("It asks
    # a root server": the resolver), not what the question asks about (the client resolving a name).
    topic = next(iter(question_terms(entry.question, parser)), "") if entry.key_points else ""
    vocabulary = Vocabulary(tuple(unique), frozenset(compounds), topic)
    texts = tuple(s[a:b] for s in split_sentences(unwrap(entry.answer)) for a, b in clauses(s))
    return dataclasses.replace(vocabulary, stated=tuple(frozenset(text_stems(t)[0]) for t in texts), stated_texts=texts)

def denied_too(quote: str, vocabulary: Vocabulary) -> bool:
    """Whether the reference answer denies the same words in one of its clauses ("no dropout is applied")."""
    words = {w for w in text_stems(quote)[0] if is_content(w)}
    return bool(words) and any(words <= clause and clause & W.NEGATIONS for clause in vocabulary.stated)


def stated(text: str, vocabulary: Vocabulary) -> bool:
    """Whether one clause of the reference answer has every content word and term of this text: the reference says
    it, so it contradicts no key point (a key point that seems to say otherwise is read too literally)."""
    stems = text_stems(text)[0]
    words = {w for w in stems if is_content(w)}
    # Said the other way round ("does not keep the largest value") it is not what the reference says.
    denied = bool(W.NEGATIONS & set(stems))
    return bool(words) and any(words <= clause and denied == bool(clause & W.NEGATIONS)
                               for clause in vocabulary.stated)


def _acronym(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """Whether a one-word term is the initials of a longer one ("sgd", "stochastic gradient descent")."""
    return len(short) == 1 and len(long) >= 2 and short[0] == initials(long)


def clauses(sentence: str) -> list[tuple[int, int]]:
    """Character spans of the clauses of a sentence: cut at clause joiners and at commas, a piece with fewer than
    two content words ("the input, forget and output gates") staying with the one before it."""
    marks = [(m.start(), m.end()) for m in _CLAUSE.finditer(sentence)]
    for m in _PAIRING.finditer(sentence):
        since = max((b for _, b in marks if b <= m.start()), default=0)
        if re.search(r"\bfor\b", sentence[since:m.start()], re.IGNORECASE):
            marks.append((m.start(), m.end()))
    cuts = [0]
    for start, end in sorted(marks):
        cuts += [start, end]
    cuts.append(len(sentence))
    out: list[tuple[int, int]] = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=True):
        start = a
        for piece in [*re.finditer(r",\s*(?=" + _NEW_CLAUSE + ")", sentence[a:b]), None]:
            end = a + piece.start() if piece else b
            words = sum(1 for w in text_stems(sentence[start:end])[0] if is_content(w))
            if out and out[-1][1] >= start - 3 and (words < 2 or _content_words(sentence, *out[-1]) < 2
                                                     or _CONTINUES.match(sentence[start:end])
                                                     or _CONDITION.match(sentence[out[-1][0]:out[-1][1]].lstrip())):
                out[-1] = (out[-1][0], end)
            elif sentence[start:end].strip():
                out.append((start, end))
            start = a + piece.end() if piece else b
    return out

def _content_words(text: str, a: int, b: int) -> int:
    """Content words of text[a:b]."""
    return sum(1 for w in text_stems(text[a:b])[0] if is_content(w))
