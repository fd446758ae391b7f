"""What the audit keeps of what was typed: secrets and identity numbers redacted."""

from __future__ import annotations

import pytest

from domain.audit.services import redact


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("/customer aadhaar 2345 6789 0123", "/customer aadhaar XXXXXXXX0123"),
        ("/payment record card=4111111111111111", "/payment record card=XXXXXXXXXXXX1111"),
        ("/config plan snmp r1 community=s3cr3t", "/config plan snmp r1 community=[redacted]"),
        ('/x password="two words"', "/x password=[redacted]"),
        ("token xoxb-1234-abcd here", "token [redacted token] here"),
        ("/bill 919876543210", "/bill 919876543210"),
        ("/ticket show T-12", "/ticket show T-12"),
        ("/bill items INV-202610-0000123", "/bill items INV-202610-0000123"),
    ],
)
def test_redaction(typed: str, kept: str) -> None:
    assert redact(typed) == kept
