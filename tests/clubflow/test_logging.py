"""Phone and ID numbers never reach a log line unmasked, whoever logs them."""

from __future__ import annotations

import logging

from prefect import flow, get_run_logger, task

import tasks  # noqa: F401  (installs the masking filter)


@task
def log_a_lead() -> None:
    get_run_logger().info("lead %s called back, id %s", "13812341234", "11010119900307123X")


@flow
def log_from_a_flow() -> None:
    get_run_logger().info("dealer phone +8613912345678")
    log_a_lead()


def test_run_loggers_mask_phones_and_id_numbers(prefect_server, caplog):
    caplog.set_level(logging.INFO)
    log_from_a_flow()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "+86139****5678" in text
    assert "lead 138****1234 called back, id 110101********123X" in text
    for raw in ("13812341234", "13912345678", "11010119900307123X"):
        assert raw not in text
