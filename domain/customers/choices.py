"""Customer choices: customers, billing accounts and subscriptions (TMF629/TMF666/TMF637)."""

from __future__ import annotations

from enum import StrEnum

from domain.states import Lifecycle


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class IdDocument(StrEnum):
    AADHAAR = "aadhaar"
    PAN = "pan"
    GSTIN = "gstin"
    PASSPORT = "passport"


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class DunningState(StrEnum):
    CURRENT = "current"
    REMINDED = "reminded"
    FINAL_NOTICE = "final_notice"
    SUSPENDED = "suspended"


class PaymentMethod(StrEnum):
    UPI = "upi"
    CARD = "card"
    NETBANKING = "netbanking"
    AUTODEBIT = "autodebit"
    CHEQUE = "cheque"
    CASH = "cash"


class SubscriptionState(StrEnum):
    """TMF637 product status."""

    CREATED = "created"
    PENDING_ACTIVE = "pendingActive"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    PENDING_TERMINATE = "pendingTerminate"
    TERMINATED = "terminated"


SUBSCRIPTION_LIFECYCLE = Lifecycle(
    "subscription",
    {
        SubscriptionState.CREATED: [
            SubscriptionState.PENDING_ACTIVE,
            SubscriptionState.ACTIVE,
            SubscriptionState.TERMINATED,
        ],
        SubscriptionState.PENDING_ACTIVE: [SubscriptionState.ACTIVE, SubscriptionState.TERMINATED],
        SubscriptionState.ACTIVE: [
            SubscriptionState.SUSPENDED,
            SubscriptionState.PENDING_TERMINATE,
            SubscriptionState.TERMINATED,
        ],
        SubscriptionState.SUSPENDED: [
            SubscriptionState.ACTIVE,
            SubscriptionState.PENDING_TERMINATE,
            SubscriptionState.TERMINATED,
        ],
        SubscriptionState.PENDING_TERMINATE: [
            SubscriptionState.ACTIVE,
            SubscriptionState.TERMINATED,
        ],
        SubscriptionState.TERMINATED: [],
    },
)
