"""Browser fixtures: one Chromium per session (Debian's, see tests/browser_support.py), the
portal served on a loopback port over the test world, and pages at phone and desktop size."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from browser_support import DESKTOP, PAGE_TIMEOUT_MS, PHONE, chromium_or_skip, serve
from portal_client import Portal


@pytest.fixture
def chromium(served):
    """Per test, and started after the world: Playwright's sync API keeps an asyncio loop
    current on this thread, and Prefect's sync calls (the fixtures' block.save, the gate
    runner) would then return coroutines instead of running. Prefect calls made while the
    browser is open go through `off_thread`."""
    path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path)
        yield browser
        browser.close()


@dataclass
class ServedPortal:
    base_url: str
    portal: Portal

    @property
    def sink(self):
        return self.portal.sink

    @property
    def app(self):
        return self.portal.app


@pytest.fixture
def served(portal) -> Iterator[ServedPortal]:
    """The `portal` fixture's app (fixed clock, delivery to the sink) served over HTTP."""
    with serve(portal.app) as running:
        yield ServedPortal(base_url=running.base_url, portal=portal)


def _page(chromium, served, size):
    context = chromium.new_context(base_url=served.base_url, locale="zh-CN", **size)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    return context, page


@pytest.fixture
def phone(chromium, served):
    context, page = _page(chromium, served, PHONE)
    yield page
    context.close()


@pytest.fixture
def desktop(chromium, served):
    context, page = _page(chromium, served, DESKTOP)
    yield page
    context.close()
