"""The activity lifecycle: proposal → review by class → warm-up → check-in → recap →
subsidy claim → points → archive.

- `lifecycle.py`   proposal and review gates (suspended deployment run), approval, warm-up plan
- `registration.py` members sign up
- `checkin.py`     check-in import (CSV, CLI, API)
- `recap.py`       recap filed and rendered (markdown artifact + HTML file)
- `claim.py`       claim with the rules engine's proposal, line-by-line approval gate
- `payment.py`     finance marks the claim paid
Warm-up on its day, recap reminders, points at end + N working days and the archive are dated
steps of the shared hourly sweep (tasks/activities/hooks.py).
"""
