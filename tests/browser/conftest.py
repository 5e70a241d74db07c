"""Playwright in Debian's Chromium against pytest-django's live server.

Never ``playwright install``: the browser is /usr/bin/chromium from apt.
Under CI=true a missing Chromium fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# Long walks, which CI runs against PostgreSQL and the rest against SQLite (.ci/run): a screen does not
# change with the database, so each walk runs once, and both passes take about as long.
PG_PASS = {"test_agent_tools_story.py", "test_conversation_story.py", "test_deferrals.py", "test_email_story.py"}


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if Path(item.fspath).name in PG_PASS:
                item.add_marker(pytest.mark.pg_pass)
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            raise pytest.UsageError(f"Chromium not found at {CHROMIUM}; CI requires the browser tests.")
        skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def playwright(playwright):
    """pytest-playwright's, closing Django's connections before it stops.

    While Playwright's sync API is started its event loop counts as running in this thread, so asgiref's Local keeps
    the connections Django opens from then on in a context variable instead of the thread's storage. Once Playwright
    stops they are out of sight of ``connections.close_all()``, and the test database's teardown found one of them
    still open ("database test_test is being accessed by other users").
    """
    yield playwright
    connections.close_all()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def screenshot(page, request):
    """``screenshot("name")`` saves a full-page PNG under test-artifacts/ to look at."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(page, live_server):
    """Log in through the real form as ``username`` (password ``pass12345``)."""

    def do(username: str, password: str = "pass12345", language: str = "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page.goto(f"{live_server.url}/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()

    return do
