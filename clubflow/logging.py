"""A logging filter that masks phone and ID numbers in every clubflow and Prefect log line."""

from __future__ import annotations

import logging

from domain.privacy import mask_text

MASKED_LOGGERS = ("clubflow", "prefect", "prefect.flow_runs", "prefect.task_runs", "httpx")


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and not record.args:
            record.msg = mask_text(record.msg)
        elif record.args:
            record.msg = mask_text(record.getMessage())
            record.args = None
        return True


_FILTER = MaskingFilter()


def install_masking() -> None:
    """Idempotent; loggers created later under these names are covered by their handlers' path
    only if named here, so every name flows and tasks log through is listed."""
    for name in MASKED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
