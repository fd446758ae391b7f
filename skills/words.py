"""How a command's words divide when a subject may be several words.

What a command is about (a mobile number written `+91 98765 43210`, a customer's name, a
device selector `site:MUM-AND1 role:core`) may be several words, unquoted. Where one more
argument follows it, that argument is the last word (the title of /ticket open, the show
command of /device run, the backup id of /config diff), unless it was named (`title=...`),
as a form's answers are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def last_word_is(
    data: Any,
    words: str,
    last: str,
    *,
    when: Callable[[str], bool] = lambda _word: True,
    unless: Callable[[str], bool] = lambda _all: False,
) -> Any:
    """Argument data (before validation) with the last of `words` moved to `last`, when
    `last` was not named, at least one word is left for `words`, `when` says the last word
    fits (`str.isdigit` for a backup id) and `unless` does not say that all the words are
    the subject (`+91 98765 43210` is a number whose title is missing, not a title 43210)."""
    if not isinstance(data, dict) or data.get(last) is not None:
        return data
    typed = data.get(words)
    if not isinstance(typed, list) or len(typed) < 2 or not when(typed[-1]):
        return data
    if unless(" ".join(typed)):
        return data
    return {**data, words: typed[:-1], last: typed[-1]}
