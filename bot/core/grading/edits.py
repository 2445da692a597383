"""The edit check: a sentence copied from the reference with two of its terms exchanged, or one term or number put
in the place of another.

A wrong answer written in the reference's own words is most often a reference sentence with a few words changed:
"they combine the forget and output gates into a single update gate and eliminate the input gate" is the reference's
sentence with "input" and "output" exchanged. The answer sentence is aligned word by word (stems) with the reference
sentence it copies most of; an edit counts only when it puts in the place of the reference's words
- the words another edit of the same sentence took out (the two were exchanged),
- a sibling of the same family of the entry's vocabulary ("max" for "min", "recurrent" for "convolutional"),
- a different number ("three layers" for "two layers").
Paraphrase replaces a phrase by words of its own ("big dataset" for "large data"): it is none of the three, and the
other checks, which read claims rather than copies, judge it.

A sentence that copies no whole reference sentence is read piece by piece (between commas): a piece copied nearly
whole with one such edit, or with "only" taken out and the other phase put in, counts too. A copy that keeps the
reference's words but moves what a denial, a comparison, a sign, a direction or a time word governs is read in
`scope.py`; a copied sentence that points back ("This leads to ...") in `pointing.py`.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.grading import conflict_words as W
from bot.core.grading import names, reordering, scope
from bot.core.grading.conflicts import stem
from bot.core.grading.counts import said_numbers, stem_numbers
from bot.core.grading.initials import shortens
from bot.core.grading.reordering import content
from bot.core.grading.values import numbers
from bot.core.grading.vocabulary import GENERIC, LOOSE, NUMBER, Vocabulary, clauses, is_content, text_stems
from bot.core.text import split_sentences

_GENERIC = {stem(w): (GENERIC + f, c) for f, families in enumerate((*W.FAMILIES, *W.COPY_KINDS))
            for c, family in enumerate(families) for w in family if " " not in w}

# The answer sentence copies a reference sentence when at least this many of its content stems are matched in order
MIN_COPIED = 4
# ... and they are at least this share of the shorter sentence's content stems (a copy may be cut or extended).
MIN_SHARE = 0.65
# An edit of more content words than this on either side rewrites the claim: it is no term put for another.
MAX_EDIT = 3
# A sibling counts in an edit of at most this many content words a side: a longer one rephrases the clause.
SIBLING_EDIT = 2
# Two exchanged words stand at least this many content words apart: closer, a phrase was only reordered.
APART = 3
# A piece of a sentence (cut at its commas) copies a piece of the reference's when it shares this share of the
# shorter one's content stems: a piece is short, so it must be nearly whole to be a copy.
PIECE_SHARE = 0.8

# Where a sentence is cut into pieces: punctuation and the words that join clauses.
_PIECE = re.compile(r"[,;:()]|\s(?:which|while|whereas|but|because|so\s+that)\s", re.IGNORECASE)


@dataclass(frozen=True)
class Edit:
    """A copied sentence with a term or number changed: the reference sentence, the answer's clause, the kind."""

    reference: str
    quote: str
    kind: str  # "swap" (terms exchanged or a sibling put in), "number" or "entity" (another name)


@dataclass(frozen=True)
class Copyable:
    """A reference sentence and its stems."""

    text: str
    stems: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    words: Counter[str]   # its content stems, counted
    piece: bool = False   # a piece of a sentence, cut at a comma, not the whole


def sentences_of(texts: Sequence[str]) -> list[Copyable]:
    """The sentences of the reference (its answer and its points), each with its stems, then their pieces."""
    out = []
    for text in texts:
        for sentence in split_sentences(text):
            # a piece of an answer sentence may copy a whole reference sentence, or a piece of one
            for piece, part in [(sentence, False), *((p, True) for p in pieces(sentence) or [sentence])]:
                stems, spans = text_stems(piece)
                if sum(1 for s in stems if is_content(s)) >= MIN_COPIED:
                    out.append(Copyable(piece, tuple(stems), tuple(spans), Counter(content(stems)), part))
    return out


def pieces(sentence: str) -> list[str]:
    """A sentence's pieces between commas and clause joiners, when it has more than one."""
    cut = [p.strip() for p in _PIECE.split(sentence) if p.strip()]
    return cut if len(cut) > 1 else []


def terms(stems: Sequence[str], vocabulary: Vocabulary) -> set[tuple[int, int]]:
    # "its inputs" says what something has, it names no input layer
    return {(t.group, t.cls) for _, _, t in vocabulary.find(list(stems), owned=False) if t.group not in LOOSE}


_Alignment = tuple[Copyable, difflib.SequenceMatcher[str]]


def copied(stems: Sequence[str], references: Sequence[Copyable], piece: bool = False) -> _Alignment | None:
    """The reference sentence (or piece) this one copies most of, with the alignment (None when it copies none)."""
    words = Counter(content(stems))
    mine = sum(words.values())
    share = PIECE_SHARE if piece else MIN_SHARE
    best: tuple[int, Copyable, difflib.SequenceMatcher[str]] | None = None
    for reference in references:
        if reference.piece != piece:
            continue
        # the words both share bound what the alignment can match: most references are passed over unaligned
        if (words & reference.words).total() < max(MIN_COPIED, best[0] + 1 if best else 0):
            continue
        matcher = difflib.SequenceMatcher(None, reference.stems, list(stems), autojunk=False)
        same = sum(1 for block in matcher.get_matching_blocks()
                   for s in content(stems[block.b:block.b + block.size]))
        shorter = min(mine, sum(reference.words.values()))
        if same >= MIN_COPIED and same >= share * shorter and (best is None or same > best[0]):
            best = (same, reference, matcher)
    return (best[1], best[2]) if best else None


@dataclass(frozen=True)
class Trade:
    """An edit none of the kinds above explains, kept to be compared with the other sentences' edits."""

    old: frozenset[str]
    new: frozenset[str]
    reference: str
    quote: str


def _kinds_named(stems: list[str], reference: Copyable, matcher: difflib.SequenceMatcher[str]) \
        -> tuple[list[str], difflib.SequenceMatcher[str]]:
    """The copy's stems with a one-letter qualifier taken off a word the reference says bare ("the Q-value" for "value",
    a kind of it, not another thing), and the alignment again where one was."""
    said = set(reference.stems)
    bare = [s.split("-", 1)[1] if re.fullmatch(r"[a-z]-[a-z]+", s) and s not in said and s.split("-", 1)[1] in said
            else s for s in stems]
    if bare == stems:
        return stems, matcher
    return bare, difflib.SequenceMatcher(None, reference.stems, bare, autojunk=False)


def edited(sentence: str, references: Sequence[Copyable], vocabulary: Vocabulary, depth: int = 0,
           seen: list[Trade] | None = None) -> list[Edit]:
    """The edits of a copied sentence that put another term or number in the reference's place; seen collects the
    other small edits, for `across`."""
    stems, spans = text_stems(sentence)
    match = copied(stems, references)
    if match is None:
        return _piece_edits(sentence, references, vocabulary) if depth == 0 else []
    reference, matcher = match
    stems, matcher = _kinds_named(stems, reference, matcher)
    found: list[Edit] = []
    if depth < 1:
        # a sentence that joins two of the reference's ("An RBM has three layers, ..., and each visible node ..."):
        # the words the first leaves unmatched are aligned with the others
        rest = [r for r in references if r is not reference]
        for op, _, _, j1, j2 in matcher.get_opcodes():
            if op in ("insert", "replace") and len(content(stems[j1:j2])) >= MIN_COPIED:
                a, b = _span(spans, j1, j2)
                found += [replace_quote(e, sentence)
                          for e in edited(sentence[a:b], rest, vocabulary, depth + 1, seen)]
    ops = [(i1, i2, j1, j2) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op == "replace"]
    reordered = False
    for i1, i2, j1, j2 in ops:
        old, new = reference.stems[i1:i2], stems[j1:j2]
        if W.NEGATIONS & (set(old) | set(new)):
            continue   # a denial changed is the denial check's to judge
        old_words, new_words = set(content(old)), set(content(new))
        if not old_words or not new_words or old_words & new_words or \
                len(old_words) > MAX_EDIT or len(new_words) > MAX_EDIT:
            continue
        if any(new_words <= set(content(reference.stems[k1:k2])) and old_words <= set(content(stems[l1:l2]))
               and reordering.listed(stems[min(j2, l2):max(j1, l1)]) for k1, k2, l1, l2 in ops if k1 != i1) or \
                reordering.rotated(reference.stems, stems, (i1, i2), (j1, j2)):
            reordered = True   # two items of one list said in each other's place: the list in another order
            continue
        kind = _put_for(reference, (i1, i2), sentence, spans, (j1, j2), vocabulary)
        if kind is None and any(set(content(reference.stems[k1:k2])) & new_words
                    and set(content(stems[l1:l2])) & old_words
                    and _apart(stems[min(j2, l2):max(j1, l1)], i2 - i1 == j2 - j1 == k2 - k1 == l2 - l1 == 1)
                    for k1, k2, l1, l2 in ops if k1 != i1):
            kind = "swap"
        if kind:
            found.append(Edit(reference.text, _clause(sentence, spans[j1][0]), kind))
        elif seen is not None:
            seen.append(Trade(frozenset(old_words), frozenset(new_words), reference.text,
                              _clause(sentence, spans[j1][0])))
    if not found:
        found += _scoped(reference, stems, matcher.get_opcodes(), sentence)
    # an item taken out of a list and put back elsewhere in it: its pieces between commas are no edits either
    reordered = reordered or reordering.moved(reference.stems, stems, matcher.get_opcodes())
    if depth == 0 and not found and not reordered:
        found = _piece_edits(sentence, references, vocabulary)
    return found


def _scoped(reference: Copyable, stems: Sequence[str], ops: scope.Ops, sentence: str) -> list[Edit]:
    """A copy whose words were kept but whose denial, comparison, sign, direction or time word was moved or changed."""
    theirs = reference.stems
    if _renumbered(reference, stems, ops, sentence):
        return [Edit(reference.text, sentence, "number")]
    if scope.retimed(theirs, stems, ops):
        return [Edit(reference.text, sentence, "phase")]
    if scope.rescoped(theirs, stems, ops) or scope.resigned(theirs, stems, ops) or scope.redirected(theirs, stems) \
            or scope.turned(theirs, stems, ops) or scope.set_aside(theirs, stems, ops):
        return [Edit(reference.text, sentence, "swap")]
    return []


def _renumbered(reference: Copyable, stems: Sequence[str], ops: scope.Ops, sentence: str) -> bool:
    """Whether a copy says other numbers than the reference sentence, keeping none of its own ("one over the
    square root" for "the square root of two divided by"), or a figure said as words that are no number ("equal to
    the number of classes" for "equal to 1")."""
    theirs, mine = said_numbers(reference.text), said_numbers(sentence)
    # none of the reference's numbers kept: "one visible layer and one hidden layer" beside "a two-layer net" counts
    # the same two layers
    if theirs and mine and not theirs & mine:
        return True
    # a figure, not a number word: "two layers, a visible ... and a hidden ..." counts them without the word
    # (a short edit: a long one is the copy's end cut off, "... and cross-entropy ... between 0 and 1" for "target")
    return any(op == "replace" and any(NUMBER.fullmatch(s) for s in reference.stems[i1:i2])
               and len(content(reference.stems[i1:i2])) <= MAX_EDIT and not stem_numbers(stems[j1:j2])
               and not numbers(" ".join(stems[j1:j2])) and content(stems[j1:j2])
               for op, i1, i2, j1, j2 in ops)


def _generic(stems: Sequence[str]) -> set[tuple[int, int]]:
    """The generic families' words of an edit, also where the entry names one of its own terms with the word ("large"
    beside "diverse" in "a large and diverse dataset"): "small" for "large" is still the other size."""
    return {_GENERIC[s] for s in stems if s in _GENERIC and _GENERIC[s][0] not in LOOSE}


def _put_for(reference: Copyable, theirs_at: tuple[int, int], sentence: str, spans: Sequence[tuple[int, int]],
             mine_at: tuple[int, int], vocabulary: Vocabulary) -> str | None:
    """The kind of an edit that puts a number, a sibling term or another name in the reference's place, if any."""
    old, new = reference.stems[theirs_at[0]:theirs_at[1]], text_stems(sentence)[0][mine_at[0]:mine_at[1]]
    if stem_numbers(old) and stem_numbers(new) and stem_numbers(old) != stem_numbers(new):
        return "number"
    if _unprefixed(set(content(old)), set(content(new))):
        return "swap"
    theirs, mine = terms(_parts(old, new), vocabulary), terms(_parts(new, old), vocabulary)
    theirs, mine = theirs | _generic(old), mine | _generic(new)
    if len(set(content(old))) <= SIBLING_EDIT and len(set(content(new))) <= SIBLING_EDIT and \
            any(g == h and c != d for g, c in mine for h, d in theirs):
        return "swap"
    if _bare(old) and _bare(new) and _renamed(names.names_of(reference.text, *_span(reference.spans, *theirs_at)),
                                              names.names_of(sentence, *_span(spans, *mine_at)),
                                              names.names_of(sentence)) and \
            not _cut_short(reference.text[slice(*_span(reference.spans, *theirs_at))],
                           sentence[slice(*_span(spans, *mine_at))]):
        return "entity"
    return None


# Prefixes that deny the word they open: "an unsupervised model" made "a supervised model"
_DENYING = ("un", "non-", "non", "in", "dis")


def _unprefixed(old: set[str], new: set[str]) -> bool:
    """Whether one word of an edit is the other with a denying prefix taken off or put on."""
    if len(old) != 1 or len(new) != 1:
        return False
    (a,), (b,) = sorted((old, new), key=lambda words: len(next(iter(words))))
    return len(a) >= 4 and any(b == prefix + a for prefix in _DENYING)


def _cut_short(theirs: str, mine: str) -> bool:
    """Whether one side's words are the other's cut short, the words as written ("BatchNorm" for "Batch
    Normalization", where a capital opening the sentence is no name)."""
    one, other = re.findall(r"[A-Za-z0-9]+", theirs), re.findall(r"[A-Za-z0-9]+", mine)
    return shortens(" ".join(other), one) or shortens(" ".join(one), other)


def _piece_edits(sentence: str, references: Sequence[Copyable], vocabulary: Vocabulary) -> list[Edit]:
    """A sentence that copies no whole reference sentence may copy a piece of one, between commas ("The initial
    layers generally learn to identify high-level features, such as shapes"): a piece nearly whole but for one
    term, number or name put in the reference's place."""
    found = []
    for piece in pieces(sentence) or [sentence]:
        stems, spans = text_stems(piece)
        match = copied(stems, references, piece=True)
        if match is None:
            continue
        reference, matcher = match
        ops = matcher.get_opcodes()
        if _widened(reference.stems, stems, ops, vocabulary):
            found.append(Edit(reference.text, _clause(sentence, sentence.find(piece)), "swap"))
            continue
        changed = [(op, i1, i2, j1, j2) for op, i1, i2, j1, j2 in ops
                   if op == "replace" and (content(reference.stems[i1:i2]) or content(stems[j1:j2]))]
        added = max((len(content(reference.stems[i1:i2])) + len(content(stems[j1:j2]))
                     for op, i1, i2, j1, j2 in ops if op in ("insert", "delete")), default=0)
        if len(changed) != 1 or added > 1:
            continue   # one edit in a nearly whole copy: more, and the piece says something of its own
        _, i1, i2, j1, j2 = changed[0]
        old, new = reference.stems[i1:i2], stems[j1:j2]
        if W.NEGATIONS & (set(old) | set(new)) or set(content(old)) & set(content(new)):
            continue
        kind = _put_for(reference, (i1, i2), piece, spans, (j1, j2), vocabulary)
        if kind:
            found.append(Edit(reference.text, _clause(sentence, sentence.find(piece)), kind))
    return found


def _widened(theirs: Sequence[str], mine: Sequence[str], ops: Sequence[tuple[str, int, int, int, int]],
             vocabulary: Vocabulary) -> bool:
    """Whether a copy takes "only" out and puts a sibling of the reference's term in ("only used during training"
    made "used during both training and inference"), or puts "only" in and takes the sibling out."""
    out = [s for op, i1, i2, _, _ in ops if op != "equal" for s in theirs[i1:i2]]
    into = [s for op, _, _, j1, j2 in ops if op != "equal" for s in mine[j1:j2]]
    if ("only" in out) == ("only" in into):
        return False
    kept, added = (theirs, into) if "only" in out else (mine, out)
    have = terms(kept, vocabulary)
    return any(g == h and c != d and (g, c) not in have for g, c in terms(added, vocabulary) for h, d in have)


def across(seen: Sequence[Trade]) -> list[Edit]:
    """Edits of two copied sentences that exchange their words: "for binary classification, we might use MSE" and
    "for regression, we might use binary cross entropy" put each task in the other's sentence."""
    found: list[Edit] = []
    for one in seen:
        if any(other.reference != one.reference and one.old & other.new and one.new & other.old for other in seen):
            found.append(Edit(one.reference, one.quote, "swap"))
    return found


def _apart(between: Sequence[str], single: bool) -> bool:
    """Whether two edits that trade words stand far enough apart to have exchanged them: a noun phrase reordered
    ("the previous output" for "the output of the previous timestep") keeps them close, and so does a list said in
    another order ("recall, precision", "audio, images and text"). Two single words with a word of their own between
    them are exchanged ("semantic (grammatical) and syntactic (meaning)")."""
    if reordering.listed(between):
        return False
    words = len(content(between))
    return words >= APART or (single and words >= 1)


def _parts(stems: Sequence[str], other: Sequence[str]) -> list[str]:
    """An edit's stems, a hyphened word cut into its parts where the other side's word has the same others
    ("low-level" for "high-level" puts "low" for "high")."""
    if len(stems) == len(other) == 1 and "-" in stems[0]:
        mine, theirs = stems[0].split("-"), other[0].split("-")
        if len(mine) == len(theirs) and sum(a != b for a, b in zip(mine, theirs, strict=True)) == 1:
            return [stem(p) for p in mine]
    return list(stems)


def replace_quote(edit: Edit, sentence: str) -> Edit:
    """The edit quoted in the clause of the whole sentence that holds it."""
    at = sentence.find(edit.quote)
    return Edit(edit.reference, _clause(sentence, at) if at >= 0 else edit.quote, edit.kind)


def _bare(stems: Sequence[str]) -> bool:
    """Whether an edit is content words only: a term put for a term, with the words around it kept."""
    return all(is_content(s) for s in stems)


def _span(spans: Sequence[tuple[int, int]], a: int, b: int) -> tuple[int, int]:
    """The characters of tokens a to b."""
    return spans[a][0], spans[b - 1][1]


def _renamed(theirs: Sequence[str], mine: Sequence[str], said: Sequence[str]) -> bool:
    """Whether an edit names another thing where the reference names one ("Kubernetes" for "Docker"): the
    reference's name is said nowhere in the sentence, in any order of its parts ("ROC-AUC" is "AUC-ROC"), and
    neither name is the initials of the other's words."""
    if not theirs or not mine:
        return False
    said_names = {name_key(n) for n in said}
    lost = [n for n in theirs if name_key(n) not in said_names]
    # one name written as two words or one ("ROC AUC" for "AUC-ROC"), or in part ("AUC")
    theirs_parts, mine_parts = (frozenset().union(*(name_key(n) for n in ns)) for ns in (theirs, mine))
    if theirs_parts <= mine_parts or mine_parts <= theirs_parts:
        return False
    # one name cut short, or its initials ("AWS" for "Amazon Web Services", "Batch Norm" for "Batch Normalization")
    if shortens(" ".join(theirs), mine) or shortens(" ".join(mine), theirs):
        return False
    return bool(lost) and not {name_key(n) for n in theirs} & {name_key(n) for n in mine}


def name_key(name: str) -> frozenset[str]:
    """A name's parts, lower-cased and singular: "GPUs" is "GPU", "ROC-AUC" is "AUC-ROC"."""
    return frozenset(part.casefold().removesuffix("s") for part in re.split(r"[-/]", name) if part)


def _clause(sentence: str, at: int) -> str:
    """The clause of the sentence that holds a character position."""
    return next((sentence[a:b] for a, b in clauses(sentence) if a <= at < b), sentence).strip()
