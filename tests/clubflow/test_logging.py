"""Phone and ID numbers never reach a log line unmasked, whoever logs them."""

from __future__ import annotations

import asyncio
import io
import logging

import pytest
from prefect import flow, get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogHandler

import tasks  # noqa: F401  (installs masking)
from clubflow.core.logging import install_masking

PHONE, ID_NUMBER = "13812341234", "11010119900307123X"
RAW = (PHONE, "13912345678", ID_NUMBER)

# Every logger the project and the libraries it runs on log through (children included).
LOGGERS = [
    "",
    "clubflow",
    "clubflow.outbox",
    "clubflow.leads",
    "clubflow.http",
    "prefect",
    "prefect.flow_runs",
    "prefect.task_runs",
    "prefect.server",
    "httpx",
    "httpcore",
    "apprise",
    "apprise.plugins.custom_json",
    "sqlalchemy.engine",
    "alembic",
    "uvicorn.error",
    "some.library.we.do.not.know",
]


@task
def log_a_lead() -> None:
    get_run_logger().info("lead %s called back, id %s", PHONE, ID_NUMBER)


@flow
def log_from_a_flow() -> str:
    get_run_logger().info("dealer phone +8613912345678")
    log_a_lead()
    from prefect.runtime import flow_run

    return flow_run.id


def test_run_loggers_mask_phones_and_id_numbers(prefect_server, caplog):
    caplog.set_level(logging.INFO)
    run_id = log_from_a_flow()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "+86139****5678" in text
    assert "lead 138****1234 called back, id 110101********123X" in text
    for raw in RAW:
        assert raw not in text

    # What Prefect's API log handler sent to the server (the UI's run logs).
    APILogHandler().flush()

    async def read() -> list[str]:
        async with get_client() as client:
            logs = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
            return [log.message for log in logs]

    messages = asyncio.run(read())
    assert any("138****1234" in m for m in messages), messages
    for raw in RAW:
        assert not any(raw in m for m in messages)


@pytest.mark.parametrize("name", LOGGERS)
def test_every_logger_masks_message_arguments_and_exceptions(name, caplog):
    install_masking()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    caplog.set_level(logging.DEBUG, logger=name)
    try:
        logger.debug("plain %s", PHONE)
        logger.warning(f"f-string {ID_NUMBER} and +86 138 1234 1234")
        try:
            raise ValueError(f"bad row: phone {PHONE}")
        except ValueError:
            logger.exception("import failed")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue() + "\n".join(
        caplog.text.splitlines() + [r.getMessage() for r in caplog.records]
    )
    assert "138****1234" in written and "110101********123X" in written
    assert "bad row: phone 138****1234" in written  # the traceback, masked
    for raw in RAW:
        assert raw not in written


def test_a_record_made_elsewhere_is_masked_by_the_root_handlers():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_masking()  # covers handlers added after the first install
        record = logging.makeLogRecord(
            {"name": "elsewhere", "msg": "caller %s", "args": (PHONE,), "levelno": 40}
        )
        handler.handle(record)
    finally:
        root.removeHandler(handler)
    assert stream.getvalue().strip() == "caller 138****1234"
