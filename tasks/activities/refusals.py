"""The refusals of the activity steps, and the retry rule of their tasks: a refusal is an
answer, not a glitch, so retrying it would only repeat it; anything else (database busy, API
down) is retried."""

from __future__ import annotations

from typing import Any

from domain.activities import ProposalRefused, StatusMoveRefused
from domain.subsidy import ClaimMoveRefused


class ActivityError(ValueError):
    """A step that cannot be done to an activity in its present state; the message says why."""


class CheckinError(ValueError):
    """A check-in file or row that cannot be used; the message names the row and the field."""


class ClaimRefused(ValueError):
    """A claim or a claim decision that cannot be accepted; the message says why."""


REFUSALS = (
    ProposalRefused,
    StatusMoveRefused,
    ClaimMoveRefused,
    ActivityError,
    CheckinError,
    ClaimRefused,
    LookupError,
)


def retry_unless_refused(task, task_run, state) -> bool:
    try:
        state.result()
    except REFUSALS:
        return False
    except Exception:  # noqa: BLE001 - anything else (database busy, API down) is retried
        return True
    return False


# The task options of every activity data step (`data_task(fn, **RETRY)`).
RETRY: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [2, 10],
    "retry_condition_fn": retry_unless_refused,
}
