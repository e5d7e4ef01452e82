"""Screenshots of the portal's main pages at phone and desktop width, over a seeded demo
world with a class C activity at its review gate: docs/screenshots/<page>-<phone|desktop>.png.

    uv run python tests/clubflow/portal/browser/screenshots.py            # into docs/screenshots
    uv run python tests/clubflow/portal/browser/screenshots.py --out /tmp/shots

Needs Debian's chromium (apt-get install -y chromium); Playwright never downloads one. The
test beside it runs this into a temporary directory so it cannot rot. Add a page to PAGES
(name, who is signed in or None, path with {gate_id}/{code}/... filled from the world).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from browser_support import DESKTOP, PHONE, chromium_path, fill  # noqa: E402

from benchmarks.portal import NOW, seed, serve  # noqa: E402

PAGES = [
    ("login", None, "/login"),
    ("tasks", "person:specialist.chengdu", "/"),
    ("gate", "person:specialist.chengdu", "/gates/{gate_id}"),
    ("audit", "person:hq.manager", "/audit"),
    ("activities", "person:admin.ch001", "/activities"),
    ("activity", "person:admin.ch001", "/activities/{code}"),
    ("propose", "person:admin.ch001", "/activities/new"),
    ("poster", "person:admin.ch001", "/activities/{code}/qr"),
    ("checkin-list", "person:admin.ch001", "/activities/{code}/checkin"),
    ("leads", "person:call.supervisor", "/leads"),
    ("plan", "person:admin.ch001", "/plans/new"),
    ("member", "member:M000001", "/me"),
]
SIZES = {"phone": PHONE, "desktop": DESKTOP}


def take(out: Path, *, work: Path, browser_path: str, world_size=None) -> list[Path]:
    """Seed a world in `work`, serve the portal, and write every page at every size."""
    from playwright.sync_api import sync_playwright

    from clubflow.core.db import migrate
    from clubflow.core.settings import get_settings
    from clubflow.portal.app import create_app

    url = f"sqlite:///{work / 'clubflow.db'}"
    os.environ["CLUBFLOW_DATABASE_URL"] = url
    get_settings.cache_clear()
    migrate(url)
    values = seed(url, size=world_size)
    app = create_app(now=lambda: NOW, deliver=lambda: None)
    p = app.state.portal
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with serve(app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path)
        # One refused visit first, so the audit page has something to show.
        _visit(browser, base, p, url, "person:admin.ch001", "/audit", DESKTOP, None)
        for name, who, path in PAGES:
            for size_name, size in SIZES.items():
                target = out / f"{name}-{size_name}.png"
                _visit(browser, base, p, url, who, fill(path, values), size, target)
                written.append(target)
        browser.close()
    return written


def _visit(browser, base, p, url, who, path, size, target) -> None:
    from clubflow.core.db import session_scope
    from clubflow.portal.signin import open_session
    from clubflow.portal.web import COOKIE

    context = browser.new_context(locale="zh-CN", **size)
    if who is not None:
        with session_scope(url) as session:
            opened = open_session(session=session, who=who, now=NOW, settings=p.settings)
        context.add_cookies([{"name": COOKIE, "value": p.signer.cookie(opened.token), "url": base}])
    page = context.new_page()
    page.goto(base + path)
    if target is not None:
        page.screenshot(path=str(target), full_page=True)
    context.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="screenshots")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    browser_path = chromium_path()
    if browser_path is None:
        raise SystemExit("Chromium is not installed: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="portal-shots-") as work:
        for path in take(args.out, work=Path(work), browser_path=browser_path):
            print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
