"""Phone and ID numbers are masked in every log record, whoever logs it.

Two layers, because a filter on a few named loggers missed child loggers (`clubflow.leads`)
and libraries (`apprise`):

1. A log-record factory masks each record as it is created: message, arguments and the
   text of an attached exception. That covers every logger, every handler (pytest's
   caplog, Prefect's API log handler, files) and records of libraries we do not know.
2. A masking filter on every handler of the root logger and on every handler attached to a
   named logger (Prefect's API and console handlers): a record made some other way
   (`logging.makeLogRecord`, a record rebuilt from another process) is masked before it is
   written or sent.
"""

from __future__ import annotations

import logging
import traceback

from domain.privacy import mask_text


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record in place (message with its arguments, exception text)."""
    if getattr(record, "_clubflow_masked", None) is record.msg and not record.args:
        return record  # already masked, and not changed since
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to logging to report
        return record
    masked = mask_text(message)
    if masked != message or record.args:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        # Formatters reuse exc_text when it is set: the traceback is printed masked.
        record.exc_text = mask_text("".join(traceback.format_exception(*record.exc_info)))
    elif record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    record._clubflow_masked = record.msg
    return record


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


_FILTER = MaskingFilter()
_BASE_FACTORY = logging.getLogRecordFactory()


def _masking_factory(*args, **kwargs) -> logging.LogRecord:
    return mask_record(_BASE_FACTORY(*args, **kwargs))


def _all_handlers() -> list[logging.Handler]:
    handlers = list(logging.getLogger().handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            handlers.extend(logger.handlers)
    return handlers


def install_masking() -> None:
    """Idempotent: call again after a library configures logging to cover its new handlers."""
    if logging.getLogRecordFactory() is not _masking_factory:
        global _BASE_FACTORY
        _BASE_FACTORY = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_masking_factory)
    for handler in _all_handlers():
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
