"""The escalation sweep with frozen time: the seed's worked example, weekends, pauses, retargets, exactly once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels import outbox
from escalations import sweep as sweep_module
from escalations.defaults import DEFAULT_LADDER, install_default_ladders
from escalations.demo import arm_clocks
from escalations.models import ContactRole, EscalationLevel, Firing, QueueEscalationContact, TicketEscalationState
from escalations.sweep import RETRY_DELAY, sweep
from notifications.models import Notification
from sla.models import SLAClock
from sla.selectors import clock_view
from tests.factories import CustomerFactory, UserFactory
from tickets import services
from tickets.models import Message, Priority, Status, Ticket

from .ladders import WORKED_EXAMPLE, ladder, office_calendar, sla_policy

ALMATY = ZoneInfo("Asia/Almaty")
MONDAY_10 = datetime(2026, 3, 16, 10, 0, tzinfo=ALMATY)


def at(hours: float = 0, minutes: float = 0, start: datetime = MONDAY_10) -> datetime:
    return start + timedelta(hours=hours, minutes=minutes)


@pytest.fixture
def calendar(db):
    return office_calendar()


@pytest.fixture
def standard(calendar):
    return sla_policy(calendar, name="Standard request")


@pytest.fixture
def director(db):
    return UserFactory(username="director", role="manager")


@pytest.fixture
def shop(standard, dispatcher, director):
    """The electronics shop: the worked-example ladder, the dispatcher leads the shift."""
    QueueEscalationContact.objects.create(queue=None, role=ContactRole.SHIFT_LEAD, user=dispatcher)
    QueueEscalationContact.objects.create(queue=None, role=ContactRole.DIRECTOR, user=director)
    return ladder("Electronics shop", WORKED_EXAMPLE, sla_policies=[standard])


def open_ticket(when: datetime, queue, performer=None, *, customer=None, title="Washing machine leaks") -> Ticket:
    with time_machine.travel(when, tick=False):
        return services.ticket_create(
            actor=None, title=title, customer=customer or CustomerFactory(), queue=queue, performer=performer
        )


def run(when: datetime) -> dict:
    with time_machine.travel(when, tick=False):
        return sweep(when)


def counts(result: dict) -> tuple[int, int, int]:
    return result["due"], result["fired"], result["breached"]


def fr_clock(ticket) -> SLAClock:
    return SLAClock.objects.select_related("calendar").get(ticket=ticket, kind="first_response")


def notices(user) -> list[str]:
    rows = Notification.objects.filter(recipient=user, kind__startswith="escalation").order_by("pk")
    return list(rows.values_list("kind", flat=True))


def test_the_worked_example_walks_yellow_thirty_minutes_red_then_reassigned(
    shop, queue, engineer, dispatcher, director
):
    ticket = open_ticket(MONDAY_10, queue, engineer)
    clock = fr_clock(ticket)
    assert clock.next_escalation_at == at(1)

    assert run(at(0, 59))["fired"] == 0
    assert notices(engineer) == []

    # 1 h: the yellow "SLA soon" mark and the warning to the performer.
    result = run(at(1))
    assert (result["due"], result["fired"], result["breached"]) == (1, 1, 0)
    clock = fr_clock(ticket)
    assert clock_view(clock, at(1)).colour == "yellow"
    assert notices(engineer) == ["escalation.level_10"]
    assert clock.next_escalation_at == at(1, 30)

    # 1.5 h: "30 min left" to the performer.
    assert run(at(1, 30))["fired"] == 1
    notice = Notification.objects.filter(recipient=engineer).latest("pk")
    assert notice.title == f"30 minutes left: #{ticket.pk} Washing machine leaks"
    assert notice.body == ("First response: 30 min of business time left. Expected: answer the customer by 16.03 "
                           f"12:00. http://127.0.0.1:8000/tickets/{ticket.pk}/")
    assert notice.url == f"/tickets/{ticket.pk}/"

    # 2 h: red, and the shift lead is told.
    result = run(at(2, 1))
    assert (result["fired"], result["breached"]) == (1, 1)
    clock = fr_clock(ticket)
    assert clock.breached_at == at(2)
    assert clock_view(clock, at(2, 1)).colour == "red"
    assert notices(dispatcher) == ["escalation.level_30"]
    assert Notification.objects.get(recipient=dispatcher).urgency == "critical"

    # 3 h (13:00, business time of a day with a lunch break): reassigned to the shift lead, the director told.
    assert run(at(2, 59))["fired"] == 0
    assert run(at(3))["fired"] == 1
    ticket.refresh_from_db()
    assert ticket.performer == dispatcher
    assert notices(director) == ["escalation.level_40"]
    assert fr_clock(ticket).next_escalation_at is None  # nothing left on this clock
    kinds = list(ticket.events.filter(kind="ticket.escalated").values_list("data__level_name", flat=True))
    assert kinds == ["SLA soon", "30 minutes left", "Breached", "Reassigned"]


def test_a_friday_evening_ticket_alerts_nobody_over_the_weekend(shop, queue, engineer):
    friday = datetime(2026, 3, 13, 17, 45, tzinfo=ALMATY)
    ticket = open_ticket(friday, queue, engineer)
    assert fr_clock(ticket).next_escalation_at == datetime(2026, 3, 16, 9, 45, tzinfo=ALMATY)
    for moment in (at(0, 45, friday), at(18, 15, friday), at(42, 15, friday), at(62, 0, friday)):
        assert counts(run(moment)) == (0, 0, 0)
    assert Notification.objects.filter(kind__startswith="escalation").count() == 0
    assert run(datetime(2026, 3, 16, 9, 45, tzinfo=ALMATY))["fired"] == 1
    assert notices(engineer) == ["escalation.level_10"]


def test_pausing_clears_the_next_escalation_and_resuming_recomputes_it(standard, queue, engineer, waiting_reason):
    ladder("Resolution", [{"name": "Half", "clock": "resolution", "trigger_percent": 50, "to_performer": True}],
           sla_policies=[standard])
    ticket = open_ticket(MONDAY_10, queue, engineer)
    resolution = SLAClock.objects.get(ticket=ticket, kind="resolution")
    # 12 business hours: Monday 10–13 and 14–18, Tuesday 9–13 and 14–15.
    assert resolution.next_escalation_at == datetime(2026, 3, 17, 15, tzinfo=ALMATY)
    with time_machine.travel(at(2), tick=False):
        services.ticket_change_status(ticket, status=Status.WAITING, reason=waiting_reason, actor=engineer)
    resolution.refresh_from_db()
    assert (resolution.state, resolution.next_escalation_at) == ("paused", None)
    assert not SLAClock.objects.filter(state="paused", next_escalation_at__isnull=False).exists()
    with time_machine.travel(at(26), tick=False):  # Tuesday 12:00: the customer answers
        services.ticket_receive_customer_message(ticket, body="Here it is", channel="email")
    resolution.refresh_from_db()
    assert resolution.state == "running"
    # 2 h consumed before the pause; 10 h more from Tuesday 12:00 → Wednesday 15:00.
    assert resolution.next_escalation_at == datetime(2026, 3, 18, 15, tzinfo=ALMATY)


def test_stopping_a_clock_clears_its_next_escalation(shop, queue, engineer):
    ticket = open_ticket(MONDAY_10, queue, engineer)
    with time_machine.travel(at(0, 20), tick=False):
        services.ticket_reply(ticket, body="On it", actor=engineer)
        outbox.deliver_pending()  # first response stops when the reply leaves
    assert fr_clock(ticket).next_escalation_at is None
    assert run(at(5))["fired"] == 0


def test_a_retarget_re_arms_the_ladder_for_the_new_generation(shop, standard, calendar, queue, engineer):
    urgent = sla_policy(calendar, precedence=10, name="Urgent", priority=Priority.HIGH,
                        first_response_target=timedelta(hours=4))
    shop.sla_policies.add(urgent)
    ticket = open_ticket(MONDAY_10, queue, engineer)
    assert run(at(1))["fired"] == 1
    with time_machine.travel(at(1, 10), tick=False):
        services.ticket_update(ticket, actor=engineer, priority=Priority.HIGH)
    clock = fr_clock(ticket)
    assert (clock.generation, clock.policy_id) == (1, urgent.pk)
    # Retroactive: 1 h 10 min consumed of 4 h; 50 % is at 2 h → 12:00.
    assert clock.next_escalation_at == at(2)
    assert run(at(2))["fired"] == 1
    assert list(Firing.objects.filter(clock=clock).order_by("pk").values_list("level__name", "generation")) == [
        ("SLA soon", 0),
        ("SLA soon", 1),
    ]


def test_re_running_for_a_past_now_never_fires_twice_nor_skips(shop, queue, engineer, dispatcher):
    ticket = open_ticket(MONDAY_10, queue, engineer)
    # A sweep that comes late fires every level passed, once each, in order.
    result = run(at(2, 5))
    assert (result["fired"], result["breached"]) == (3, 1)
    assert counts(run(at(1))) == (0, 0, 0)
    assert run(at(2, 5))["fired"] == 0
    out = StringIO()
    with time_machine.travel(at(2, 5), tick=False):
        call_command("sweep_sla", "--now", at(1, 45).isoformat(), stdout=out)
    assert json.loads(out.getvalue())["fired"] == 0
    assert Firing.objects.filter(ticket=ticket).count() == 3
    assert notices(engineer) == ["escalation.level_10", "escalation.level_20"]
    assert notices(dispatcher) == ["escalation.level_30"]
    levels = list(ticket.events.filter(kind="ticket.escalated").order_by("pk").values_list("data__order", flat=True))
    assert levels == [10, 20, 30]


def test_a_failing_ticket_is_retried_later_and_does_not_block_the_others(shop, queue, engineer, monkeypatch):
    broken = open_ticket(MONDAY_10, queue, engineer, title="Broken")
    fine = open_ticket(MONDAY_10, queue, engineer, title="Fine")
    real = sweep_module.audience_ids  # both the batch path and the per-clock path ask it

    def explode(level, ticket, ctx):
        if ticket.pk == broken.pk:
            raise RuntimeError("the assignee vanished")
        return real(level, ticket, ctx)

    monkeypatch.setattr(sweep_module, "audience_ids", explode)
    result = run(at(1))
    assert (result["due"], result["fired"], result["failed"]) == (2, 1, 1)
    assert Firing.objects.filter(ticket=fine).count() == 1
    assert notices(engineer) == ["escalation.level_10"]  # the fine ticket's notice, once
    assert not Firing.objects.filter(ticket=broken).exists()  # rolled back with its savepoint
    assert fr_clock(broken).next_escalation_at == at(1) + RETRY_DELAY
    assert fr_clock(fine).next_escalation_at == at(1, 30)
    monkeypatch.setattr(sweep_module, "audience_ids", real)
    assert run(at(1, 4))["fired"] == 0
    assert run(at(1) + RETRY_DELAY)["fired"] == 1
    assert Firing.objects.filter(ticket=broken).count() == 1


def test_a_reassignment_to_a_deleted_user_is_recorded_not_retried(standard, queue, engineer):
    target = UserFactory(username="gone", role="engineer")
    ladder("Reassign", [{"name": "To Gone", "trigger_percent": 50, "reassign": "user", "reassign_user": target,
                         "to_performer": True}], sla_policies=[standard])
    ticket = open_ticket(MONDAY_10, queue, engineer)
    target.delete()
    assert run(at(1))["fired"] == 1  # first response at 50 %
    ticket.refresh_from_db()
    assert ticket.performer == engineer
    event = ticket.events.filter(kind="ticket.escalated").first()
    assert event.data["errors"] == ["reassign: Nobody to reassign the ticket to."]
    assert notices(engineer) == ["escalation.level_10"]


def test_the_default_ladder_marks_urgent_reassigns_and_opens_a_root_cause_review(
    standard, queue, engineer, dispatcher, director, manager
):
    policies = install_default_ladders()
    policies[DEFAULT_LADDER].sla_policies.add(standard)
    for role, user in ((ContactRole.SHIFT_LEAD, dispatcher), (ContactRole.HEAD, manager),
                       (ContactRole.DIRECTOR, director)):
        QueueEscalationContact.objects.create(queue=None, role=role, user=user)
    ticket = open_ticket(MONDAY_10, queue, engineer)
    run(at(1, 40))  # 80 % of first response: urgent, performer and shift lead
    assert TicketEscalationState.objects.get(ticket=ticket).urgent_since == at(1, 40)
    assert "escalation.level_20" in notices(dispatcher)
    run(at(2, 1))  # breach: head of department, reassigned to the shift lead
    ticket.refresh_from_db()
    assert ticket.performer == dispatcher
    assert notices(manager) == ["escalation.level_30"]
    run(at(5, 1))  # 200 % = 4 business hours (15:00): the director, and a root-cause review task in the queue
    assert notices(director) == ["escalation.level_40"]
    follow_up = Ticket.objects.exclude(pk=ticket.pk).get()
    assert follow_up.title == f"Root-cause review: #{ticket.pk} Washing machine leaks"
    assert follow_up.queue == queue


def test_an_auto_reply_reaches_the_customer_in_their_language_but_is_not_a_first_response(standard, queue, engineer):
    ladder("Apology", [{"name": "Sorry", "clock": "first_response", "trigger_percent": 50, "notify": False,
                        "auto_reply": True, "auto_reply_en": "Sorry about {ticket}.",
                        "auto_reply_ru": "Извините за {ticket}.", "raise_priority_to": Priority.HIGH}],
           sla_policies=[standard])
    ticket = open_ticket(MONDAY_10, queue, engineer, customer=CustomerFactory(language="ru"))
    assert run(at(1))["fired"] == 1
    reply = Message.objects.get(ticket=ticket, kind=Message.Kind.PUBLIC_REPLY)
    assert reply.body == f"Извините за #{ticket.pk}."
    ticket.refresh_from_db()
    assert ticket.first_public_reply_at is None
    assert ticket.priority == Priority.HIGH
    clock = fr_clock(ticket)
    assert clock.state == "running" and clock.next_escalation_at == at(2) + timedelta(seconds=1)  # breach check


def test_the_vip_ladder_overrides_for_vip_customers(standard, queue, engineer, manager):
    from tests.factories import VipTierFactory

    gold = VipTierFactory(name="Gold", escalate_on_threat=True)
    ladder("Everyone", [{"name": "Normal", "trigger_percent": 50, "to_performer": True}], sla_policies=[standard])
    ladder("VIP", [{"name": "Threat", "clock": "first_response", "trigger_percent": 30, "to_manager": True,
                    "urgency": "important"}], sla_policies=[standard], vip_tiers=[gold])
    vip = open_ticket(MONDAY_10, queue, engineer, customer=CustomerFactory(vip_tier=gold))
    assert fr_clock(vip).next_escalation_at == at(0, 36)
    run(at(0, 36))
    assert notices(manager) == ["escalation.level_10"]
    assert EscalationLevel.objects.get(name="Threat").firings.count() == 1


def test_the_sweep_reads_only_due_clocks_in_a_few_queries(shop, queue, engineer):
    for _ in range(5):
        open_ticket(MONDAY_10, queue, engineer)
    with CaptureQueriesContext(connection) as empty:
        assert run(at(0, 30))["due"] == 0
    [select] = [q["sql"] for q in empty.captured_queries if q["sql"].startswith("SELECT")]
    assert '"next_escalation_at" <=' in select and "LIMIT" in select
    with CaptureQueriesContext(connection) as due:
        assert run(at(1))["fired"] == 5
    # Claim, ladder, fired levels and users once; per firing a savepoint, the firing, history and the notice.
    assert len(due.captured_queries) <= 12 + 5 * 11


def test_a_due_sweep_of_five_firings_costs_no_more_queries_than_before_the_action_step(shop, queue, engineer):
    for _ in range(5):
        open_ticket(MONDAY_10, queue, engineer)
    run(at(0, 30))
    with CaptureQueriesContext(connection) as due:
        assert run(at(1))["fired"] == 5
    # 24 before firing had one path; the pending-action claim (one UPDATE) is paid for by the ladder load.
    assert len(due.captured_queries) <= 24


def test_the_command_prints_one_json_line(db):
    out = StringIO()
    call_command("sweep_sla", "--now", "2026-03-16T10:00:00+05:00", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert set(json.loads(lines[0])) >= {"due", "fired", "breached", "duration_ms"}


def test_the_command_refuses_a_bad_instant(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("sweep_sla", "--now", "yesterday")


def test_the_demo_arming_computes_next_escalations_in_bulk(shop, queue, engineer):
    ticket = open_ticket(MONDAY_10, queue, engineer)
    SLAClock.objects.update(next_escalation_at=None)
    with time_machine.travel(at(0, 10), tick=False):
        assert arm_clocks(at(0, 10)) >= 1
    assert fr_clock(ticket).next_escalation_at == at(1)


def test_the_schedule_is_registered(db):
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="sweep_sla")
    assert (schedule.func, schedule.minutes) == ("escalations.tasks.sweep_sla", 1)
