"""Lists that stay current (issue 19, careful user 6): SLA badges count down in the browser from the due instant
the page carries, without a request; the header badges refresh with htmx; the dashboard's refresh keeps the
sections a user opened. Desktop and phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from notifications.models import Urgency
from notifications.service import notify
from sla.models import SLAPolicy
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tests.sla.conftest import make_calendar
from tickets import services
from tickets.models import BlockingReason, Status

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


UNITS = {"en": ("h", "min"), "ru": ("ч", "мин")}


@pytest.mark.parametrize(("size", "lang"), [("desktop", "en"), ("phone", "ru")])
def test_sla_badges_count_down_and_the_inbox_badge_refreshes(page, live_server, login, screenshot, size, lang):
    h, m = UNITS[lang]  # the browser writes the server's unit words in the page's language
    calendar = make_calendar("24/7", {d: [("00:00", "24:00")] for d in range(7)})
    SLAPolicy.objects.create(
        name="Around the clock", precedence=1, calendar=calendar,
        first_response_target=timedelta(hours=2), resolution_target=timedelta(hours=24),
    )
    queue = QueueFactory(name="Service", slug="service")
    engineer = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=engineer)
    services.ticket_create(
        actor=engineer, title="Washing machine leaks", customer=CustomerFactory(), queue=queue,
        description="water", performer=engineer,
    )
    waiting = services.ticket_create(
        actor=engineer, title="Fridge is warm", customer=CustomerFactory(), queue=queue,
        description="warm", performer=engineer,
    )
    services.ticket_change_status(
        waiting, status=Status.WAITING, actor=engineer, reason=BlockingReason.objects.get(code="customer")
    )
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.set_viewport_size(SIZES[size])
    page.clock.install()  # the page's clock runs in real time until the test moves it
    login("erlan", language=lang)
    page.goto(live_server.url + reverse("tickets:my_work"))
    row = page.locator("tr", has_text="Washing machine leaks")
    fr = row.locator(".sla-badge").first  # first response (FR, «ПО» in Russian)
    paused = page.locator("tr", has_text="Fridge is warm").locator(".sla-badge.sla-is-paused").first
    expect(fr).to_have_attribute("data-sla-due", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"))
    expect(fr.locator(".sla-time")).to_have_text(re.compile(rf"^(2 {h}|1 {h} 59 {m})$"))
    expect(fr).to_have_class(re.compile(r"\bsla-green\b"))
    paused_text = paused.inner_text()
    assert paused.get_attribute("data-sla-due") is None
    screenshot(f"{size}-1-fresh")

    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.clock.fast_forward("01:40:00")  # 1 h 40 min of 2 h consumed: 83 %
    expect(fr.locator(".sla-time")).to_have_text(re.compile(rf"^(20|19) {m}$"))
    expect(fr).to_have_class(re.compile(r"\bsla-orange\b"))
    page.clock.fast_forward("00:30:00")
    expect(fr.locator(".sla-time")).to_have_text(re.compile(rf"^−(10|9) {m}$"))
    expect(fr).to_have_class(re.compile(r"\bsla-red\b"))
    assert paused.inner_text() == paused_text  # a paused clock does not count down
    assert all("/notifications/badges/" in url for url in requests), requests  # no page reload, no SLA request
    screenshot(f"{size}-2-counted-down")

    expect(page.locator(".inbox-badge")).to_have_attribute("data-unread", "0")
    notify(engineer, kind="t", urgency=Urgency.ROUTINE, title="A new reply: Washing machine leaks", body="")
    with page.expect_response(re.compile(r"/notifications/badges/")):
        page.clock.fast_forward("01:05")  # past the 60 s htmx interval
    expect(page.locator(".inbox-badge")).to_have_attribute("data-unread", "1")
    expect(page.locator(".inbox-badge-count")).to_contain_text("1")
    screenshot(f"{size}-3-inbox-refreshed")
    assert problems == []


def test_the_dashboard_refresh_keeps_the_sections_a_user_opened(page, live_server, login, screenshot):
    manager = UserFactory(username="maria", role="manager", profile__display_name="Maria Manager")
    queue = QueueFactory(name="Service", slug="service", manager=manager)
    MembershipFactory(queue=queue, user=manager)
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))
    page.clock.install()
    login("maria")
    page.goto(live_server.url + reverse("reports:dashboard"))
    table = page.locator("details[data-keep-open=trend-table]")
    expect(table).not_to_have_attribute("open", "")
    table.locator("summary").click()
    expect(table).to_have_attribute("open", "")
    breakdowns = page.locator("details.breakdown")
    first_closed = breakdowns.count() > 0
    if first_closed:
        breakdowns.first.locator("summary").click()  # open by default: the user closes it
        expect(breakdowns.first).not_to_have_attribute("open", "")
    stamp = page.locator("#dashboard-body").get_attribute("data-refreshed")
    with page.expect_response(re.compile(r"/reports/dashboard/")):
        page.clock.fast_forward("00:50")  # past the 45 s refresh
    expect(page.locator("#dashboard-body")).not_to_have_attribute("data-refreshed", stamp or "")
    expect(table).to_have_attribute("open", "")
    if first_closed:
        expect(breakdowns.first).not_to_have_attribute("open", "")
    screenshot("after-refresh")
    page.reload()
    expect(page.locator("details[data-keep-open=trend-table]")).to_have_attribute("open", "")
    assert problems == []
