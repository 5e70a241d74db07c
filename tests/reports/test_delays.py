"""Waiting segments recorded by the ticket lifecycle, and the causes-of-delay report built on them."""

from __future__ import annotations

from django.urls import reverse

from escalations.models import ManualEscalation
from tests.factories import TicketFactory, UserFactory
from tests.reports.conftest import PERIOD, almaty
from tests.reports.helpers import csv_sections, page_sections
from tickets import services
from tickets.models import Status, WaitSegment


def test_waiting_opens_a_segment_a_new_reason_closes_it_and_leaving_measures_business_time(
        week, time_machine, engineer, waiting_reason, no_stock):
    ticket = week["tickets"]["T7"]  # office calendar through its resolution clock
    time_machine.move_to(almaty(2026, 3, 9, 12), tick=False)  # Monday
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=no_stock)
    time_machine.move_to(almaty(2026, 3, 9, 15), tick=False)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    time_machine.move_to(almaty(2026, 3, 10, 10), tick=False)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    segments = list(WaitSegment.objects.filter(ticket=ticket).order_by("started_at"))
    assert [(s.reason.code, s.business_seconds) for s in segments] == [
        ("no-stock", 2 * 3600.0),  # 12–13 and 14–15 (lunch is not working time)
        ("customer", 4 * 3600.0),  # 15–18 Monday, 09–10 Tuesday
    ]
    assert all(s.ended_at is not None for s in segments)


def test_a_ticket_without_sla_waits_in_calendar_time(time_machine, engineer, dispatcher, queue, no_stock):
    time_machine.move_to(almaty(2026, 3, 6, 17), tick=False)
    ticket = TicketFactory(queue=queue, performer=engineer, status=Status.IN_PROGRESS)
    services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=no_stock)
    time_machine.move_to(almaty(2026, 3, 7, 9), tick=False)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    assert WaitSegment.objects.get(ticket=ticket).business_seconds == 16 * 3600.0


def test_the_report_sums_waiting_by_reason_queue_and_customer(client, week, viewer):
    client.force_login(viewer)
    sections = page_sections(client.get(reverse("reports:delays"), PERIOD))
    # Waits still open count up to the period's end: T9 (customer, Fri 15–18) and T8 (no stock, Fri 11–13, 14–18).
    assert sections["reason"] == [["Waiting for the customer", "11 h", "2", "2"], ["No stock", "6 h", "1", "1"]]
    assert sections["queue"] == [["Service", "17 h", "3", "3"]]
    assert sections["customer"] == [["Acme", "9 h", "2", "2"], ["Globex", "8 h", "1", "1"]]
    t2, t8, t9 = (f"#{week['tickets'][n].pk}" for n in ("T2", "T8", "T9"))
    assert [(r[0], r[2], r[4], r[5]) for r in sections["stalls"]] == [
        (t2, "Waiting for the customer", "8 h", "ended"),
        (t8, "No stock", "6 h", "still waiting"),  # Friday 11–13 and 14–18, up to Saturday
        (t9, "Waiting for the customer", "3 h", "still waiting"),
    ]


def test_bounces_between_queues_and_people_are_counted(client, week, viewer, time_machine, other_queue, manager):
    ticket = week["tickets"]["T7"]
    time_machine.move_to(almaty(2026, 3, 6, 17, 10), tick=False)
    services.ticket_update(ticket, actor=manager, queue=other_queue)
    ManualEscalation.objects.create(ticket=ticket, kind=ManualEscalation.Kind.FUNCTIONAL, actor=manager,
                                    reason="Finance", from_queue=other_queue, created_at=almaty(2026, 3, 6, 17, 20))
    colleague = UserFactory(username="colleague", role="engineer", profile__manager=manager)
    services.ticket_assign(ticket, performer=colleague, actor=manager)
    client.force_login(viewer)
    sections = page_sections(client.get(reverse("reports:delays"), PERIOD))
    assert [(r[0], r[2]) for r in sections["queues"]] == [(f"#{ticket.pk}", "2")]
    assert [(r[0], r[2]) for r in sections["people"]] == [(f"#{ticket.pk}", "1")]  # first assignments do not count


def test_the_csv_export_has_the_pages_rows(client, week, viewer):
    client.force_login(viewer)
    blocks = csv_sections(client.get(reverse("reports:delays"), {**PERIOD, "format": "csv"}))
    assert blocks["By blocking reason"] == [["Name", "Waiting, h", "Waits", "Tickets"],
                                            ["Waiting for the customer", "11.0", "2", "2"],
                                            ["No stock", "6.0", "1", "1"]]


def test_the_reason_link_opens_the_tickets_that_waited(client, week, viewer):
    client.force_login(viewer)
    response = client.get(reverse("reports:delays"), PERIOD)
    assert f"/tickets/?waited={week['reason_customer'].pk}&amp;period_from=2026-03-02" in response.content.decode()
