"""The lookup grammar without a database: how typed text is classified, how numbers are
normalised, and how device selectors parse and what they mean."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DomainError, NotFound
from domain.inventory.choices import DeviceRole, DeviceStatus, Platform
from domain.lookup import (
    DeviceSelector,
    SubjectKind,
    classify,
    glob_like,
    normalise_msisdn,
    parse_selector,
    selector_words,
)

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
        ("TN/FTTH/O000081", SubjectKind.CIRCUIT, "TN/FTTH/O000081"),  # an order's line
        ("tn/ftth/o000081", SubjectKind.CIRCUIT, "TN/FTTH/O000081"),
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


# -- device selectors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A device as a selector sees it."""

    hostname: str
    site: str
    role: DeviceRole = DeviceRole.ACCESS
    platform: Platform = Platform.CISCO_IOS
    status: DeviceStatus = DeviceStatus.ACTIVE
    vendor: str = "Cisco"
    lab: bool = False


FLEET = [
    Box("r1-mum", "MUM-AND1", lab=True),
    Box("r10-mum", "MUM-AND1"),
    Box("cr1-mum", "MUM-AND1", DeviceRole.CORE, Platform.CISCO_XR),
    Box("r2-del", "DEL-CP1", platform=Platform.JUNIPER_JUNOS, vendor="Juniper", lab=True),
    Box("cr2-del", "DEL-CP1", DeviceRole.CORE, Platform.JUNIPER_JUNOS, vendor="Juniper"),
    Box("r3-ka", "KA-BLR1", platform=Platform.ARISTA_EOS, vendor="Arista"),
    Box("r4-ka", "KA-BLR1", status=DeviceStatus.OFFLINE),
]


def chosen(words: list[str]) -> list[str]:
    selector = parse_selector(words)
    return [b.hostname for b in FLEET if selector.matches(b, b.site)]


@pytest.mark.parametrize(
    ("words", "hosts"),
    [
        (["site:MUM-AND1"], ["r1-mum", "r10-mum", "cr1-mum"]),
        (["site:mum-and1"], ["r1-mum", "r10-mum", "cr1-mum"]),
        (["role:core"], ["cr1-mum", "cr2-del"]),
        (["platform:juniper_junos"], ["r2-del", "cr2-del"]),
        (["status:offline"], ["r4-ka"]),
        (["vendor:ARISTA"], ["r3-ka"]),
        (["lab"], ["r1-mum", "r2-del"]),
        # Different keys AND together...
        (["site:MUM-AND1", "role:core"], ["cr1-mum"]),
        (["lab", "site:DEL-CP1"], ["r2-del"]),
        (["role:access", "vendor:cisco", "status:active"], ["r1-mum", "r10-mum"]),
        # ... the same key ORs.
        (["site:MUM-AND1", "site:DEL-CP1"], ["r1-mum", "r10-mum", "cr1-mum", "r2-del", "cr2-del"]),
        (["role:core", "role:access", "site:KA-BLR1"], ["r3-ka", "r4-ka"]),
        # A bare word is one exact hostname; hostnames and globs are one key.
        (["r1-mum"], ["r1-mum"]),
        (["R1-MUM"], ["r1-mum"]),
        (["r1-mum", "r3-ka"], ["r1-mum", "r3-ka"]),
        (["r1-*"], ["r1-mum"]),
        (["r1*"], ["r1-mum", "r10-mum"]),
        (["*-mum"], ["r1-mum", "r10-mum", "cr1-mum"]),
        (["r?-ka"], ["r3-ka", "r4-ka"]),
        (["cr*", "r3-ka"], ["cr1-mum", "cr2-del", "r3-ka"]),
        (["*", "role:core"], ["cr1-mum", "cr2-del"]),
        (["r1-*", "lab"], ["r1-mum"]),
    ],
)
def test_selector_semantics(words: list[str], hosts: list[str]) -> None:
    assert chosen(words) == hosts


def test_a_bare_word_is_never_a_substring() -> None:
    assert chosen(["r1"]) == []
    assert parse_selector(["r1"]).hostnames == {"r1"}


@pytest.mark.parametrize(
    ("words", "message", "hint"),
    [
        ([], "name the devices", "hostnames, globs (r1-*), site:CODE"),
        (["  "], "name the devices", "hostnames, globs (r1-*)"),
        (["colour:red"], "unknown selector colour:", "selectors: hostnames"),
        (["sites:MUM-AND1"], "unknown selector sites:", "did you mean site:?"),
        (["role:wizard"], "no role 'wizard'", "roles: core, aggregation, access, bng, pe"),
        (["role:acess"], "no role 'acess'", "did you mean access? roles: core"),
        (["platform:foo"], "no platform 'foo'", "platforms: cisco_ios, cisco_xr"),
        (["platform:ios"], "no platform 'ios'", "platforms: cisco_ios"),
        (["status:up"], "no status 'up'", "states: active, planned"),
        (["status:actve"], "no status 'actve'", "did you mean active?"),
        (["site:"], "site: needs a value", "site codes look like MUM-AND1"),
        (["role:"], "role: needs a value", "roles: core"),
        (["vendor:"], "vendor: needs a value", "e.g. vendor:cisco"),
        (["r1\x00"], "'r1\\x00' is not a hostname or selector", "hostnames, globs"),
    ],
)
def test_selector_errors_are_one_line_with_a_hint(
    words: list[str], message: str, hint: str
) -> None:
    with pytest.raises(DomainError) as err:
        parse_selector(words)
    assert str(err.value) == message
    assert err.value.hint.startswith(hint), err.value.hint


def test_a_quoted_selector_is_its_words() -> None:
    """`/config plan ntp "site:MUM-AND1 role:core"` targets what the unquoted words do."""
    quoted = parse_selector(["site:MUM-AND1 role:core", "r1-* r2-*"])
    assert quoted == parse_selector(["site:MUM-AND1", "role:core", "r1-*", "r2-*"])
    assert selector_words(["r1-mum  r2-mum", "lab"]) == ["r1-mum", "r2-mum", "lab"]
    with pytest.raises(DomainError) as err:
        parse_selector(["platform:foo role:core"])
    assert (str(err.value), err.value.hint) == (
        "no platform 'foo'",
        "platforms: " + ", ".join(p.value for p in Platform),
    )


def test_in_a_search_a_quoted_phrase_stays_a_phrase_unless_it_holds_a_selector() -> None:
    assert parse_selector(["Andheri Exchange"], search=True).words == ("andheri exchange",)
    found = parse_selector(["andheri role:core"], search=True)
    assert found.words == ("andheri",) and found.roles == {DeviceRole.CORE}
    assert parse_selector(["r1-* mum"], search=True).globs == {"r1-*"}
    with pytest.raises(DomainError, match="no role 'wizard'"):
        parse_selector(["andheri role:wizard"], search=True)


@pytest.mark.parametrize(
    ("word", "key", "choices"),
    [
        ("platform", "platforms", Platform),
        ("role", "roles", DeviceRole),
        ("status", "states", DeviceStatus),
    ],
)
def test_every_unknown_value_names_itself_and_lists_every_valid_one(
    word: str, key: str, choices: type[Platform] | type[DeviceRole] | type[DeviceStatus]
) -> None:
    with pytest.raises(DomainError) as err:
        parse_selector([f"{word}:Zzzz"])
    assert str(err.value) == f"no {word} 'zzzz'"
    assert err.value.hint == f"{key}: " + ", ".join(c.value for c in choices)


def test_search_takes_plain_words_as_search_words_and_may_be_empty() -> None:
    found = parse_selector(["mum", "role:core", "r1-*", "lab"], search=True)
    assert found.words == ("mum",) and found.hostnames == frozenset()
    assert found.globs == {"r1-*"} and found.lab and found.roles == {DeviceRole.CORE}
    assert parse_selector([], search=True).empty


def test_a_selector_says_itself_as_typed_normalised() -> None:
    assert str(parse_selector(["site:mum-and1", "role:ACCESS"])) == "site:MUM-AND1 role:access"
    assert str(parse_selector(["R1-MUM", "r1-mum", "LAB"])) == "r1-mum lab"


def test_globs_become_like_patterns_that_escape_like_wildcards() -> None:
    assert glob_like("r1-*") == "r1-%"
    assert glob_like("r?_x%") == "r_\\_x\\%"


# Words drawn from every kind of term, so random selectors mix keys, values and globs.
TERMS = [
    "site:MUM-AND1",
    "site:DEL-CP1",
    "site:KA-BLR1",
    "role:core",
    "role:access",
    "platform:cisco_ios",
    "platform:juniper_junos",
    "status:active",
    "status:offline",
    "vendor:cisco",
    "vendor:juniper",
    "lab",
    "r1-mum",
    "r3-ka",
    "r1*",
    "*-del",
    "r?-ka",
]
selectors = st.lists(st.sampled_from(TERMS), min_size=1, max_size=6)


@given(words=selectors)
def test_a_selector_reads_back_as_itself_in_any_order(words: list[str]) -> None:
    selector = parse_selector(words)
    assert parse_selector(str(selector).split()) == selector
    assert parse_selector(list(reversed(words))) == selector
    assert parse_selector(words + words) == selector


def _key(term: str) -> str:
    if ":" in term:
        return term.partition(":")[0]
    return "lab" if term == "lab" else "hostname"


@given(words=selectors, extra=st.sampled_from(TERMS))
def test_another_value_of_a_used_key_widens_and_a_new_key_narrows(
    words: list[str], extra: str
) -> None:
    before = set(chosen(words))
    after = set(chosen([*words, extra]))
    if _key(extra) in {_key(w) for w in words}:
        assert before <= after  # the same key ORs
    else:
        assert after <= before  # a different key ANDs
        alone = set(chosen([extra]))
        assert after == before & alone


def test_an_empty_selector_is_every_device_only_for_search() -> None:
    assert DeviceSelector().empty
    assert all(DeviceSelector().matches(b, b.site) for b in FLEET)


@pytest.mark.parametrize("typed", ["INV-202611-99999999999999999999", "INV-2026", "inv-202611-"])
def test_an_invoice_number_of_the_wrong_shape_is_said_so(typed: str) -> None:
    """`/bill INV-202611-99999999999999999999` answered "no customer matches"."""
    from domain.errors import NotFound

    with pytest.raises(NotFound, match="is not an invoice number") as caught:
        classify(typed)
    assert caught.value.hint == "invoice numbers look like INV-202610-0000123"
