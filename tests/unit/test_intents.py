"""Config templates render only validated values: nothing can smuggle in a CLI line."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automation.intents import (
    INTENTS,
    TEMPLATES,
    check_platforms,
    render,
    secret_fields,
    shown_params,
    supported,
    template_file,
    validate,
)
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
        Platform.CISCO_IOS,
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
    for name in INTENTS:
        for fam in ("ios", "junos"):
            assert (TEMPLATES / fam / f"{name}.j2").exists()


# -- a dialect per platform ----------------------------------------------------------------

#: One valid set of values per intent, to render on every platform.
VALUES: dict[str, dict[str, Any]] = {
    "ntp": {"servers": "10.0.0.9"},
    "syslog": {"host": "10.0.1.10", "level": "warnings"},
    "snmp": {"community": "lab-ro-Comm1", "location": "MUM rack 4"},
    "banner": {"text": "Authorised access only"},
    "interface_description": {"interface": "Ethernet1", "description": "to cust 42"},
    "vlan": {"vlan": 1042, "name": "CUST-1042"},
    "customer_access_port": {"interface": "Ethernet5", "vlan": 1042, "description": "CUST"},
    "customer_port_state": {"interface": "Ethernet5", "state": "down"},
    "acl_entry": {
        "acl": "CUST-IN",
        "sequence": 10,
        "action": "deny",
        "protocol": "tcp",
        "source": "10.20.0.0/16",
        "destination": "192.0.2.0/24",
    },
}

#: The template folders each platform may render from: its own, and the family it speaks.
SPOKEN: dict[Platform, set[str]] = {
    Platform.CISCO_IOS: {"cisco_ios", "ios"},
    Platform.ARISTA_EOS: {"arista_eos", "ios"},
    Platform.JUNIPER_JUNOS: {"juniper_junos", "junos"},
}

PAIRS = [(n, p) for n in INTENTS for p in Platform]


def test_every_intent_has_values_to_render() -> None:
    assert set(VALUES) == set(INTENTS)


def test_every_template_folder_is_a_family_or_a_platform() -> None:
    folders = {d.name for d in TEMPLATES.iterdir() if d.is_dir() and d.name != "__pycache__"}
    assert folders <= {"ios", "junos"} | {p.value for p in Platform}
    for folder in folders:
        assert {f.stem for f in (TEMPLATES / folder).glob("*.j2")} <= set(INTENTS), folder


@pytest.mark.parametrize(("name", "platform"), PAIRS, ids=[f"{n}-{p}" for n, p in PAIRS])
def test_each_platform_renders_its_own_dialect_or_is_refused(name: str, platform: Platform) -> None:
    source = template_file(name, platform)
    if source is not None:
        assert supported(name, platform)
        assert source.is_file()
        assert source.parent.name in SPOKEN.get(platform, {platform.value}), source
        lines = render(name, platform, dict(VALUES[name]))
        assert lines
        check_platforms(name, [platform, platform])  # no refusal
        return
    assert not supported(name, platform)
    having = [p.value for p in Platform if supported(name, p)]
    hint = f"templates exist for {', '.join(having)}; narrow the targets, e.g. platform:{having[0]}"
    with pytest.raises(DomainError) as exc:
        render(name, platform, dict(VALUES[name]))
    assert (str(exc.value), exc.value.hint) == (f"{name} has no template for {platform}", hint)
    with pytest.raises(DomainError) as exc:
        check_platforms(name, {"r1-x": platform, "r2-x": platform})
    said = f"{name} has no template for {platform} (2 devices: r1-x, r2-x)"
    assert (str(exc.value), exc.value.hint) == (said, hint)


def test_only_the_platforms_that_speak_a_family_take_its_templates() -> None:
    for platform in (Platform.CISCO_XR, Platform.CISCO_NXOS, Platform.HUAWEI_VRP):
        for name in INTENTS:
            assert not supported(name, platform), f"{name} on {platform}"
    for name in INTENTS:
        assert not supported(name, Platform.NOKIA_SROS)
        assert supported(name, Platform.CISCO_IOS) and supported(name, Platform.JUNIPER_JUNOS)


def test_eos_speaks_its_own_acl_and_takes_no_ios_banner() -> None:
    assert template_file("acl_entry", Platform.ARISTA_EOS) == TEMPLATES / "arista_eos/acl_entry.j2"
    assert render("acl_entry", Platform.ARISTA_EOS, dict(VALUES["acl_entry"])) == [
        "ip access-list CUST-IN",
        " 10 deny tcp 10.20.0.0/16 192.0.2.0/24",
    ]
    wide = {**VALUES["acl_entry"], "source": "0.0.0.0/0", "destination": "192.0.2.7/32"}
    assert render("acl_entry", Platform.ARISTA_EOS, wide)[1] == " 10 deny tcp any host 192.0.2.7"
    assert render("snmp", Platform.ARISTA_EOS, {"community": "lab-ro-Comm1", "access": "rw"}) == [
        "snmp-server community lab-ro-Comm1 rw"
    ]
    # What EOS takes as IOS does comes from the ios folder.
    assert template_file("ntp", Platform.ARISTA_EOS) == TEMPLATES / "ios/ntp.j2"
    assert not supported("banner", Platform.ARISTA_EOS)
    for name in INTENTS:
        if supported(name, Platform.ARISTA_EOS):
            text = "\n".join(render(name, Platform.ARISTA_EOS, dict(VALUES[name])))
            assert "extended" not in text and "^" not in text and " RO" not in text


def test_a_mixed_selection_is_refused_naming_the_platforms_without_the_template() -> None:
    devices = {
        "agg02-mum": Platform.HUAWEI_VRP,
        "agg01-mum": Platform.HUAWEI_VRP,
        "agg03-mum": Platform.HUAWEI_VRP,
        "agg04-mum": Platform.HUAWEI_VRP,
        "sw01-mum": Platform.ARISTA_EOS,
        "pe01-del": Platform.NOKIA_SROS,
    }
    with pytest.raises(DomainError) as exc:
        check_platforms("ntp", devices)
    assert str(exc.value) == (
        "ntp has no template for huawei_vrp (4 devices: agg01-mum, agg02-mum, agg03-mum "
        "and 1 more) and nokia_sros (1 device: pe01-del)"
    )
    # The example is a platform the selection has devices of, when it has one.
    assert exc.value.hint == (
        "templates exist for cisco_ios, arista_eos, juniper_junos; "
        "narrow the targets, e.g. platform:arista_eos"
    )
    with pytest.raises(DomainError) as exc:
        check_platforms("ntp", [Platform.CISCO_XR] * 3)
    assert str(exc.value) == "ntp has no template for cisco_xr (3 devices)"
    assert exc.value.hint.endswith("e.g. platform:cisco_ios")
    check_platforms("ntp", {"r1-mum": Platform.CISCO_IOS, "sw01-mum": Platform.ARISTA_EOS})
    check_platforms("ntp", [])


def test_an_unknown_template_is_refused_whatever_the_platforms() -> None:
    with pytest.raises(DomainError) as exc:
        check_platforms("firewall", [Platform.CISCO_IOS])
    assert str(exc.value) == "no template 'firewall'"
    assert exc.value.hint and "ntp" in exc.value.hint


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
    for platform in [p for p in Platform if supported(name, p)]:
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


@pytest.mark.parametrize(
    "text", ["!", "%", "EOF", " EOF ", "!!!", "...", " padded", "padded ", "two  spaces"]
)
def test_a_banner_that_would_end_or_vanish_on_the_way_is_refused(text: str) -> None:
    with pytest.raises(DomainError, match=r"^text: must"):
        validate("banner", {"text": text})
