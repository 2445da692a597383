"""The rubric: each key point credited from three similarity signals with the answer, scored in code.

One forward pass of the embedding model gives each answer sentence's vector and its words' vectors in context.
For each key point, three signals in [0, 1] (their mean is the point's similarity):
  - plain:  cosine of the point with the best sentence, pair of adjacent sentences or clause of a sentence (a long
            sentence saying three things is far from each of them, and a point said in other words needs all of
            its closeness: own-words right answers, benchmarks/own_words.py);
  - lifted: the same with the question's own words and function words left out of both sides, so that
            restating the question earns nothing;
  - recall: for each of the point's content words (question words left out), its best match among the answer's
            words (1 for the same stem), averaged: how much of the point the answer says.
A point earns full credit at THRESHOLD and loses it linearly over the band below; the score is the mean credit
lifted so that one point of several said in full is worth about ONE_POINT (the first points said count for more).
The band is wide when the rubric has one or two points (a terse reference: each point must grade partial
correctness by itself) and narrow from three points on (coverage of the points grades the answer).
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bot.core.bank import Entry
from bot.core.embedder import Embedder, Encoded
from bot.core.grading import spoken
from bot.core.grading.parse import question_terms
from bot.core.grading.values import range_agrees
from bot.core.grading.vocabulary import clauses

# Full credit at the threshold, none at threshold - band. With three points or more (THRESHOLD, BAND: chosen on our
# labeled answers, benchmarks/calibrate_rubric.py) a point the answer only brushes earns nothing. With one or two
# points (a terse reference, like the UNT set's) each point grades partial correctness by itself: THRESHOLD_FEW and
# BAND_FEW were chosen on the UNT short-answer set, and are chosen again on the other assignments for each one in
# benchmarks/grading_validity.py (docs/grading_quality.md reports both figures).
THRESHOLD = 0.65
BAND = 0.25
THRESHOLD_FEW = 0.70
BAND_FEW = 0.75
FEW_POINTS = 2
# A point counts as covered (feedback, follow-ups) from this similarity: the best point-level F1 on the labels.
COVERED_AT = 0.50
# A point that earns some but less than this share of its credit is shown as said only in part: at COVERED_AT it earns
# 0.4, and six such ticks beside a 72 read as a score taken for nothing.
FULLY = 0.75
# An answer whose best point similarity stays below this is about something else: it scores 0 and is told so. With
# one or two points the floor is lower: a terse answer to a terse reference is often right in other words.
OFF_TOPIC = 0.45
OFF_TOPIC_FEW = 0.15
# ... unless most of its own words are the reference's: "An LSTM has three gates, the input, forget and output gates"
# stays below the floor (a list matches no point's sentence) but says the reference's words. Answers to other
# questions of the deck share at most 0.23 of their words with the reference (the labeled set), right partial answers
# at least 0.2 and mostly over 0.4 (every scoring set): an answer below the floor is off-topic when under GROUNDED.
GROUNDED = 0.4
# Words that carry no topic of their own, left out of that share.
_FILLERS = frozenset({"also", "very", "just", "even", "still", "one", "two", "each", "every", "you", "your", "our",
                      "we", "i", "my", "me", "such", "more", "most", "much", "many", "some", "any", "all", "only",
                      "who", "here", "being", "might", "it's", "i'd", "i'm", "basically", "really", "like", "get",
                      "gets", "make", "makes", "thing", "things", "way", "lot", "answer", "idea", "know", "sure"})
# One key point said in full scores about ONE_POINT of 100, as one point of three does, however many points the rubric
# has: with the plain mean a correct one-liner that says one of six points scored 17, and short right answers in a
# candidate's own words averaged 17.9 on blind part 15, below the partial band (25-60). The score is the mean credit
# lifted toward mean ** power, the power that maps 1/n to ONE_POINT (never above 1), in the proportion of the credit
# that comes from points said (credit from LIFT_FROM, all of it from LIFT_FULL): an answer that only brushes several
# points (off-topic, one word) keeps the plain mean, 13 at most on the labeled off-topic answers (a plain power lifted
# one to 25). Two points of five or six score about 53, four about 86; the labeled set's pairwise order is unchanged
# and a contradicted answer is capped after the lift. Chosen on parts 10-15 and the labeled set
# (docs/grading_quality.md): 0.3 left the own-words partial answers at 25, 0.35 lifted reference-words ones to 53.
ONE_POINT = 0.33
LIFT_FROM = 0.4
LIFT_FULL = 0.6
CACHE_SIZE = 512
# A sentence this long may say several points, and is matched clause by clause too. Shorter ones gain little from it
# and each clause costs a forward pass: from 18 words on, own-words right answers (part 14) and the labeled strong
# answers keep all their gain, while the one-line partial answers of parts 10-14 move by 1.3 points at most.
LONG_SENTENCE = 18
# A point whose range an answer sentence gives ("20 to 50 percent" for "between 0.2 and 0.5") is stated when the
# sentence is at least this close to it (plain cosine; a long sentence that gives it in passing stays far): the range
# is what such a point says.
RANGE_NEAR = 0.15
# An answer of at most TERSE_WORDS content words ("Dropout.", "Batch normalization.") names a topic but states no
# claim: against a rubric of several points it earns at most TERSE_CAP (the scale: one word <= 15). A terse reference
# (one or two points, like the UNT set's) keeps grading terse answers by their similarity.
TERSE_WORDS = 2
TERSE_CAP = 15
_CONTENT = re.compile(r"^[a-z0-9][a-z0-9'-]*$")
STOPWORDS = frozenset({
    "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with", "from", "into",
    "is", "are", "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "which", "what", "when",
    "where", "why", "how", "can", "could", "do", "does", "did", "has", "have", "had", "not", "no", "as", "than",
    "then", "so", "will", "would", "should", "may", "must", "there", "their", "they", "them"
})


def _stem(word: str) -> str:
    """The first six letters: enough to match "normalizes" with "normalization"."""
    return word[:6]


def question_stems(question: str) -> frozenset[str]:
    """Stems of the question's content words: words that restate the question are not evidence."""
    return frozenset(_stem(w) for w in re.findall(r"[a-z0-9]+", question.lower()) if w not in STOPWORDS)


def terse_capped(score: int, points: int, sentences: Sequence[str]) -> int:
    """The score, at most TERSE_CAP for an answer of a few words against a rubric of several points."""
    return min(score, TERSE_CAP) if points > FEW_POINTS and content_words(sentences) <= TERSE_WORDS else score


def content_words(sentences: Sequence[str]) -> int:
    """How many words of the sentences carry content (function words left out)."""
    return sum(1 for s in sentences for w in re.findall(r"[a-z0-9][a-z0-9'-]*", s.lower()) if w not in STOPWORDS)


def content_mask(words: Sequence[str], asked: frozenset[str]) -> np.ndarray:
    """Which words carry content of their own: not punctuation, not a function word, not the question's."""
    return np.array([bool(_CONTENT.match(w)) and w not in STOPWORDS and _stem(w) not in asked for w in words],
                    dtype=bool)


@dataclass(frozen=True)
class PointMatch:
    """One key point and the answer sentence that matches it best."""

    text: str
    similarity: float
    evidence: str | None
    credit: float

    @property
    def covered(self) -> bool:
        """Whether the answer states the point."""
        return self.similarity >= COVERED_AT

    @property
    def partly(self) -> bool:
        """Whether the point earns some of its credit but not most of it (covered or not: the feedback calls a
        missed point with some credit "only partly covered")."""
        return 0 < self.credit < FULLY


@dataclass(frozen=True)
class RubricResult:
    """Every point's match, the answer's relevance, and the score they give."""

    points: tuple[PointMatch, ...]
    relevance: float
    score: int
    # Each point's plain similarity with each sentence (not the pairs): where contradictions are looked for.
    by_sentence: tuple[tuple[float, ...], ...] = field(default=(), compare=False, repr=False)
    # Content words of the answer that the question does not already say.
    novel: int = 0
    # The share of those words that the reference says too (points and reference answer), fillers left out.
    grounded: float = 0.0

    @property
    def off_topic(self) -> bool:
        """Whether the answer is about something else: no point comes near it."""
        return self.relevance < (OFF_TOPIC_FEW if len(self.points) <= FEW_POINTS else OFF_TOPIC) \
            and self.grounded < GROUNDED

    @property
    def echo(self) -> bool:
        """Whether the answer only restates the question (no word of its own)."""
        return self.novel == 0


@dataclass(frozen=True)
class EntryVectors:
    """What the rubric keeps of an entry: its points encoded, their content words, the question's stems."""

    points: tuple[Encoded, ...]
    matrix: np.ndarray                       # the points' vectors
    lifted: tuple[np.ndarray | None, ...]    # each point's content words pooled (None: it has none)
    content: tuple[tuple[tuple[str, ...], np.ndarray], ...]  # each point's content words and their vectors
    asked: frozenset[str]
    wording: spoken.Wording = spoken.Wording({}, ())   # acronyms and question terms, for the answer's own words
    said: frozenset[str] = frozenset()                 # stems of the reference's words (points, reference answer)

    def read(self, sentences: Sequence[str]) -> list[str]:
        """The answer's sentences as the rubric compares them: in the entry's words (spoken.py)."""
        return [spoken.normalise(s, self.wording, " ".join(sentences[:i])) for i, s in enumerate(sentences)]


def ramp_for(points: int) -> tuple[float, float]:
    """(threshold, band) of a rubric with this many points."""
    return (THRESHOLD_FEW, BAND_FEW) if points <= FEW_POINTS else (THRESHOLD, BAND)


def credit(similarity: float, band: float = BAND, threshold: float = THRESHOLD) -> float:
    """A point's share earned: all of it at the threshold, falling linearly to none over the band below."""
    return float(np.clip((similarity - (threshold - band)) / band, 0.0, 1.0))


def score_of(credits: Sequence[float]) -> int:
    """The rubric score, 0-100: the mean credit of the points, lifted as far as points are said (see ONE_POINT)."""
    if not len(credits):
        return 0
    share = float(np.mean(credits))
    if len(credits) <= FEW_POINTS or share <= 0:
        return int(round(100 * share))
    power = min(1.0, math.log(ONE_POINT) / math.log(1 / len(credits)))
    said = np.clip((np.asarray(credits) - LIFT_FROM) / (LIFT_FULL - LIFT_FROM), 0.0, 1.0)
    weight = float(np.dot(credits, said)) / float(np.sum(credits))
    return int(round(100 * (share + (share ** power - share) * weight)))


def windows(sentences: Sequence[str]) -> list[str]:
    """Pairs of adjacent sentences, so a point explained over two sentences can still match."""
    return [f"{a} {b}" for a, b in zip(sentences, sentences[1:], strict=False)]


def _clauses_of(sentence: str) -> list[str]:
    """The clauses of a long sentence that has more than one (vocabulary.clauses), else none."""
    if len(sentence.split()) < LONG_SENTENCE:
        return []
    pieces = [c for a, b in clauses(sentence) if (c := sentence[a:b].strip(" ,;:"))]
    return pieces if len(pieces) > 1 else []


def _pool(words: np.ndarray) -> np.ndarray | None:
    """The unit mean of word vectors (None for no words)."""
    if not len(words):
        return None
    mean = words.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else None


def recall(wanted: tuple[tuple[str, ...], np.ndarray], words: Sequence[str], vectors: np.ndarray) -> float:
    """Mean over the wanted words of their best cosine with the answer's words (1 for the same stem)."""
    names, wanted_vectors = wanted
    if not names or not len(words):
        return 0.0
    sims = wanted_vectors @ vectors.T
    same = np.array([[_stem(a) == _stem(b) for b in words] for a in names])
    return float(np.maximum(sims, same).max(axis=1).mean())


class Rubric:
    """Matches an answer's sentences against an entry's key points; one forward pass per warm answer."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[tuple[str, str], EntryVectors] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, entry: Entry) -> EntryVectors:
        """The entry's cached encodings (made on first use: call it when the question is shown)."""
        key = (entry.id, entry.content_hash())
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        asked = question_stems(entry.question)
        words = spoken.wording(entry.question, [*entry.points, entry.answer], question_terms(entry.question))
        encoded = tuple(self.embedder.encode([spoken.normalise(p, words) for p in entry.points]))
        content = []
        for e in encoded:
            mask = content_mask(e.words, asked)
            content.append((tuple(w for w, m in zip(e.words, mask, strict=True) if m), e.word_vectors[mask]))
        said = frozenset(_stem(w) for text in (*entry.points, entry.answer)
                         for w in re.findall(r"[a-z0-9][a-z0-9'-]*", text.lower()))
        cached = EntryVectors(encoded, np.stack([e.vector for e in encoded]),
                              tuple(_pool(v) for _, v in content), tuple(content), asked, words, said)
        with self._lock:
            self._cache[key] = cached
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return cached

    def grade(self, entry: Entry, sentences: Sequence[str]) -> RubricResult:
        """Every key point against the answer's sentences (and pairs of them), then the score."""
        vectors = self.vectors(entry)
        if not sentences:
            return RubricResult(tuple(PointMatch(p, 0.0, None, 0.0) for p in entry.points), 0.0, 0)
        encoded, parts = self.encode(vectors.read(sentences))
        sims, evidence = self.signals(vectors, encoded, parts)
        threshold, band = ramp_for(len(entry.points))
        plain = vectors.matrix @ np.stack([e.vector for e in encoded]).T
        for i, point in enumerate(entry.points):
            near = [s for s, text in enumerate(sentences) if plain[i, s] >= RANGE_NEAR and range_agrees(text, point)]
            if near and sims[i] < threshold:
                sims[i], evidence[i] = threshold, max(near, key=lambda s: plain[i, s])
        points = tuple(PointMatch(text, round(float(s), 4), sentences[e], credit(float(s), band, threshold))
                       for text, s, e in zip(entry.points, sims, evidence, strict=True))
        novel = {w for e in encoded for w, m in zip(e.words, content_mask(e.words, vectors.asked), strict=True) if m}
        by_sentence = tuple(tuple(round(float(v), 4) for v in row) for row in plain)
        score = terse_capped(score_of([p.credit for p in points]), len(points), sentences)
        own = [w for w in novel if w not in _FILLERS]
        grounded = sum(_stem(w) in vectors.said for w in own) / len(own) if own else 0.0
        return RubricResult(points, round(float(sims.max()), 4), score, by_sentence, len(novel), round(grounded, 4))

    def encode(self, texts: Sequence[str]) -> tuple[list[Encoded], list[tuple[int, Encoded]]]:
        """The sentences, and the clauses of those that have several (with their sentence's index), in one pass."""
        pieces = [(k, piece) for k, text in enumerate(texts) for piece in _clauses_of(text)]
        encoded = self.embedder.encode([*texts, *(piece for _, piece in pieces)])
        return encoded[:len(texts)], [(k, e) for (k, _), e in zip(pieces, encoded[len(texts):], strict=True)]

    def signals(self, vectors: EntryVectors, encoded: Sequence[Encoded],
                parts: Sequence[tuple[int, Encoded]] = ()) -> tuple[np.ndarray, list[int]]:
        """Each point's similarity (mean of plain, lifted, recall) and the index of its evidence sentence."""
        n = len(encoded)
        units = [e.vector for e in encoded] + [Encoded.pooled(pair) for pair in zip(encoded, encoded[1:], strict=False)]
        units += [e.vector for _, e in parts]
        plain = vectors.matrix @ np.stack(units).T
        masks = [content_mask(e.words, vectors.asked) for e in encoded]
        own = [e.word_vectors[m] for e, m in zip(encoded, masks, strict=True)]
        pooled = [_pool(v) for v in own] + [_pool(np.concatenate(p)) for p in zip(own, own[1:], strict=False)]
        pooled += [_pool(e.word_vectors[content_mask(e.words, vectors.asked)]) for _, e in parts]
        words = [w for e, m in zip(encoded, masks, strict=True) for w, k in zip(e.words, m, strict=True) if k]
        word_vectors = np.concatenate(own) if own else np.zeros((0, plain.shape[1]))
        sims = np.zeros(len(vectors.points))
        evidence = []
        # A unit's sentence: a pair's evidence is read from its two sentences, a clause's is its sentence.
        owner = [*range(n), *([-1] * (n - 1)), *(k for k, _ in parts)]
        for i, point in enumerate(vectors.lifted):
            on_own = [float(point @ u) if point is not None and u is not None else 0.0 for u in pooled]
            sims[i] = (float(plain[i].max()) + max(max(on_own, default=0.0), 0.0)
                       + recall(vectors.content[i], words, word_vectors)) / 3
            # The evidence is the sentence (or clause) closest by its plain and its own words together: by plain
            # closeness alone, "Okay so, dropout, right, I remember ..." was quoted for a point it only names.
            best = max((u for u in range(len(units)) if owner[u] >= 0), key=lambda u: plain[i, u] + on_own[u])
            evidence.append(owner[best])
        return sims, evidence

    def match_point(self, entry: Entry, point_index: int, sentences: Sequence[str]) -> PointMatch:
        """One key point against an answer (a follow-up's answer), credited as a one-point rubric."""
        if not sentences:
            return PointMatch(entry.points[point_index], 0.0, None, 0.0)
        vectors = self.vectors(entry)
        one = EntryVectors((vectors.points[point_index],), vectors.matrix[point_index: point_index + 1],
                           (vectors.lifted[point_index],), (vectors.content[point_index],), vectors.asked,
                           vectors.wording)
        sims, evidence = self.signals(one, *self.encode(vectors.read(sentences)))
        return PointMatch(entry.points[point_index], round(float(sims[0]), 4), sentences[evidence[0]],
                          credit(float(sims[0]), BAND, THRESHOLD))
