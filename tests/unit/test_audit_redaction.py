"""What the audit keeps of what was typed: secrets and identity numbers redacted."""

from __future__ import annotations

import pytest

from domain.audit.services import redact


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("/customer aadhaar 2345 6789 0124", "/customer aadhaar ••••••••0124"),
        ("/payment record card=4111111111111111", "/payment record card=••••••••••••1111"),
        ("/config plan snmp r1 community=s3cr3t", "/config plan snmp r1 community=********"),
        ('/x password="two words"', '/x password="********"'),
        ("token xoxb-1234-abcd here", "token ******** here"),
        ("/bill 919876543210", "/bill 919876543210"),
        ("/ticket show T-12", "/ticket show T-12"),
        ("/bill items INV-202610-0000123", "/bill items INV-202610-0000123"),
        # Secrets typed as name=value: every name that says "secret", misspelt ones too.
        ("/config plan snmp r1 community=bad!", "/config plan snmp r1 community=********"),
        ("/config plan snmp r1 comunity=Comm2024x", "/config plan snmp r1 comunity=********"),
        (
            "/x secret=s3 key=k3 auth_key=a3",
            "/x secret=******** key=******** auth_key=********",
        ),
        ("/x enable-password=e3 md5-key=m3", "/x enable-password=******** md5-key=********"),
        ("/x password='two words' next", "/x password='********' next"),
        ('/x community=ab"c d"e next', "/x community=******** next"),
        ("/x PASSWORD=Up3", "/x PASSWORD=********"),
        (
            "/config plan snmp r1-mum community=Comm2024x location=Andheri access=ro",
            "/config plan snmp r1-mum community=******** location=Andheri access=ro",
        ),
        (
            "/config plan ntp site:MUM-AND1 servers=10.0.0.1",
            "/config plan ntp site:MUM-AND1 servers=10.0.0.1",
        ),
        # A secret in a configuration line (a device's error quoted in a reply).
        (
            "CR-4 failed: r1 refused the change: Invalid input detected at command: "
            "snmp-server community Comm2024x RO",
            "CR-4 failed: r1 refused the change: Invalid input detected at command: "
            "snmp-server community ******** RO",
        ),
        ("username ops secret 0 Plain1x", "username ops secret 0 ********"),
    ],
)
def test_redaction(typed: str, kept: str) -> None:
    assert redact(typed) == kept


@pytest.mark.parametrize("separator", ["\r", "\n", "\v", "\f", "\x1c", "\x85", "\u2028", "\u2029"])
def test_a_typed_line_break_is_spelled_out_in_the_audit(separator: str) -> None:
    from domain.audit.services import visible

    shown = visible(f"show version{separator}reload")
    assert shown.isprintable() and shown.startswith("show version\\") and shown.endswith("reload")
