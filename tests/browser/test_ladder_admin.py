"""The escalation ladder admin in a real browser: one compact row per level, names that follow their trigger."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from escalations.defaults import DEFAULT_LADDER, install_default_ladders
from escalations.models import EscalationLevel
from tests.factories import UserFactory

# A page a person can scan: the default ladder's change page was about 10,500 px tall with stacked levels.
# At most about 200 px per level on a phone (the default ladder grew with the next reply's own levels).
MAX_HEIGHT = 200 * len(DEFAULT_LADDER) + 700


def page_height(page) -> int:
    return page.evaluate("document.documentElement.scrollHeight")


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_an_admin_moves_a_trigger_to_60_percent_and_the_level_name_follows(
    page, live_server, login, screenshot, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    policy = install_default_ladders()[DEFAULT_LADDER]
    warning = policy.levels.get(order=10)
    login("root")
    page.goto(f"{live_server.url}/admin/escalations/escalationpolicy/{policy.pk}/change/")
    measured = page_height(page)
    print(f"ladder admin page height at {width} px: {measured} px")
    screenshot("before")
    assert measured < MAX_HEIGHT

    row = page.locator(f"tr:has(input[name$='-id'][value='{warning.pk}'])")
    expect(row).to_contain_text("Warning: 50 % of the target used — performer")
    row.locator("input[name$='-trigger_percent']").fill("60")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()

    row = page.locator(f"tr:has(input[name$='-id'][value='{warning.pk}'])")
    expect(row).to_contain_text("Warning: 60 % of the target used — performer")
    expect(page.locator("body")).not_to_contain_text("50 % of the target used")
    warning = EscalationLevel.objects.get(pk=warning.pk)
    assert (warning.trigger_percent, warning.name) == (60, "")
    assert page_height(page) < MAX_HEIGHT
    screenshot("after")

    # The rarely used fields are on the level's own page, one click away.
    row.get_by_role("link", name="Change").click()
    expect(page.locator("h2, h1").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("Named users")
    screenshot("level")
