"""The manager dashboard and the reports in a real browser, on a phone and on a desktop, in English and Russian."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import time_machine as time_machine_lib
from playwright.sync_api import expect

from tests.reports.conftest import office, policy, viewer, week  # noqa: F401 - fixtures

MARCH = "period=custom&date_from=2026-03-02&date_to=2026-03-06"


def no_horizontal_scroll(page) -> bool:
    """The page's content fits the screen (wide tables scroll inside their own box)."""
    return page.evaluate("document.querySelector('main').scrollWidth <= window.innerWidth + 1")


def test_a_manager_reads_the_dashboard_follows_the_red_zone_and_opens_the_reports(
        page, live_server, login, screenshot, week, viewer, time_machine):  # noqa: F811
    real_now = datetime.fromtimestamp(time_machine_lib.escape_hatch.time.time(), tz=UTC)
    time_machine.move_to(real_now, tick=True)  # the week is built; the browser runs in real time
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.set_viewport_size({"width": 390, "height": 844})
    login("manager")
    page.goto(f"{live_server.url}/reports/dashboard/?{MARCH}")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator("[data-figure=compliance-first_response] .tile-value")).to_have_text("83.3 %")
    expect(page.locator("[data-figure=compliance-resolution] .tile-value")).to_have_text("66.7 %")
    screenshot("phone-en")
    assert no_horizontal_scroll(page)

    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    screenshot("desktop-en")

    # Switch the period to a preset and back to the week by dates.
    page.click("[data-period='7d']")
    expect(page).to_have_url(re.compile(r"period=7d"))
    page.fill("input[name=date_from]", "2026-03-02")
    page.fill("input[name=date_to]", "2026-03-06")
    page.click(".period-switch button[type=submit]")
    expect(page.locator("[data-period-range]")).to_have_text("2 Mar 2026 – 6 Mar 2026")

    # The red-zone figure opens exactly the tickets it counted.
    red = page.locator("[data-figure=red_zone] .tile-value").inner_text()
    page.click("[data-figure=red_zone]")
    expect(page).to_have_url(re.compile(r"/tickets/\?zone=red"))
    expect(page.locator("h1 .count")).to_have_text(red)

    # The causes of delay, exported as CSV.
    page.goto(f"{live_server.url}/reports/")
    page.click("a.report-link[href='/reports/delays/']")
    page.goto(f"{live_server.url}/reports/delays/?{MARCH}")
    expect(page.locator("[data-section=reason] tbody tr").first).to_contain_text("Waiting for the customer")
    with page.expect_download() as download_info:
        page.click("[data-export=csv]")
    content = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert "By blocking reason" in content and "Waiting for the customer,11.0,2,2" in content  # open waits count
    screenshot("delays-en")

    page.goto(f"{live_server.url}/reports/calibration/?{MARCH}")
    expect(page.locator("[data-advice]")).to_contain_text("First observe")
    expect(page.locator("[data-section=summary] tbody tr")).to_have_count(2)
    screenshot("calibration-en")
    page.goto(f"{live_server.url}/reports/staffing/?{MARCH}")
    expect(page.locator("[data-section=hours] tbody tr")).to_have_count(24)
    screenshot("staffing-en")

    # Russian, phone and desktop.
    page.context.add_cookies([{"name": "django_language", "value": "ru", "url": live_server.url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/reports/dashboard/?{MARCH}")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert no_horizontal_scroll(page)
    screenshot("phone-ru")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    screenshot("desktop-ru")
    page.goto(f"{live_server.url}/reports/sla/?{MARCH}")
    screenshot("sla-ru")
    assert problems == []
