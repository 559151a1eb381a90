"""The headless Chromium the browser tests share: the `browser` and `page` fixtures
(screenshots on failure) and asking in the chat."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")


def _shot_dir() -> Path | None:
    wanted = os.environ.get("RAG_SCREENSHOTS", "")
    if not wanted:
        return None
    return Path(wanted) if wanted not in ("1", "true", "yes") else (
        ROOT / "test-artifacts" / "screenshots")


# Module scope: Playwright's sync API keeps an event loop running in the main thread
# while it is open, which breaks every async test after this module (langchain-tests').
@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `apt-get install chromium` (.ci/run does it)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    yield pg
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    folder = _shot_dir() or (ROOT / "test-artifacts" / "screenshots" if failed else None)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        pg.screenshot(path=str(folder / f"{name}{'-FAILED' if failed else ''}.png"),
                      full_page=True)
    context.close()


def ask_in_chat(page, question: str) -> None:  # type: ignore[no-untyped-def]
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
