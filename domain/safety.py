"""The safety plan an activity carries before approval (DOMAIN 3: execution).

Class B and C activities carry one safety plan document (text or link) that covers every hazard
of `SAFETY_HAZARDS`; a crossing (穿越) also names its support vehicle. Pure rules: the review
refuses an approval without them, and the proposal form warns.
"""

from __future__ import annotations

from domain.models import ActivityClass

# One document covers all four; the reviewer reads it as a whole (ours: simpler than four fields).
SAFETY_HAZARDS = ("fire", "earthquake", "storm", "power_loss")
NEEDS_SAFETY_PLAN = (ActivityClass.B, ActivityClass.C)
CROSSING_WORDS = ("穿越", "crossing")


def is_crossing(*, theme: str, title: str) -> bool:
    """A crossing is named so by its theme or title (穿越季, 雨林穿越, the quarter's crossing)."""
    text = f"{theme} {title}".lower()
    return any(word in text for word in CROSSING_WORDS)


def safety_problems(
    *, klass: str, theme: str, title: str, safety_plan: str, support_vehicle: str
) -> list[tuple[str, str]]:
    """(field, reason) for each thing missing before this activity may be approved."""
    problems: list[tuple[str, str]] = []
    if klass not in {str(k) for k in NEEDS_SAFETY_PLAN}:
        return problems
    if not safety_plan.strip():
        problems.append(
            (
                "safety_plan",
                f"a class {klass} activity needs a safety plan covering "
                + ", ".join(SAFETY_HAZARDS)
                + " before approval",
            )
        )
    if is_crossing(theme=theme, title=title) and not support_vehicle.strip():
        problems.append(("support_vehicle", "a crossing names its support vehicle before approval"))
    return problems


def approval_refusal(
    *, outcome: str, klass: str, theme: str, title: str, safety_plan: str, support_vehicle: str
) -> str | None:
    """Why an approval is refused (None: it may be approved, or it is not an approval)."""
    if outcome != "approve":
        return None
    problems = safety_problems(
        klass=klass,
        theme=theme,
        title=title,
        safety_plan=safety_plan,
        support_vehicle=support_vehicle,
    )
    return "; ".join(f"{field}: {reason}" for field, reason in problems) or None
