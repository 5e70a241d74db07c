"""A hand-computed week for the dashboard and reports (Asia/Almaty, office calendar Mon–Fri 09–13 & 14–18).

Policy: first response 2 h, resolution 8 h of business time. The current period is Mon 2 – Fri 6
March 2026, the previous one Wed 25 February – Sun 1 March; "now" is Saturday 7 March 10:00.
Every number the tests expect is worked out in the docstring of ``week``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from deferrals.models import DeferralCause, DeferralRequest
from escalations.models import EscalationLevel, EscalationPolicy, Firing, ManualEscalation
from reports import rollups
from sla.models import Calendar, CalendarWindow, SLAClock, SLAPolicy
from tests.factories import CustomerFactory, TicketTypeFactory
from tickets import services
from tickets.models import BlockingReason, Status

ALMATY = ZoneInfo("Asia/Almaty")
PERIOD = {"period": "custom", "date_from": "2026-03-02", "date_to": "2026-03-06"}


def almaty(*args) -> datetime:
    return datetime(*args, tzinfo=ALMATY)


@pytest.fixture
def office(db) -> Calendar:
    calendar = Calendar.objects.create(name="Almaty office", time_zone="Asia/Almaty")
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=d, start=s, end=e)
        for d in range(5) for s, e in (("09:00", "13:00"), ("14:00", "18:00"))
    )
    calendar.save()
    return calendar


@pytest.fixture
def policy(office) -> SLAPolicy:
    return SLAPolicy.objects.create(name="Standard", precedence=1, calendar=office,
                                    first_response_target=timedelta(hours=2), resolution_target=timedelta(hours=8))


@pytest.fixture(params=["clocks", "rollups"])
def week(request, time_machine, policy, queue, engineer, dispatcher, manager):
    """The tickets (first response FR, resolution RES; business time on the office calendar):

    previous period
      T0 Fri 27 Feb 09:00, reply 09:10 (FR 10 min), done 10:00 (RES 1 h): both met, on time.
    current period
      T1 Mon 09:00, reply 09:30 (FR 30 min), done 12:00 (RES 3 h): met, on time.
      T2 Mon 10:00, reply Tue 10:00 (FR 8 h: breached), waits for the customer Tue 11:00 – Wed 11:00
         (8 business hours, resolution paused), done Wed 12:00 (RES 7 + 2 + 1 = 10 h: breached, late).
      T3 Mon 00:30 local (Sunday 19:30 UTC), reply 00:40, done 00:50: FR 0, RES 0, met, on time, and
         counted on Monday.
    open at Saturday 10:00
      T6 Fri 09:00, nobody: FR and RES past due → red zone; no next step.
      T7 Fri 16:00, reply 16:30 (FR 30 min); RES 2 h of 8 (25 %); next step set; a deferral pending.
      T8 Fri 10:00, reply 10:30 (FR 30 min); waits for no stock (does not pause) from 11:00; RES 7 h
         = 87.5 % → red zone.
      T9 Fri 14:00, reply 14:20 (FR 20 min); waits for the customer from 15:00 (RES paused at 1 h).
    FR stopped in the period: 0, 20, 30, 30, 30, 480 min → 5 of 6 met (83.3 %), median 30 min,
    average 98 min 20 s, P90 255 min. RES: 0, 3 h, 10 h → 2 of 3 (66.7 %), median 3 h, average
    4 h 20 min, P90 8 h 36 min. Escalations: level 1 and level 2 once each in the period (T2),
    level 1 once before (T0); one hierarchical manual escalation (T2).
    """
    queue.manager = manager  # the manager sees the whole queue, unassigned tickets too
    queue.save()
    ttype = TicketTypeFactory(name="Standard request", slug="standard")
    customer = CustomerFactory(name="Acme")
    other_customer = CustomerFactory(name="Globex")
    reason_customer = BlockingReason.objects.get(code="customer")
    reason_stock = BlockingReason.objects.get(code="no-stock")
    tickets = {}

    def at(*fields):
        time_machine.move_to(almaty(*fields), tick=False)

    def create(name, *fields, performer=engineer, cust=customer):
        at(*fields)
        tickets[name] = services.ticket_create(actor=dispatcher, title=f"{name} printer 12 jams", customer=cust,
                                               queue=queue, ticket_type=ttype, description="It jams.",
                                               performer=performer)
        return tickets[name]

    def reply(name, *fields):
        at(*fields)
        services.ticket_reply(tickets[name], body="On it.", actor=engineer)

    def status(name, value, *fields, reason=None):
        at(*fields)
        services.ticket_change_status(tickets[name], status=value, actor=engineer, reason=reason)

    create("T0", 2026, 2, 27, 9)
    reply("T0", 2026, 2, 27, 9, 10)
    status("T0", Status.DONE, 2026, 2, 27, 10)

    create("T1", 2026, 3, 2, 9)
    reply("T1", 2026, 3, 2, 9, 30)
    status("T1", Status.DONE, 2026, 3, 2, 12)

    create("T2", 2026, 3, 2, 10, cust=other_customer)
    reply("T2", 2026, 3, 3, 10)
    status("T2", Status.WAITING, 2026, 3, 3, 11, reason=reason_customer)
    at(2026, 3, 4, 11)
    services.ticket_receive_customer_message(tickets["T2"], body="Here you go", channel="email")
    status("T2", Status.DONE, 2026, 3, 4, 12)

    create("T3", 2026, 3, 2, 0, 30)
    reply("T3", 2026, 3, 2, 0, 40)
    status("T3", Status.DONE, 2026, 3, 2, 0, 50)

    create("T6", 2026, 3, 6, 9, performer=None)
    create("T7", 2026, 3, 6, 16)
    reply("T7", 2026, 3, 6, 16, 30)
    at(2026, 3, 6, 16, 40)
    services.ticket_set_next_step(tickets["T7"], actor=engineer, text="Call back", due=None)
    create("T8", 2026, 3, 6, 10)
    reply("T8", 2026, 3, 6, 10, 30)
    status("T8", Status.WAITING, 2026, 3, 6, 11, reason=reason_stock)
    create("T9", 2026, 3, 6, 14)
    reply("T9", 2026, 3, 6, 14, 20)
    status("T9", Status.WAITING, 2026, 3, 6, 15, reason=reason_customer)

    at(2026, 3, 6, 17)
    t7 = tickets["T7"]
    t7.refresh_from_db()
    DeferralRequest.objects.create(
        ticket=t7, requested_by=engineer, addressed_to=manager, cause=DeferralCause.objects.get(code="other"),
        explanation="Waiting for parts", old_deadline=t7.deadline, proposed_deadline=almaty(2026, 3, 20),
    )

    ladder = EscalationPolicy.objects.create(name="Report ladder")
    level1 = EscalationLevel.objects.create(policy=ladder, order=1, name="Warning", trigger_percent=50)
    level2 = EscalationLevel.objects.create(policy=ladder, order=2, name="Shift lead", trigger_percent=80)

    def fire(name, level, *fields):
        clock = SLAClock.objects.get(ticket=tickets[name], kind=SLAClock.Kind.FIRST_RESPONSE)
        Firing.objects.create(clock=clock, level=level, generation=clock.generation, ticket=tickets[name],
                              due_at=almaty(*fields), fired_at=almaty(*fields))

    fire("T2", level1, 2026, 3, 2, 11)
    fire("T2", level2, 2026, 3, 2, 12)
    fire("T0", level1, 2026, 2, 27, 9, 5)
    ManualEscalation.objects.create(ticket=tickets["T2"], kind=ManualEscalation.Kind.HIERARCHICAL, actor=engineer,
                                    reason="Needs a decision", to_user=manager, created_at=almaty(2026, 3, 3, 12))
    at(2026, 3, 7, 10)
    for ticket in tickets.values():
        ticket.refresh_from_db()
    if request.param == "rollups":  # every figure again, read from the rollups (reports.rollups)
        rollups.rebuild()
    return {"tickets": tickets, "type": ttype, "customer": customer, "other_customer": other_customer,
            "reason_customer": reason_customer, "reason_stock": reason_stock, "level1": level1}


@pytest.fixture
def viewer(manager):
    manager.profile.time_zone = "Asia/Almaty"
    manager.profile.save()
    return manager



@pytest.fixture(autouse=True)
def _replies_reach_the_customer_at_once(replies_delivered_at_once):
    """Here a reply counts the instant it is written; tests/channels/ covers delivery later than the click."""
