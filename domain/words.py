"""Words for people: the indefinite article a message's noun takes.

Messages built from data ("a {segment} customer") get the article wrong for some values
("a enterprise customer", "a order reference", "a 8-digit number"); `a()` picks it.
"""

from __future__ import annotations

import re

#: Words that start with a vowel letter but sound a consonant ("a unit", "a one-off fee").
_SOUNDS_LIKE_YOU = re.compile(r"^(?:uni|use|usu|uti|ure|eu|one\b|one-|once)", re.IGNORECASE)
#: Words that start with a consonant letter but sound a vowel ("an hour").
_SILENT_H = re.compile(r"^(?:hour|honest|honou?r|heir)", re.IGNORECASE)


def article(word: str) -> str:
    """ "a" or "an", as the word is said: an enterprise, a unit, an 8-digit, an 11-digit."""
    digits = re.match(r"[0-9]+", word)
    if digits:  # said as the number: eight, eleven, eighteen, eighty... take "an"
        d = digits.group(0)
        return "an" if d[0] == "8" or (len(d) % 3 == 2 and d[:2] in ("11", "18")) else "a"
    if _SILENT_H.match(word):
        return "an"
    if word[:1].lower() in ("a", "e", "i", "o", "u") and not _SOUNDS_LIKE_YOU.match(word):
        return "an"
    return "a"


def a(phrase: str) -> str:
    """The phrase with its article: a("enterprise customer") is "an enterprise customer"."""
    return f"{article(phrase)} {phrase}"
