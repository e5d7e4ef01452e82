"""The screenshot script still renders every page it names (so docs/screenshots cannot rot)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from browser_support import chromium_or_skip

from clubflow.core.settings import get_settings
from clubflow.world import WorldSize

SCRIPT = Path(__file__).with_name("screenshots.py")


def test_the_screenshot_script_writes_each_page_at_phone_and_desktop_width(tmp_path, monkeypatch):
    browser_path = chromium_or_skip()
    spec = importlib.util.spec_from_file_location("portal_screenshots", SCRIPT)
    shots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shots)
    monkeypatch.setenv("CLUBFLOW_DATABASE_URL", "sqlite://")  # restored after the test
    (tmp_path / "work").mkdir()
    try:
        written = shots.take(
            tmp_path / "out",
            work=tmp_path / "work",
            browser_path=browser_path,
            world_size=WorldSize(clubs_per_region=1, members=20, leads=10),
        )
    finally:
        get_settings.cache_clear()

    names = sorted(p.name for p in written)
    assert names == sorted(
        f"{page}-{size}.png" for page, _, _ in shots.PAGES for size in ("phone", "desktop")
    )
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
        assert path.stat().st_size > 3000, path  # a page, not a blank
