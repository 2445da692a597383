"""A clause that opens with "it" or "they" says its claim of the term the clause before it was about.

"The decoder comes first: it compresses the input into a latent code" claims that the decoder compresses the input;
the who-does-what check reads clause by clause, and the clause "it compresses the input ..." names no term. Here such
a pronoun is read as the named term that opened the clause before it (in the same sentence or the one before), so
the check sees "decoder compresses the input ...". Only a term of the entry's own groups counts, only when it opens
its clause (its subject, near enough), and only a pronoun that opens a clause.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.core.grading.vocabulary import GENERIC, Vocabulary, clauses, is_content, text_stems

_PRONOUN = re.compile(r"\s*(?:(?:and|so|then|but)\s+)?(it|they)\b(?!\s*(?:'s|is|are|was|were)\s+(?:not\s+)?"
                      r"(?:important|crucial|common|possible|necessary|useful|worth|likely|hard|easy|why|what|how)\b)",
                      re.IGNORECASE)
# Content words that may stand before a subject in its clause ("In a GAN the generator ...", "Then the encoder").
SUBJECT_AFTER = 2


def _subject(clause: str, vocabulary: Vocabulary) -> str | None:
    """The words of the entry's term that opens a clause, if one does."""
    stems, spans = text_stems(clause)
    named = [(a, b) for a, b, term in vocabulary.find(stems) if 0 <= term.group < GENERIC]
    if not named or sum(1 for s in stems[:named[0][0]] if is_content(s)) > SUBJECT_AFTER:
        return None
    start, end = named[0]
    # Two terms joined at the head of the clause ("Xavier or Glorot initialization") leave "it" ambiguous.
    if (len(named) > 1 and named[1][0] - end <= 2) or (start and stems[start - 1] in ("or", "and")):
        return None
    return clause[spans[start][0]:spans[end - 1][1]]


def resolved(sentences: Sequence[str], vocabulary: Vocabulary) -> list[str | None]:
    """Each sentence with its clause-opening pronouns read as the term the clause before was about (None when the
    sentence has none to read)."""
    out: list[str | None] = []
    last: str | None
    for sentence in sentences:
        # Only inside a sentence: across sentences "it" as often means the topic as the last subject ("It is handy
        # for comparing models" after a sentence about the AUC).
        last = None
        swaps: list[tuple[int, int, str]] = []
        for a, b in clauses(sentence):
            clause = sentence[a:b]
            opened = _PRONOUN.match(clause)
            if opened and last:
                swaps.append((a + opened.start(1), a + opened.end(1), last))
            else:
                last = _subject(clause, vocabulary) or (last if opened else None)
        text = sentence
        for a, b, words in reversed(swaps):
            text = text[:a] + words + text[b:]
        out.append(text if swaps else None)
    return out
