"""The fixed time the shared test world is seeded at: no fixture reads the clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

# Members joined up to 900 days and leads arrived up to 3 days before it.
WORLD_NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
