"""Fraud choices: the fraud kinds the operator watches for, and case states."""

from __future__ import annotations

from enum import StrEnum

from domain.states import Lifecycle


class FraudKind(StrEnum):
    SIM_BOX = "sim_box"
    IRSF = "irsf"
    SMS_PUMPING = "sms_pumping"
    SUBSCRIPTION_FRAUD = "subscription_fraud"
    ACCOUNT_TAKEOVER = "account_takeover"
    ROAMING_FRAUD = "roaming_fraud"


class CaseState(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


CASE_LIFECYCLE = Lifecycle(
    "fraud case",
    {
        CaseState.OPEN: [CaseState.CONFIRMED, CaseState.DISMISSED],
        CaseState.CONFIRMED: [],
        CaseState.DISMISSED: [],
    },
)


class LabelSource(StrEnum):
    SEED = "seed"  # ground truth injected by the demo-data generator
    ANALYST = "analyst"  # an analyst's decision on a case


#: The places a case keeps its score to: worst first ranks lines that fewer places would
#: show alike, so every view (case card, list, explain, check, CLI) shows all of them.
SCORE_PLACES = 6


def score_text(score: float) -> str:
    """A line's fraud score as every view shows it."""
    return f"{round(score, SCORE_PLACES):.{SCORE_PLACES}f}"
