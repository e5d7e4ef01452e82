"""The outlet notifications: a review opened (to its owner), returned or rejected (to the
parent dealer), the outlet active (to the parent dealer)."""

from __future__ import annotations

from datetime import date

from domain.gates import owner_recipient
from domain.outlets import REVIEWS
from tasks.outbox import NotificationRequest
from tasks.outlets.store import OutletView


def _base(view: OutletView) -> dict:
    return {
        "outlet": view.code,
        "outlet_name": view.name,
        "dealer_name": view.dealer_name,
        "cities": "、".join(view.cities),
    }


def review_owner_region(review: str, view: OutletView) -> str | None:
    """The qualification review is the outlet's regional specialist's; HQ's are national."""
    return view.region_code if REVIEWS[review][0] == "regional_specialist" else None


def review_requested(
    view: OutletView, *, review: str, key: str, round_no: int, due_on: date
) -> NotificationRequest:
    role, title = REVIEWS[review]
    return NotificationRequest(
        recipient=owner_recipient(role, review_owner_region(review, view)),
        template="outlet_review_requested",
        context={
            **_base(view),
            "review": title,
            "key": key,
            "round": round_no,
            "due_on": due_on.isoformat(),
        },
        idem_key=f"outlet:{view.code}:{key}:{round_no}:opened",
    )


def review_returned(
    view: OutletView, *, review: str, key: str, round_no: int, decider: str, reason: str
) -> NotificationRequest:
    return NotificationRequest(
        recipient=f"dealer:{view.dealer_code}",
        template="outlet_review_returned",
        context={
            **_base(view),
            "review": REVIEWS[review][1],
            "decider": decider,
            "reason": reason,
            "round": round_no + 1,
        },
        idem_key=f"outlet:{view.code}:{key}:{round_no}:returned",
    )


def rejected(view: OutletView, *, review: str, key: str, decider: str, reason: str):
    return NotificationRequest(
        recipient=f"dealer:{view.dealer_code}",
        template="outlet_rejected",
        context={**_base(view), "review": REVIEWS[review][1], "decider": decider, "reason": reason},
        idem_key=f"outlet:{view.code}:{key}:rejected",
    )


def active(view: OutletView) -> NotificationRequest:
    return NotificationRequest(
        recipient=f"dealer:{view.dealer_code}",
        template="outlet_active",
        context=_base(view),
        idem_key=f"outlet:{view.code}:active:{view.renewals}",
    )
