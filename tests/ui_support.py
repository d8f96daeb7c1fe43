"""The platform plugin's pages in headless Chromium (Debian's, as tests/services/browser.py drives it),
signed in to a local Airflow; screenshots go to the test artifacts folder."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "services"))
from browser import CHROMIUM_ARGS, ensure_chromium  # noqa: E402


def artifacts_dir() -> Path:
    from dataops import paths

    folder = Path(os.environ.get("DATAOPS_TEST_ARTIFACTS") or paths.repo_root() / ".dataops" / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def signed_in(url: str, user: str, password: str, height: int = 1000) -> Iterator[object]:
    """A Playwright page signed in to Airflow's UI at ``url`` (a plugin's frame is as tall as the window)."""
    from playwright.sync_api import sync_playwright

    chromium = ensure_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": height})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/")
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", password)
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(r"^(?!.*/auth/login).*$"))
            yield page
        finally:
            browser.close()


def plugin_frame(page, ui_path: str, title: str):
    """Opens the UI at ``ui_path`` (a plugin's view) and returns the frame of the plugin's page,
    once ``title`` shows in its visible text."""
    page.goto(ui_path)
    frame_element = page.wait_for_selector("iframe")
    frame = frame_element.content_frame()
    frame.wait_for_function("text => document.body && document.body.innerText.includes(text)", arg=title)
    return frame


def plugin_tab(page, tab: str, src_part: str, title: str, link: str | None = None):
    """Clicks the UI's ``tab`` (after ``link``, when given, e.g. the DAG's breadcrumb), in the page
    as it is (the UI routes without reloading), and returns the plugin frame whose address holds
    ``src_part``, once ``title`` shows in it."""
    if link is not None:
        page.get_by_role("link", name=link, exact=True).first.click()
    page.get_by_role("link", name=tab, exact=True).first.click()
    handle = page.wait_for_selector(f"iframe[src*='{src_part}']")
    frame = handle.content_frame()
    frame.wait_for_function("text => document.body && document.body.innerText.includes(text)", arg=title)
    return frame
