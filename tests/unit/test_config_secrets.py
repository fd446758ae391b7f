"""Secrets inside device configuration are masked wherever config text is shown.

Every secret form of the IOS-style and Junos dialects, as a config line, as a line of a
unified diff (`+`, `-`, space, and hier_config's indented `  + `) and inside a device's
error: the secret is gone and the rest of the line reads as before.
"""

from __future__ import annotations

import pytest

from automation import diffing
from domain.inventory.choices import Platform
from domain.secrets import MASK, is_secret_name, mask_config, mask_lines, mask_values

#: (config line, the same line as shown, the secret it holds)
SECRET_LINES = [
    # IOS-style (IOS, IOS XE, IOS XR, NX-OS, EOS share these forms)
    ("snmp-server community Comm2024x RO", "snmp-server community ******** RO", "Comm2024x"),
    ("snmp-server community Comm2024x RW 10", "snmp-server community ******** RW 10", "Comm2024x"),
    (
        "snmp-server host 10.0.0.5 version 2c TrapComm1",
        "snmp-server host 10.0.0.5 version 2c ********",
        "TrapComm1",
    ),
    (
        "snmp-server user ops OPS v3 auth sha AuthPw1x priv aes 128 PrivPw1x",
        "snmp-server user ops OPS v3 auth sha ******** priv aes 128 ********",
        "AuthPw1x",
    ),
    (
        "username admin privilege 15 secret 9 $9$nhEmQVczB7dqsO$X",
        "username admin privilege 15 secret 9 ********",
        "$9$nhEmQVczB7dqsO$X",
    ),
    ("username ops secret Plain1x", "username ops secret ********", "Plain1x"),
    ("username ops password 0 Plain2x", "username ops password 0 ********", "Plain2x"),
    ("username ops password Plain3x", "username ops password ********", "Plain3x"),
    ("enable secret 5 $1$mERr$hx5rVt7r", "enable secret 5 ********", "$1$mERr$hx5rVt7r"),
    ("enable secret Enab1ex", "enable secret ********", "Enab1ex"),
    ("enable secret level 15 5 $1$abcd", "enable secret level 15 5 ********", "$1$abcd"),
    ("enable password 7 0822455D0A16", "enable password 7 ********", "0822455D0A16"),
    ("tacacs-server key 7 0822455D0A17", "tacacs-server key 7 ********", "0822455D0A17"),
    ("tacacs-server key TacKey1x", "tacacs-server key ********", "TacKey1x"),
    (
        "tacacs-server host 10.0.0.7 key TacKey2x",
        "tacacs-server host 10.0.0.7 key ********",
        "TacKey2x",
    ),
    ("radius-server key RadKey1x", "radius-server key ********", "RadKey1x"),
    (
        "radius-server host 10.0.0.8 auth-port 1812 key 7 RadKey2x",
        "radius-server host 10.0.0.8 auth-port 1812 key 7 ********",
        "RadKey2x",
    ),
    (" key 7 0822455D0A18", " key 7 ********", "0822455D0A18"),  # under `tacacs server T`
    (" key RadKey3x", " key ********", "RadKey3x"),  # under `radius server R`
    ("  key-string 7 KeyStr1x", "  key-string 7 ********", "KeyStr1x"),
    ("  key-string KeyStr2x", "  key-string ********", "KeyStr2x"),
    ("ppp chap password 0 Chap1xyz", "ppp chap password 0 ********", "Chap1xyz"),
    ("ppp chap password Chap2xyz", "ppp chap password ********", "Chap2xyz"),
    (
        "ppp pap sent-username isp password 0 Pap1xyz",
        "ppp pap sent-username isp password 0 ********",
        "Pap1xyz",
    ),
    (" password 7 045802150C2E", " password 7 ********", "045802150C2E"),  # line vty
    ("ip ospf authentication-key Ospf1xyz", "ip ospf authentication-key ********", "Ospf1xyz"),
    (
        "ip ospf authentication-key 7 Ospf2xyz",
        "ip ospf authentication-key 7 ********",
        "Ospf2xyz",
    ),
    (
        "ip ospf message-digest-key 1 md5 Md5key1x",
        "ip ospf message-digest-key 1 md5 ********",
        "Md5key1x",
    ),
    (
        "ip ospf message-digest-key 10 md5 7 Md5key2x",
        "ip ospf message-digest-key 10 md5 7 ********",
        "Md5key2x",
    ),
    (
        "ntp authentication-key 1 md5 NtpKey1x 7",
        "ntp authentication-key 1 md5 ******** 7",
        "NtpKey1x",
    ),
    (
        "crypto isakmp key IsaKey1x address 203.0.113.1",
        "crypto isakmp key ******** address 203.0.113.1",
        "IsaKey1x",
    ),
    # Junos, as `show configuration | display set` prints it
    (
        "set snmp community Comm2024x authorization read-only",
        "set snmp community ******** authorization read-only",
        "Comm2024x",
    ),
    (
        'set snmp community "Comm 2024" authorization read-write',
        'set snmp community "********" authorization read-write',
        "Comm 2024",
    ),
    (
        'set system tacplus-server 10.0.0.7 secret "$9$tacplus1"',
        'set system tacplus-server 10.0.0.7 secret "********"',
        "$9$tacplus1",
    ),
    (
        "set system radius-server 10.0.0.8 secret Radius1x",
        "set system radius-server 10.0.0.8 secret ********",
        "Radius1x",
    ),
    (
        'set system login user ops authentication encrypted-password "$6$salt$hash1"',
        'set system login user ops authentication encrypted-password "********"',
        "$6$salt$hash1",
    ),
    (
        'set system root-authentication encrypted-password "$6$salt$hash2"',
        'set system root-authentication encrypted-password "********"',
        "$6$salt$hash2",
    ),
    (
        'set protocols bgp group PEERS authentication-key "$9$bgpkey1"',
        'set protocols bgp group PEERS authentication-key "********"',
        "$9$bgpkey1",
    ),
    (
        'set protocols ospf area 0 interface ge-0/0/0 authentication md5 1 key "$9$ospf1"',
        'set protocols ospf area 0 interface ge-0/0/0 authentication md5 1 key "********"',
        "$9$ospf1",
    ),
    (
        'set security ike policy IKE pre-shared-key ascii-text "$9$psk1"',
        'set security ike policy IKE pre-shared-key ascii-text "********"',
        "$9$psk1",
    ),
    # Junos in braces (`show configuration`)
    ('    community "Comm2024x" {', '    community "********" {', "Comm2024x"),
    ("    community Comm2024y {", "    community ******** {", "Comm2024y"),
    (
        '        secret "$9$tacplus2"; ## SECRET-DATA',
        '        secret "********"; ## SECRET-DATA',
        "$9$tacplus2",
    ),
    (
        '        encrypted-password "$6$salt$hash3"; ## SECRET-DATA',
        '        encrypted-password "********"; ## SECRET-DATA',
        "$6$salt$hash3",
    ),
    ('    authentication-key "$9$bgpkey2";', '    authentication-key "********";', "$9$bgpkey2"),
]

#: Lines that hold no secret and must read exactly as they are.
PLAIN_LINES = [
    "key chain OSPF-KEYS",
    " key 1",
    "service password-encryption",
    "password encryption aes",
    "username guest nopassword",
    "snmp-server location Mumbai Andheri",
    "ip ospf authentication message-digest",
    "set community 65000:100 additive",
    "set policy-options community CUST members 65000:100",
    "set snmp location Mumbai",
    "tacacs server TAC1",
    "ntp server 10.0.0.1",
    "set system ntp server 10.0.0.1",
    "interface GigabitEthernet0/0/1",
    " description CUST Acme ILL-100",
]

#: How a line appears in a unified diff: added, removed, context; hier_config indents.
DIFF_MARKS = ["+", "-", " ", "+ ", "- ", "  + ", "    - "]


@pytest.mark.parametrize(("line", "shown", "secret"), SECRET_LINES)
def test_a_secret_in_a_config_line_is_masked_and_the_line_kept(
    line: str, shown: str, secret: str
) -> None:
    assert mask_config(line) == shown
    assert secret not in mask_config(line)
    assert mask_config(shown) == shown  # masking twice changes nothing


@pytest.mark.parametrize(("line", "shown", "secret"), SECRET_LINES)
@pytest.mark.parametrize("mark", DIFF_MARKS)
def test_a_secret_in_a_diff_line_is_masked(line: str, shown: str, secret: str, mark: str) -> None:
    assert mask_config(mark + line) == mark + shown


@pytest.mark.parametrize(("line", "shown", "secret"), SECRET_LINES)
def test_a_secret_quoted_in_a_device_error_is_masked(line: str, shown: str, secret: str) -> None:
    error = (
        f"r1-mum refused the change: Invalid input detected at command: {line.strip()}, "
        "matched error: % Invalid input detected at '^' marker."
    )
    assert secret not in mask_config(error)
    assert shown.strip() in mask_config(error)


@pytest.mark.parametrize("line", PLAIN_LINES)
@pytest.mark.parametrize("mark", ["", "+ ", "- "])
def test_lines_without_a_secret_are_untouched(line: str, mark: str) -> None:
    assert mask_config(mark + line) == mark + line


def test_a_whole_configuration_and_its_line_list() -> None:
    config = "\n".join(line for line, _, _ in SECRET_LINES + [(p, p, "") for p in PLAIN_LINES])
    shown = mask_config(config)
    for (_, expected, secret), got in zip(SECRET_LINES, shown.splitlines(), strict=False):
        assert got == expected
        assert secret not in shown
    assert shown.splitlines()[len(SECRET_LINES) :] == PLAIN_LINES
    assert mask_lines(config.splitlines()) == shown.splitlines()


@pytest.mark.parametrize(
    ("platform", "running", "intended", "secret"),
    [
        (
            Platform.CISCO_IOS,
            "hostname r1\nsnmp-server community OldComm1x RO\n",
            "snmp-server community NewComm1x RO\nusername ops secret 0 UserPw1x\n",
            ("OldComm1x", "NewComm1x", "UserPw1x"),
        ),
        (
            Platform.JUNIPER_JUNOS,
            "set system host-name r9\nset snmp community OldComm2x authorization read-only\n",
            "set snmp community NewComm2x authorization read-only\n"
            'set system radius-server 10.0.0.8 secret "Radius2x"\n',
            ("OldComm2x", "NewComm2x", "Radius2x"),
        ),
    ],
)
def test_a_planned_diff_is_masked(
    platform: Platform, running: str, intended: str, secret: tuple[str, ...]
) -> None:
    plan = diffing.plan(platform, running, intended)
    assert any(s in plan.diff for s in secret)  # the diff as computed holds the secret
    shown = mask_config(plan.diff)
    assert not any(s in shown for s in secret)
    assert MASK in shown
    assert len(shown.splitlines()) == len(plan.diff.splitlines())


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("community", True),
        ("password", True),
        ("enable_secret", True),
        ("auth-key", True),
        ("md5_key", True),
        ("api_token", True),
        ("psk", True),
        ("comunity", True),  # misspelt: still a secret
        ("pasword", True),
        ("servers", False),
        ("location", False),
        ("description", False),
        ("host", False),
        ("vlan", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_values_as_shown() -> None:
    values = {"community": "Comm2024x", "access": "ro", "location": "Mumbai", "keystone": 1}
    assert mask_values(values) == {
        "community": MASK,
        "access": "ro",
        "location": "Mumbai",
        "keystone": "1",
    }
    assert mask_values({"label": "x"}, secret={"label"}) == {"label": MASK}
