"""Config templates render only validated values: nothing can smuggle in a CLI line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automation.intents import INTENTS, render
from domain.errors import DomainError
from domain.inventory.choices import Platform


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
