"""Whether an answer is written in another language than the deck's English: it is not graded, and the user is told.

A French answer about GANs scored 7/100 with every point marked missing (a new user's trial): the rubric compares
English words, so the score said nothing about what the user knows. Told apart by function words, which every
sentence of a language has and a technical answer in English never lacks, and by the script of the letters.
"""

from __future__ import annotations

import re

_ENGLISH_WORDS = ("the a an is are was were be been of to and in it its that this these those for on with as by from "
                  "at or not when which so can will during if but what how then than more each they we you into only "
                  "all their")
_ENGLISH = frozenset(_ENGLISH_WORDS.split())
# Function words of the languages a user of an English deck most often falls back to, none of them an English word.
_OTHER_WORDS = ("le la les des du une est et dans pour que qui pas avec sur sont cette aux ces leur "   # French
                "el los las y por para una del lo su sus muy pero como entre cuando "                   # Spanish
                "der das und ist nicht mit ein eine dem zu auf sich wird werden oder auch "             # German
                "il di che della delle sono gli nella questo "                                          # Italian
                "os não é um uma com ao são pelo pela")                                                 # Portuguese
_OTHER = frozenset(_OTHER_WORDS.split())
MIN_WORDS = 6


def foreign(text: str) -> bool:
    """Whether a text of some length is in another language: mostly letters outside the Latin script, or many more
    function words of another language than of English."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 12 and sum(not ("a" <= c.casefold() <= "z" or "À" <= c <= "ɏ") for c in letters) \
            > 0.5 * len(letters):
        return True
    words = re.findall(r"[^\W\d_]+", text.casefold())
    if len(words) < MIN_WORDS:
        return False
    other = sum(w in _OTHER for w in words)
    return other >= 3 and other > 2 * sum(w in _ENGLISH for w in words)
