"""Config templates render only validated values: nothing can smuggle in a CLI line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automation.intents import INTENTS, render, secret_fields, shown_params, validate
from domain.audit.services import redact
from domain.errors import DomainError
from domain.inventory.choices import Platform
from domain.secrets import MASK, is_secret_name, mask_config


def test_ios_and_junos_render_the_same_intent() -> None:
    assert render("ntp", Platform.CISCO_IOS, {"servers": "10.0.0.1, 10.0.0.2"}) == [
        "ntp server 10.0.0.1",
        "ntp server 10.0.0.2",
    ]
    assert render("ntp", Platform.JUNIPER_JUNOS, {"servers": ["10.0.0.1"]}) == [
        "set system ntp server 10.0.0.1"
    ]
    assert render(
        "customer_access_port",
        Platform.CISCO_IOS,
        {"interface": "GigabitEthernet0/0/5", "vlan": "120", "description": "CUST Acme ILL-100"},
    ) == [
        "interface GigabitEthernet0/0/5",
        " description CUST Acme ILL-100",
        " switchport mode access",
        " switchport access vlan 120",
        " no shutdown",
    ]
    assert render(
        "acl_entry",
        Platform.ARISTA_EOS,
        {
            "acl": "EDGE-IN",
            "sequence": "10",
            "action": "deny",
            "protocol": "tcp",
            "source": "203.0.113.0/24",
            "destination": "10.0.0.0/8",
        },
    ) == [
        "ip access-list extended EDGE-IN",
        " 10 deny tcp 203.0.113.0 0.0.0.255 10.0.0.0 0.255.255.255",
    ]


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        (
            "vlan",
            {"vlan": "5000", "name": "CUST"},
            "vlan: Input should be less than or equal to 4094 (got '5000')",
        ),
        (
            "ntp",
            {"servers": "10.0.0.300"},
            "servers.0: Input is not a valid IPv4 address (got '10.0.0.300')",
        ),
        (
            "banner",
            {"text": "hi\nusername evil privilege 15"},
            "text: must be one line of printable text (no newlines or control keys) "
            "(got 'hi\\nusername evil privilege 15')",
        ),
        (
            "interface_description",
            {"interface": "Gi0/1\nshutdown", "description": "x"},
            "interface: must look like GigabitEthernet0/0/1 (got 'Gi0/1\\nshutdown')",
        ),
        (
            "acl_entry",
            {
                "acl": "A",
                "sequence": 1,
                "action": "permit",
                "source": "10.0.0.1/8",
                "destination": "0.0.0.0/0",
            },
            "source: Input is not a valid IPv4 network (got '10.0.0.1/8')",
        ),
        ("vlan", {"name": "X"}, "template vlan needs vlan="),
        ("vlan", {"vlan": 10, "name": "X", "colour": "red"}, "template vlan has no value colour"),
        ("firewall", {}, "no template 'firewall'"),
    ],
)
def test_bad_values_are_refused_with_one_line(name: str, params: dict, message: str) -> None:
    with pytest.raises(DomainError) as exc:
        render(name, Platform.CISCO_IOS, params)
    assert str(exc.value) == message
    assert "\n" not in str(exc.value)
    assert exc.value.hint


@given(st.text(min_size=1, max_size=300))
def test_no_text_value_can_add_a_line(text: str) -> None:
    for name, field in (("banner", "text"), ("interface_description", "description")):
        params = (
            {field: text, "interface": "GigabitEthernet0/0/1"}
            if field == "description"
            else {field: text}
        )
        try:
            lines = render(name, Platform.CISCO_IOS, params)
        except DomainError:
            continue
        expected = 1 if name == "banner" else 2
        assert len(lines) == expected


def test_every_intent_has_a_template_for_each_family() -> None:
    from automation.intents import TEMPLATES

    for name in INTENTS:
        for fam in ("ios", "junos"):
            assert (TEMPLATES / fam / f"{name}.j2").exists()


# -- secrets -------------------------------------------------------------------------------

#: A valid set of values for each template that has a secret (the sweep below needs one).
WITH_SECRETS: dict[str, dict[str, str]] = {
    "snmp": {"community": "Comm-2024_Mum", "access": "rw", "location": "Andheri"},
}

#: Secret values that every secret field refuses (bad shape, a CLI line, too long).
BAD_SECRETS = ["bad!", "tiny", "has spaces in it", "Comm2024x\nusername evil", "x" * 80]


def _secret_fields() -> list[tuple[str, str]]:
    return [(name, f) for name in INTENTS for f in sorted(secret_fields(name))]


def test_the_snmp_community_is_a_secret() -> None:
    assert ("snmp", "community") in _secret_fields()


def test_every_template_with_a_secret_has_values_to_try() -> None:
    assert {name for name, _ in _secret_fields()} == set(WITH_SECRETS)


@pytest.mark.parametrize(("name", "field"), _secret_fields())
def test_a_secret_is_masked_wherever_it_is_shown(name: str, field: str) -> None:
    values = WITH_SECRETS[name]
    secret = values[field]
    shown = shown_params(name, values)
    assert shown[field] == MASK
    assert {k: v for k, v in shown.items() if k != field} == {
        k: v for k, v in values.items() if k != field
    }
    # change views and the audit cannot see the types; the name alone must say "secret".
    assert is_secret_name(field)
    assert secret not in redact(f"/config plan {name} r1-mum {field}={secret}")
    # Rendered for the device it is there in full; as config text shown, it is masked.
    for platform in (Platform.CISCO_IOS, Platform.JUNIPER_JUNOS):
        text = "\n".join(render(name, platform, values))
        assert secret in text
        assert secret not in mask_config(text)
        assert MASK in mask_config(text)
    assert secret not in repr(validate(name, values))


@pytest.mark.parametrize(("name", "field"), _secret_fields())
@pytest.mark.parametrize("bad", BAD_SECRETS)
def test_a_refused_secret_is_never_echoed(name: str, field: str, bad: str) -> None:
    with pytest.raises(DomainError) as exc:
        validate(name, {**WITH_SECRETS[name], field: bad})
    said = f"{exc.value} {exc.value.hint}"
    assert bad not in said
    assert str(exc.value).startswith(f"{field}: ")
    assert str(exc.value).endswith(f"(got a value of {len(bad)} characters)")


@pytest.mark.parametrize(("name", "field"), _secret_fields())
@given(st.text(min_size=5, max_size=60).map(lambda t: "Ω" + t))  # Ω marks what was typed
def test_no_refused_secret_is_echoed(name: str, field: str, bad: str) -> None:
    with pytest.raises(DomainError) as exc:
        validate(name, {**WITH_SECRETS[name], field: bad})
    assert "Ω" not in f"{exc.value} {exc.value.hint}"


def test_a_value_that_is_not_secret_is_still_quoted_when_refused() -> None:
    with pytest.raises(DomainError) as exc:
        validate("snmp", {"community": "Comm2024x", "location": "a\nb"})
    assert str(exc.value).endswith("(got 'a\\nb')")
