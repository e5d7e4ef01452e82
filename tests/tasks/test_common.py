"""The one decorator that makes a data function a task: it opens one transaction, passes the
run's settings through, and names the task after the function."""

from __future__ import annotations

import pytest
from prefect import flow
from sqlmodel import Session, select

from clubflow.core.db import session_scope
from clubflow.core.settings import get_settings
from domain.models import Region
from tasks.common import data_task

pytestmark = pytest.mark.usefixtures("prefect_server")


def add_region(*, session: Session, code: str, fail: bool = False) -> str:
    session.add(
        Region(
            code=code,
            name=code,
            name_zh=f"{code}区",
            signature_crossing="-",
            signature_crossing_zh="-",
            terrain="desert",
            seasons=[],
        )
    )
    session.flush()
    if fail:
        raise RuntimeError("the step broke after writing")
    return code


def report_plans_dir(*, session: Session, settings) -> str:
    return settings.plans_dir


add_region_task = data_task(add_region)
report_plans_dir_task = data_task(report_plans_dir, name="report-the-plans-dir")


def regions(url: str) -> list[str]:
    with session_scope(url) as session:
        return sorted(session.exec(select(Region.code)).all())


def test_the_task_commits_the_step_and_is_named_after_the_function(db_url):
    @flow
    def run() -> str:
        return add_region_task(code="zz")

    assert run() == "zz"
    assert "zz" in regions(db_url)
    assert add_region_task.name == "add-region"


def test_a_failed_step_leaves_nothing_behind(db_url):
    @flow
    def run() -> None:
        add_region_task(code="yy", fail=True)

    with pytest.raises(RuntimeError, match="broke after writing"):
        run()
    assert "yy" not in regions(db_url)


def test_the_settings_the_flow_read_are_the_ones_the_step_sees(db_url):
    settings = get_settings().model_copy(update={"plans_dir": "/given/plans"})

    @flow
    def run() -> tuple[str, str]:
        return report_plans_dir_task(settings=settings), report_plans_dir_task()

    given, read = run()
    assert (given, read) == ("/given/plans", get_settings().plans_dir)
    assert given != read
    assert report_plans_dir_task.name == "report-the-plans-dir"


def test_a_function_without_a_session_is_refused():
    with pytest.raises(TypeError, match="not a data function"):
        data_task(lambda *, now: now)
