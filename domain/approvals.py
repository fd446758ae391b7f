"""The four-eyes rule: whoever asked for a thing, or is party to it, never approves it.

Changes (a second engineer for critical devices), orders (a manager other than the
requester) and credits (a manager other than whoever opened the dispute or asked for
the credit) all need a second person; this is the one check they share.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.errors import PolicyViolation


def same_person(a: str, b: str) -> bool:
    """Two user names are one person whatever their case or surrounding spaces."""
    return a.strip().casefold() == b.strip().casefold()


def require_second_person(
    subject: str,
    approver: str,
    parties: Iterable[tuple[str, str]],
    *,
    who: str = "someone",
    hint: str,
) -> None:
    """Refuse `approver` if they are one of `parties` ((name, what they did) pairs).

    `subject` names the thing ("CRD-4"); the refusal reads
    "dave opened the dispute of CRD-4; a manager other than dave must approve or reject it".
    """
    for name, did in parties:
        if name and same_person(name, approver):
            raise PolicyViolation(
                f"{approver} {did} {subject}; {who} other than {approver} must approve or "
                "reject it",
                hint=hint,
            )
