"""Deadline deferral in a real browser: the engineer asks, the manager rules, the report counts it."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from deferrals import services as deferrals
from deferrals.models import DeferralCause
from tests.factories import MembershipFactory, QueueFactory, TicketFactory, UserFactory
from tickets.models import Status, Ticket
from tickets.templatetags.opsdesk import format_dt

ALMATY = ZoneInfo("Asia/Almaty")


def log_out(page):
    page.click(".logout-form button")
    page.wait_for_url(re.compile(r"/login/"))


def local_input(value) -> str:
    return value.astimezone(ALMATY).strftime("%Y-%m-%dT%H:%M")


def test_an_engineer_asks_the_manager_rules_subjective_and_the_report_counts_it(page, live_server, login, screenshot):
    from django.utils import timezone

    queue = QueueFactory(name="Service", slug="service")
    maria = UserFactory(username="maria", role="manager", profile__display_name="Maria Manager")
    erlan = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer",
                        profile__manager=maria)
    MembershipFactory(queue=queue, user=erlan)
    now = timezone.now().replace(second=0, microsecond=0)
    # Earlier this month: two tickets done, one deferral ruled objective.
    for title in ("Boiler check", "Meter reading"):
        TicketFactory(queue=queue, title=title, performer=erlan, owner=erlan, status=Status.DONE,
                      done_at=now - timedelta(minutes=1), deadline=now + timedelta(hours=1))
    earlier = TicketFactory(queue=queue, title="Roof leak", performer=erlan, owner=erlan,
                            status=Status.IN_PROGRESS, deadline=now + timedelta(hours=3))
    supplier = DeferralCause.objects.get(code="supplier")
    old = deferrals.deferral_request(earlier, actor=erlan, cause=supplier, explanation="Tiles on order",
                                     proposed_deadline=now + timedelta(days=3))
    deferrals.deferral_decide(old, actor=maria, verdict="objective", new_deadline=now + timedelta(days=3))
    ticket = TicketFactory(queue=queue, title="Router swap at the warehouse", performer=erlan, owner=erlan,
                           status=Status.IN_PROGRESS, deadline=now + timedelta(hours=2))

    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))

    # The engineer asks for two more days.
    login("erlan")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(page.locator("[data-sla-due]")).to_be_visible()
    page.click("text=Request deferral")
    page.select_option("#deferral_cause", label="A supplier or contractor delayed")
    page.fill("#deferral_explanation", "The new router arrives from Astana on Thursday.")
    page.fill("#deferral_proposed_deadline", local_input(now + timedelta(days=2)))
    page.click("[data-deferral-request-form] button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("Maria Manager")
    expect(page.locator("[data-deferral-pending]")).to_contain_text("Deferral pending")
    expect(page.locator("[data-internal-deadline]")).to_have_text(format_dt_almaty(ticket.deadline))
    log_out(page)

    # The manager sees the count in the header and opens the approval screen.
    login("maria")
    badge = page.locator("[data-pending-approvals]")
    expect(badge).to_have_attribute("data-pending-approvals", "1")
    expect(badge).to_contain_text("1")
    badge.click()
    expect(page.locator("h1")).to_contain_text("Approvals")
    page.locator("tr", has_text="Router swap").locator("text=Review").click()
    expect(page.locator("[data-deferral-request]")).to_contain_text("The new router arrives from Astana")
    expect(page.locator("table.deferral-table")).to_contain_text("Roof leak")  # the earlier deferral
    expect(page.locator(".sla-panel")).to_be_visible()
    expect(page.locator("#id_new_deadline")).to_have_value(local_input(now + timedelta(days=2)))
    new_deadline = now + timedelta(days=3, hours=1)
    page.check("#id_verdict_1")  # subjective
    page.fill("#id_new_deadline", local_input(new_deadline))
    expect(page.locator("#new-distance")).to_contain_text("after the old deadline")
    page.fill("#id_comment", "Order parts earlier next time.")
    screenshot("1-approval")
    page.click("[data-decision-form] button[type=submit]")
    expect(page.locator(".message-success")).to_contain_text("Subjective")
    expect(page.locator("[data-pending-approvals]")).to_have_attribute("data-pending-approvals", "0")
    log_out(page)

    # The engineer sees the new deadline and the verdict.
    login("erlan")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    expect(page.locator("[data-internal-deadline]")).to_have_text(format_dt_almaty(new_deadline))
    expect(page.locator("[data-deferral-last]")).to_contain_text("Subjective")
    expect(page.locator("[data-deferral-last]")).to_contain_text("Order parts earlier next time.")
    screenshot("2-engineer-ticket")
    log_out(page)
    assert Ticket.objects.get(pk=ticket.pk).deadline == new_deadline

    # The discipline report of this month: 2 completed, 1 objective, 1 subjective → (1 − 1) + 2 = 2.
    login("maria")
    page.goto(f"{live_server.url}/reports/discipline/")
    row = page.locator(f"tr[data-employee='{erlan.pk}']")
    numbers = {metric: row.locator(f"[data-metric={metric}]").inner_text()
               for metric in ("completed", "objective", "subjective", "declined", "coefficient")}
    assert numbers == {"completed": "2", "objective": "1", "subjective": "1", "declined": "0", "coefficient": "2"}
    expect(page.locator("svg.chart")).to_contain_text("Erlan Engineer")
    screenshot("3-report")
    href = page.locator("[data-export=csv]").get_attribute("href")
    response = page.context.request.get(f"{live_server.url}{href}")
    assert response.ok
    rows = list(csv.reader(io.StringIO(response.body().decode("utf-8-sig"))))
    erlan_row = next(r for r in rows if r[1] == "erlan")
    assert erlan_row[0] == "Erlan Engineer"
    assert [erlan_row[2], erlan_row[4], erlan_row[5], erlan_row[6], erlan_row[8]] == [
        numbers["completed"], numbers["objective"], numbers["subjective"], numbers["declined"], numbers["coefficient"]
    ]
    assert erlan_row[7] != ""  # the decision time, in hours
    assert erlan_row[9] == "50"
    assert not problems, problems


def format_dt_almaty(value) -> str:
    from django.utils import timezone

    with timezone.override(ALMATY):
        return format_dt(value)
