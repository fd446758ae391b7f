"""The article a message's noun takes, whatever the data puts in it."""

from __future__ import annotations

import pytest

from domain.words import a


@pytest.mark.parametrize(
    ("phrase", "said"),
    [
        ("enterprise customer", "an enterprise customer"),
        ("consumer offering", "a consumer offering"),
        ("order reference", "an order reference"),
        ("alarm reference", "an alarm reference"),
        ("invoice", "an invoice"),
        ("billing dispute", "a billing dispute"),
        ("unit", "a unit"),
        ("one-off fee", "a one-off fee"),
        ("hour", "an hour"),
        ("8-digit number", "an 8-digit number"),
        ("11-digit number", "an 11-digit number"),
        ("18-digit number", "an 18-digit number"),
        ("25-digit number", "a 25-digit number"),
        ("80-digit number", "an 80-digit number"),
        ("110-digit number", "a 110-digit number"),
    ],
)
def test_the_article_is_the_one_people_say(phrase: str, said: str) -> None:
    assert a(phrase) == said
