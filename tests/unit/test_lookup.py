"""The lookup grammar without a database: how typed text is classified and how numbers
are normalised."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError, NotFound
from domain.lookup import SubjectKind, classify, normalise_msisdn

# -- subjects ----------------------------------------------------------------------------------

SPELLINGS = [
    "919876543210",
    "+919876543210",
    "+91 98765 43210",
    "+91-98765-43210",
    "(+91) 98765 43210",
    "+91 (0) 98765 43210",
    "0091 98765 43210",
    "91 98765 43210",
    "098765 43210",
    "09876543210",
    "098765-43210",
    "98765 43210",
    "98765-43210",
    "9876543210",
    " 9876543210 ",
]


@pytest.mark.parametrize("typed", SPELLINGS)
def test_every_common_way_of_writing_a_mobile_number_is_the_same_number(typed: str) -> None:
    typed_as = classify(typed)
    assert (typed_as.kind, typed_as.key) == (SubjectKind.MOBILE, "919876543210")
    assert normalise_msisdn(typed) == "919876543210"


national = st.from_regex(r"[6-9][0-9]{9}", fullmatch=True)
prefix = st.sampled_from(["", "0", "91", "+91", "0091", "(+91)", "+91 (0)", "+91-"])
separator = st.sampled_from(["", " ", "-", " - "])


@given(number=national, before=prefix, cuts=st.lists(st.integers(1, 9), max_size=3), sep=separator)
def test_any_grouping_and_prefix_of_a_number_normalises_to_91_and_ten_digits(
    number: str, before: str, cuts: list[int], sep: str
) -> None:
    parts, last = [], 0
    for cut in sorted(set(cuts)):
        parts.append(number[last:cut])
        last = cut
    parts.append(number[last:])
    typed = f"{before} {sep.join(parts)}".strip()
    assert normalise_msisdn(typed) == "91" + number
    assert classify(typed).kind == SubjectKind.MOBILE


@pytest.mark.parametrize(
    "typed", ["12", "98765", "987654321012345678", "+12", "0 98765 432", "+91 98765 4321 0 1"]
)
def test_a_number_of_the_wrong_length_is_refused_with_how_to_write_it(typed: str) -> None:
    with pytest.raises(NotFound, match="is not a mobile number") as err:
        classify(typed)
    assert "10 digits" in err.value.hint


def test_foreign_numbers_keep_their_country_code() -> None:
    assert normalise_msisdn("+44 7700 900123") == "447700900123"
    assert normalise_msisdn("0044 7700 900123") == "447700900123"


@pytest.mark.parametrize(
    ("typed", "kind", "key"),
    [
        ("BA100000001", SubjectKind.ACCOUNT, "BA100000001"),
        ("ba100000001", SubjectKind.ACCOUNT, "BA100000001"),
        ("BA 100000001", SubjectKind.ACCOUNT, "BA100000001"),
        ("BA999", SubjectKind.ACCOUNT, "BA999"),
        ("INV-202610-0000002", SubjectKind.INVOICE, "INV-202610-0000002"),
        ("inv-202610-2", SubjectKind.INVOICE, "INV-202610-0000002"),
        ("MUM/FTTH/0000002", SubjectKind.CIRCUIT, "MUM/FTTH/0000002"),
        ("mum/ftth/0000002", SubjectKind.CIRCUIT, "MUM/FTTH/0000002"),
        ("C-12", SubjectKind.CUSTOMER, "12"),
        ("c12", SubjectKind.CUSTOMER, "12"),
        ("Priya  Nair", SubjectKind.NAME, "Priya Nair"),
        ("r1-mum", SubjectKind.NAME, "r1-mum"),
        ("98765'; --", SubjectKind.NAME, "98765'; --"),
    ],
)
def test_text_is_classified_by_its_form(typed: str, kind: SubjectKind, key: str) -> None:
    typed_as = classify(typed)
    assert (typed_as.kind, typed_as.key) == (kind, key)


def test_empty_and_unprintable_text_is_refused() -> None:
    with pytest.raises(DomainError, match="say who or what"):
        classify("   ")
    with pytest.raises(NotFound, match="characters no name or number has"):
        classify("priya\x00nair")
