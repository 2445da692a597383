"""Checks run on an answer before any model sees it: empty, evasive, gibberish, huge, and text aimed at the grader."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from bot.core.grading.language import foreign
from bot.core.text import normalise, split_sentences

MAX_WORDS = 2000          # longer answers are graded on their first MAX_WORDS words
MAX_CHARS = 20_000        # the same cap for text without spaces (one giant "word")
MIN_WORDS = 4             # fewer words is graded, with a note that it is very short
BLOCKING = ("empty", "dont_know", "gibberish", "asked", "language")   # kinds that score 0 without any model

MESSAGES = {
    "empty": "There was no answer to grade; give it a try, even a partial answer earns points.",
    "dont_know": "No problem, that happens; have a look at the reference answer and try it again later.",
    "gibberish": "That doesn't read like an answer (it looks like random characters); try again in a few sentences.",
    "binary": "That looks like binary data rather than text; please answer in plain words.",
    "too_short": "That's a very short answer; a sentence or two more would show what you know.",
    "huge": "That answer is very long, so only its first {words} words were graded.",
    "off_topic": "That answer doesn't seem to be about this question; read the question again and give it a go.",
    "echo": "That only repeats the question; say what you know about it, even in a sentence or two.",
    "asked": "That reads as a question to me rather than an answer; answer in your own words (even a partial answer "
             "earns points), or ask for a hint.",
    "listed": "That's a list of terms rather than an explanation; say what each one does and how they fit together "
              "to earn the points.",
    "language": "That answer doesn't look like English; the coach can only grade answers in English, so please "
                "answer in English.",
    "injection": "Text addressed to the grader was ignored; only your explanation counts.",
    "only_injection": "The answer only contained text addressed to the grader, which was ignored.",
}

BINARY_SHARE = 0.3   # unreadable characters (of the non-space ones) from which an answer is binary data

# Cyrillic and Greek letters that look like Latin ones: mixed-script words hide "ignore" from a plain regex.
_CONFUSABLES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q",
    "ԝ": "w", "ɡ": "g", "ո": "n", "ս": "u", "ı": "i",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "Х": "X", "У": "Y", "Ѕ": "S", "І": "I", "Ј": "J",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ς": "s",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
})
# Invisible characters beyond text.normalise's set: soft hyphen, Mongolian separator, Unicode tag characters.
_INVISIBLE = re.compile("[\u00ad\u180e\u034f\U000e0000-\U000e007f]")


def fold(text: str) -> str:
    """Text as the injection patterns see it: NFKC, no invisible characters, look-alikes mapped, lower case."""
    text = _INVISIBLE.sub("", normalise(text))
    return unicodedata.normalize("NFKC", text.translate(_CONFUSABLES)).casefold()


_TARGET = r"(?:grader|evaluator|examiner|marker|assessor|judge|reviewer|ai|model|assistant|llm|chatgpt|gpt|bot|coach)"
_FULL = r"(?:100|full|perfect|maximum|max|top|highest|10\s*/\s*10|a\s*\+)(?![a-z0-9])"
# Each pattern is specific enough not to fire on technical prose ("we ignore padding tokens", "the system
# prompt", "score function", "JSON output"); tests/test_guards.py runs them over every labeled answer.
_PATTERNS_EN = [
    r"\b(?:ignore|disregard|forget(?!\s+gate)|override|bypass|discard|neglect)\b[^.]{0,40}?"
    r"\b(?:instructions?|prompts?|rules|directions|directives|guidelines|rubric|system\s+message|constraints)\b",
    rf"\b(?:give|award|assign|grant|gimme)\s+(?:me|it|this(?:\s+answer|\s+response)?|my\s+(?:answer|response)|"
    rf"the\s+(?:student|user|candidate|answer))\s+(?:a\s+|an\s+|the\s+)?(?:score\s+of\s+|grade\s+of\s+)?{_FULL}",
    rf"\b(?:set|change|make|put|output|return|print|report|respond\s+with|reply\s+with|write)\b[^.]{{0,25}}"
    rf"\b(?:score|grade|mark|rating)s?\b[^.]{{0,15}}\b{_FULL}(?!\s*%)",
    r"\b(?:score|grade|mark|rating)s?\s*(?::|=|is|should\s+be|must\s+be|will\s+be)\s*(?:100|full|perfect|a\+)\b(?!\s*%)",
    r"\b100\s*/\s*100\b|\b100\s+out\s+of\s+100\b|\bfull\s+(?:marks|credit)\b",
    r"\bgives?\s+(?:\w+\s+){0,3}(?:a\s+)?(?:perfect|full|maximum|100)\s+(?:score|marks|points|grade)\b",
    r"\byou\s+are\s+now\b|\bfrom\s+now\s+on\b|\bpretend\s+(?:to\s+be|you\s+are|that\s+you)\b",
    rf"\byou\s+are\s+(?:an?|the|my)\s+{_TARGET}\b|\bact\s+as\s+(?:a|an|my|the)\s+{_TARGET}\b",
    r"\byou\s+(?:must|will|should|shall|have\s+to)\s+(?:now\s+)?(?:give|award|assign|grade|score|rate|mark)\s+"
    r"(?:me|this|my|it)\b",
    r"\b(?:obey|follow)\s+(?:these|my|the\s+following|the\s+new)\s+(?:instructions|rules|orders|commands)\b",
    r"\b(?:new|updated|revised|real|secret|hidden)\s+(?:instructions|system\s+prompt)\b|\bnew\s+rules?\s*[:!]",
    rf"\b(?:dear|hey|hello|hi|attention|note\s+(?:to|for)|message\s+(?:to|for))\s+(?:the\s+)?{_TARGET}\b",
    rf"\b{_TARGET}\s*[,:]\s*(?:please|ignore|give|set|mark|rate|score|award|output|return|disregard|forget)\b",
    r"\b(?:this|my)\s+(?:answer|response|submission|reply)\s+(?:deserves?|merits?|earns?|should\s+(?:get|receive|"
    r"score|be\s+(?:given|graded|scored|marked|rated))|is\s+(?:perfect|flawless|fully\s+correct|100))",
    r"\b(?:covers?|covered|addresse[sd]|hits?|satisfie[sd]|meets?)\s+(?:all|every)\s+(?:the\s+|of\s+the\s+)?"
    r"(?:key\s+|rubric\s+)?(?:points?|criteria)\b|\ball\s+(?:the\s+)?(?:key|rubric)\s+points\b",
    r"\bmark\s+(?:all|every|each)\s+(?:the\s+)?(?:key\s+)?points?\b",
    r"\b(?:do\s+not|don'?t|never)\s+(?:penali[sz]e|deduct|subtract|lower|reduce|take\s+away)\b[^.]{0,20}"
    r"\b(?:score|points|grade|marks)\b",
    r"\b(?:print|reveal|show|repeat|output|leak|tell\s+me)\s+(?:me\s+)?(?:your|the)\s+(?:system\s+|hidden\s+|"
    r"original\s+|secret\s+)?(?:prompt|instructions|rubric|reference\s+answer)\b",
    r"\b(?:developer|dan|god|admin|sudo|jailbreak)\s+mode\b|\bjailbreak",
]
_PATTERNS_ROLES = [
    r"^\W{0,4}(?:system|assistant|user|human|developer|grader|instructions?)\s*(?::|>|\]|\|)",
    r"<\|[a-z_]{2,20}\|>|\[/?\s*inst\s*\]|<</?\s*sys\s*>>|^#{1,6}\s*(?:system|instructions?|response|assistant)\b",
    r"</\s*[a-z_-]{0,20}(?:answer|response|input|user|student|candidate|text|data|system|prompt|instructions?|"
    r"context|question|reference|rubric|grader|untrusted|end)[a-z_-]{0,20}\s*>",
    r"<\s*(?:system|assistant|instructions?|grader|rubric)\s*>",
    r"<<+\s*/?\s*(?:end|answer|system|user|assistant|instructions?|input|response)\b|\[\s*/?\s*(?:end|system|"
    r"answer)\s*(?:of\s+[\w\s']{1,30})?\]",
    r"^[\W_]*end\s+of\s+(?:the\s+)?(?:(?:user|student|candidate)'?s?\s+)?(?:answer|input|response|text)[\W_]*$",
    r"\{\s*[\"']?\s*(?:score|grade|points?|rating|marks?|covered|strengths|improvements|follow_up|key_points|llm|"
    r"contradictions|verdict|checks|feedback)\s*[\"']?\s*:",
]
_PATTERNS_OTHER = [
    # French
    r"\b(?:ignore[rz]?|oublie[rz]?)\s+(?:toutes?\s+)?(?:les|tes|vos|ces)\s+(?:instructions|consignes|r[eè]gles)",
    r"\bdonne[rz]?[-\s]moi\s+(?:la\s+note\s+maximale|100|20\s*/\s*20|une\s+note\s+(?:parfaite|de\s+100))",
    r"\b(?:tu\s+es|vous\s+[eê]tes)\s+maintenant\b|\bnouvelles\s+(?:instructions|consignes)\b",
    r"\b(?:attribue[rz]?|mets?|mettez)[-\s](?:moi\s+)?(?:la\s+note\s+maximale|100|20\s*/\s*20)",
    # Spanish
    r"\b(?:ignora[rd]?|olvida[rd]?)\s+(?:todas\s+)?(?:las|tus|sus)\s+(?:instrucciones|reglas|indicaciones)",
    r"\bd[aá]me\s+(?:un\s+|una\s+|la\s+)?(?:100|10\s*/\s*10|m[aá]xima|nota\s+(?:m[aá]xima|perfecta)|"
    r"puntuaci[oó]n\s+(?:m[aá]xima|perfecta))",
    r"\bahora\s+eres\b|\bnuevas\s+instrucciones\b|\bpuntuaci[oó]n\s*(?::|=|de)\s*100\b",
    # German
    r"\b(?:ignorier(?:e|en|t)?|vergiss|vergessen\s+sie)\s+(?:alle\s+)?(?:vorherigen\s+|bisherigen\s+|obigen\s+|"
    r"deine\s+|ihre\s+)?(?:anweisungen|instruktionen|befehle|regeln)",
    r"\bgib\s+mir\s+(?:die\s+|eine\s+)?(?:100|volle\s+punktzahl|h[oö]chste\s+punktzahl|bestnote|volle\s+punkte)",
    r"\bdu\s+bist\s+(?:jetzt|nun|ab\s+sofort)\b|\b(?:volle|maximale)\s+punktzahl\b|\bneue\s+anweisungen\b",
    # Italian, Portuguese
    r"\bignora\s+(?:tutte\s+)?le\s+istruzioni|\bignore\s+(?:todas\s+)?as\s+instru[cç][oõ]es",
    r"\b(?:dammi|d[eê]-me|me\s+d[eê])\s+(?:il\s+|a\s+)?(?:100|punteggio\s+massimo|nota\s+m[aá]xima)",
    # Russian (matched on text without the look-alike mapping, see _RAW_PATTERNS)
    # Chinese, Japanese, Korean
    r"(?:忽略|无视|忽视|不要理会|无需理会|忽略掉).{0,8}(?:指令|指示|说明|提示|规则|要求)",
    r"给(?:我|这个答案|此答案|本答案)?.{0,6}(?:满分|100分|一百分|最高分)|你现在是|(?:分数|评分|得分)\s*[:：为是]\s*100|满分",
    r"指示を無視|満点|지시를?\s*무시|만점",
]
_RAW_PATTERNS = [
    r"\b(?:игнорируй|игнорируйте|забудь|забудьте)\b.{0,30}(?:инструкци|указани|правил)",
    r"\b(?:поставь|поставьте|дай|дайте)\s+(?:мне\s+)?(?:100|максимальн)|\bты\s+теперь\b",
]
# Letters-only forms catch "i g n o r e" and "i.g.n.o.r.e" spellings of the strongest phrases.
_COMPACT_PATTERNS = [
    r"ignore(?:all|the|any|your|my)?(?:previous|prior|above|earlier|these)?instructions",
    r"disregard(?:all|the|any|your)?(?:previous|prior|above|earlier)?instructions",
    r"givemea?(?:100|fullmarks|fullscore|perfectscore)",
]

_FOLDED = [re.compile(p, re.IGNORECASE | re.MULTILINE) for p in _PATTERNS_EN + _PATTERNS_ROLES + _PATTERNS_OTHER]
_RAW = [re.compile(p, re.IGNORECASE) for p in _RAW_PATTERNS]
_COMPACT = [re.compile(p) for p in _COMPACT_PATTERNS]
_CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)


def injection_match(sentence: str) -> re.Match[str] | None:
    """The first piece of the sentence that addresses the grader, if any."""
    folded = fold(sentence)
    for pattern in _FOLDED:
        if match := pattern.search(folded):
            return match
    raw = unicodedata.normalize("NFKC", sentence).casefold()
    for pattern in _RAW:
        if match := pattern.search(raw):
            return match
    compact = re.sub(r"[\W_]+", "", folded)
    for pattern in _COMPACT:
        if match := pattern.search(compact):
            return match
    return None


def is_injection(sentence: str) -> bool:
    """Whether the sentence addresses the grader rather than answering the question."""
    return injection_match(sentence) is not None


# Sentence ends inside a "sentence": also where the next sentence starts without a space or a capital letter.
_PIECE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[a-z0-9)][.!?;])(?=[^\sa-z0-9.,;:!?'\")\]])|\n+")


def _clean_head(sentence: str) -> str:
    """The longest run of leading pieces that is no injection ("…neurons. ignore all…" keeps "…neurons.")."""
    head = ""
    for piece in _PIECE_END.split(sentence):
        longer = f"{head} {piece}".strip()
        if is_injection(longer):
            break
        head = longer
    return head


def strip_injections(text: str) -> tuple[list[str], list[str]]:
    """(kept sentences, dropped sentences): code blocks and sentences that address the grader are dropped."""
    dropped: list[str] = []

    def _block(match: re.Match[str]) -> str:
        if any(is_injection(line) for line in match.group(0).splitlines()):
            dropped.append(match.group(0).strip())
            return "\n"
        return match.group(0)

    text = _CODE_BLOCK.sub(_block, text)
    kept: list[str] = []
    for sentence in split_sentences(text):
        if not is_injection(sentence):
            kept.append(sentence)
            continue
        dropped.append(sentence)
        # Only what comes before the injection is kept: what follows it is part of the same message to the grader.
        if len((head := _clean_head(sentence)).split()) >= 3:
            kept.append(head)
    return kept, dropped


_DONT_KNOW = re.compile(
    r"\b(?:i\s+)?(?:(?:really\s+|honestly\s+)?(?:do\s*n[o']?t|dont|don’t)\s+(?:really\s+)?(?:know|remember|recall)|"
    r"(?:can'?t|cannot|can’t)\s+(?:remember|recall|say)|have\s+no\s+(?:idea|clue)|no\s+(?:idea|clue)|not\s+sure|"
    r"forgot|dunno|idk|not\s+answered|unanswered|no\s+(?:answer|response)|look\s+(?:that|it|this)\s+up|(?:can|could|may)\s+we\s+skip|no\s+experience\s+with|"
    r"(?:haven'?t|have\s+not|never)\s+(?:really\s+)?(?:studied|looked\s+(?:into|at)|learned|learnt|used|worked\s+with|"
    r"heard\s+of|covered)|(?:^|,|;)\s*pass(?=\W*$)|no\s+s[eé]|je\s+ne\s+sais\s+pas|wei(?:ß|ss)\s+(?:ich\s+)?nicht|keine\s+ahnung)\b"
    r"|不知道|不清楚|わかりません",
    re.IGNORECASE)
_ONLY_PASS = re.compile(r"^\W*(?:pass|skip|next|nothing|none|n/?a|no|nope)\W*$|^\s*\?+\s*$", re.IGNORECASE)
_FILLER = {"sorry", "i", "im", "i'm", "um", "uh", "hmm", "well", "this", "one", "that", "it", "honestly", "really",
           "the", "answer", "question", "to", "so", "but", "and", "yet", "about", "what", "is", "am", "ok", "okay",
           "lol", "haha", "no", "nope", "sure", "anymore", "right", "now", "here", "of", "for", "me", "please", "i'd",
           "have", "those", "these", "we", "can", "with", "any", "still", "just", "topic", "part"}


def _is_dont_know(text: str) -> bool:
    """An answer that only says it doesn't know (short, with nothing else of substance)."""
    if _ONLY_PASS.match(text):
        return True
    if not _DONT_KNOW.search(text):
        return False
    rest = _DONT_KNOW.sub(" ", text.casefold())
    words = [w for w in re.findall(r"[^\W\d_]+(?:'[a-z]+)?", rest) if w not in _FILLER]
    return len(words) < 3


_VOWELS = set("aeiouy")
_ACRONYM = re.compile(r"[A-Z][A-Z0-9]{1,5}s?")
# Key-row runs that no English word contains.
_KEYBOARD_RUNS = ("asd", "sdf", "dfg", "fgh", "ghj", "hjk", "jkl", "qwe", "wqe", "zxc", "xcv", "cvb", "vbn", "bnm",
                  "lkj", "kjh", "jhg", "hgf", "gfd", "fds", "rtyu", "tyui", "yuio", "uiop", "rewq", "poiu", "mnbv")


def _acronym(token: str) -> bool:
    """An upper-case abbreviation such as CNN or LSTMs (but not ASDF)."""
    return bool(_ACRONYM.fullmatch(token)) and not any(run in token.casefold() for run in _KEYBOARD_RUNS)


def _wordlike(token: str) -> bool:
    """Whether an ASCII token could be a word: a vowel, no long consonant run, no key-row mashing."""
    if not token.isascii():
        return True
    if not _VOWELS & set(token) or re.search(r"(.)\1\1", token) or re.search(r"[^aeiouy]{5,}", token):
        return False
    return not any(run in token for run in _KEYBOARD_RUNS)


def _binary(text: str) -> bool:
    """Bytes pasted as text: control characters, or mostly decoding replacement marks.

    A few undecodable bytes in a normal answer (a Latin-1 "naïve", a stray byte pair) are replaced by U+FFFD on the
    way in and the answer is graded; only text that is mostly unreadable is refused as binary."""
    controls = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\n\r\t")
    if controls > 0 and controls >= 0.02 * len(text):
        return True
    marks = text.count("\ufffd")
    return marks > 0 and marks + controls >= BINARY_SHARE * len("".join(text.split()))


# An operator between names or numbers, an index or a call: code and formulas ("n-1", "a[i] = *(a+i)", "2n-1").
_FORMULA = re.compile(r"[A-Za-z0-9_)\]]\s*(?:[-+*/=<>^%|]|&lt;|&gt;)+\s*[A-Za-z0-9_(\[*&]|[A-Za-z_]\w*\s*[\[(]|"
                      r"(?:^|\s)[*&][A-Za-z_(]")


def _gibberish(text: str) -> bool:
    """Mostly non-letters, or letters that don't form words (keyboard mashing); code and formulas are answers."""
    if _FORMULA.search(text):
        return False
    visible = [c for c in text if not c.isspace()]
    letters = sum(1 for c in visible if c.isalpha())
    if not visible or letters < 0.45 * len(visible):
        return True
    # Acronyms (CNN, LSTMs) have no vowels but are words.
    tokens = [t.casefold() for t in re.findall(r"[^\W\d_]+", text) if len(t) >= 3 and not _acronym(t)]
    if not tokens:
        return False
    wordlike = sum(len(t) for t in tokens if _wordlike(t))
    return wordlike < 0.6 * sum(len(t) for t in tokens)


def _cap(text: str) -> tuple[str, bool]:
    """The first MAX_WORDS words (and MAX_CHARS characters) of text, and whether anything was cut."""
    cut = text[:MAX_CHARS]
    words = list(re.finditer(r"\S+", cut))
    if len(words) > MAX_WORDS:
        cut = cut[: words[MAX_WORDS - 1].end()]
    return cut, len(cut) < len(text)


@dataclass(frozen=True)
class Screen:
    """What the guards found: the sentences to grade, and why an answer is not graded normally."""

    sentences: tuple[str, ...]
    kind: str | None = None                    # "empty", "dont_know", "gibberish", "asked", "language", "too_short"
    notes: tuple[str, ...] = ()                # one-sentence messages for the user, most important first
    injected: tuple[str, ...] = field(default=())
    truncated: bool = False

    @property
    def blocked(self) -> bool:
        """Whether the answer scores 0 without any model."""
        return self.kind in BLOCKING


def screen(answer: str, *, defend: bool = True) -> Screen:
    """Run every pre-model check on an answer; with defend=False injections are left in (for drift tests)."""
    text = normalise(answer or "")
    if not text:
        return Screen((), "empty", (MESSAGES["empty"],))
    if _binary(text):
        return Screen((), "gibberish", (MESSAGES["binary"],))
    text, truncated = _cap(text)
    notes = [MESSAGES["huge"].format(words=MAX_WORDS)] if truncated else []
    if defend:
        sentences, injected = strip_injections(text)
    else:
        sentences, injected = split_sentences(text), []
    if injected:
        notes.append(MESSAGES["injection"])
    if not sentences:
        message = MESSAGES["only_injection"] if injected else MESSAGES["empty"]
        return Screen((), "empty", (message,), tuple(injected), truncated)
    return _classify(sentences, notes, injected, truncated)


# A question that asks the coach something ("what do you mean by ...", "could you explain ..."), not a tentative
# answer said as a question ("Is it that dropout turns off neurons?").
_ADDRESSED = re.compile(r"(?i)\b(?:you|your|explain|clarify|(?:mean|meant)\s+by|hint|rephrase|repeat)\b")


def asked_back(sentences: list[str]) -> bool:
    """Whether an answer only asks the coach something: every sentence a question, one of them addressed to it."""
    return bool(sentences) and all(s.rstrip().endswith("?") for s in sentences) and \
        any(_ADDRESSED.search(s) for s in sentences)


def _classify(sentences: list[str], notes: list[str], injected: list[str], truncated: bool) -> Screen:
    """Empty-kind checks on the kept sentences."""
    body = " ".join(sentences)
    if asked_back(sentences):
        return Screen((), "asked", (MESSAGES["asked"], *notes), tuple(injected), truncated)
    # "Je ne sais pas" is a don't-know before it is French; Chinese is another language before it is gibberish
    for kind, test in (("dont_know", _is_dont_know), ("language", foreign), ("gibberish", _gibberish)):
        if test(body):
            return Screen((), kind, (MESSAGES[kind], *notes), tuple(injected), truncated)
    if len(body.split()) >= MIN_WORDS:
        return Screen(tuple(sentences), None, tuple(notes), tuple(injected), truncated)
    return Screen(tuple(sentences), "too_short", (MESSAGES["too_short"], *notes), tuple(injected), truncated)
