"""Escalation levels on the deadline clock: they fire at the deadline in force, and again when it moves.

Frozen time on the Almaty office calendar (Mon–Fri 09:00–13:00, 14:00–18:00), from Monday 16 March 2026.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from deferrals import services as deferrals
from deferrals.models import DeferralCause
from escalations import rules
from escalations.models import Firing
from escalations.sweep import sweep
from notifications.models import Notification
from sla.models import SLAClock, SLAClockEvent
from tests.factories import CustomerFactory
from tickets import services

from .ladders import ladder, office_calendar, sla_policy

ALMATY = ZoneInfo("Asia/Almaty")
DL = SLAClock.Kind.DEADLINE


def almaty(*fields) -> datetime:
    return datetime(*fields, tzinfo=ALMATY)


MONDAY_10 = almaty(2026, 3, 16, 10, 0)
TUESDAY_12 = almaty(2026, 3, 17, 12, 0)


@pytest.fixture
def standard(db):
    return sla_policy(office_calendar(), name="Standard request")  # first response 2 h, resolution 24 h


@pytest.fixture
def deadline_ladder(standard):
    return ladder("Deadline", [
        {"name": "Any SLA clock half used", "clock": "any", "trigger_percent": 50, "to_performer": True},
        {"name": "Deadline passed", "clock": "deadline", "trigger_percent": 100, "urgency": "important",
         "to_performer": True, "to_manager": True},
    ], sla_policies=[standard])


@pytest.fixture
def ticket(deadline_ladder, dispatcher, engineer, queue, time_machine):
    time_machine.move_to(MONDAY_10, tick=False)
    return services.ticket_create(
        actor=dispatcher, title="Boiler", customer=CustomerFactory(), queue=queue, performer=engineer,
        deadline=TUESDAY_12,
    )


def run(when: datetime) -> dict:
    with time_machine.travel(when, tick=False):
        return sweep(when)


def deadline_clock(ticket) -> SLAClock:
    return SLAClock.objects.get(ticket=ticket, kind=DL)


def deadline_firings(ticket) -> list[tuple[int, datetime]]:
    return list(
        Firing.objects.filter(ticket=ticket, level__name="Deadline passed").order_by("id")
        .values_list("generation", "due_at")
    )


def notices(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("id").values_list("kind", flat=True))


def test_any_means_first_response_or_resolution_never_the_next_reply_nor_the_deadline_clock():
    level = rules.LevelRule(key=1, order=10, clock="any", trigger=rules.Trigger(percent=50))
    assert [level.applies_to(kind) for kind in ("first_response", "resolution", "next_reply", "deadline")] == [
        True, True, False, False,
    ]
    assert rules.LevelRule(key=2, order=20, clock="deadline", trigger=rules.Trigger(percent=100)).applies_to(DL)


def test_a_level_on_the_deadline_clock_fires_at_the_deadline(ticket, engineer, manager):
    clock = deadline_clock(ticket)
    assert clock.target == timedelta(hours=10) and clock.next_escalation_at == TUESDAY_12
    run(TUESDAY_12 - timedelta(minutes=1))
    assert deadline_firings(ticket) == []
    run(TUESDAY_12)
    assert deadline_firings(ticket) == [(0, TUESDAY_12)]
    assert notices(manager) == ["escalation.level_20"]
    assert "escalation.level_20" in notices(engineer)
    # "any" fired on first response and resolution (50 %), never on the deadline clock.
    half = Firing.objects.filter(ticket=ticket, level__name="Any SLA clock half used")
    assert set(half.values_list("clock__kind", flat=True)) == {"first_response"}
    run(almaty(2026, 3, 17, 15, 0))  # resolution half used
    assert deadline_firings(ticket) == [(0, TUESDAY_12)]  # once per generation
    assert set(half.values_list("clock__kind", flat=True)) == {"first_response", "resolution"}
    assert not Firing.objects.filter(clock__kind=DL).exclude(level__name="Deadline passed").exists()


def test_an_approved_deferral_re_arms_the_ladder_for_the_new_deadline(ticket, engineer, manager, time_machine):
    run(TUESDAY_12)
    time_machine.move_to(almaty(2026, 3, 17, 12, 30), tick=False)
    new_deadline = almaty(2026, 3, 19, 12, 0)
    request = deferrals.deferral_request(
        ticket, actor=engineer, cause=DeferralCause.objects.get(code="supplier"),
        explanation="The supplier ships on Thursday.", proposed_deadline=new_deadline,
    )
    assert deadline_clock(ticket).generation == 0  # asking moves nothing
    time_machine.move_to(almaty(2026, 3, 17, 14, 0), tick=False)
    deferrals.deferral_decide(request, actor=manager, verdict="objective", new_deadline=new_deadline)

    clock = deadline_clock(ticket)
    assert (clock.generation, clock.breached_at, clock.due_at) == (1, None, new_deadline)
    assert clock.next_escalation_at == new_deadline
    retarget = clock.events.get(kind=SLAClockEvent.Kind.RETARGET)
    assert (retarget.actor, retarget.at) == (manager, almaty(2026, 3, 17, 14, 0))
    assert retarget.data["cause"] == "deferral" and retarget.data["verdict"] == "objective"
    assert datetime.fromisoformat(retarget.data["from_deadline"]) == TUESDAY_12
    assert datetime.fromisoformat(retarget.data["deadline"]) == new_deadline

    run(new_deadline - timedelta(minutes=1))
    assert deadline_firings(ticket) == [(0, TUESDAY_12)]
    run(new_deadline)
    run(new_deadline + timedelta(minutes=5))
    run(new_deadline)  # a late or repeated sweep fires nothing twice
    assert deadline_firings(ticket) == [(0, TUESDAY_12), (1, new_deadline)]
    assert notices(manager).count("escalation.level_20") == 2


def test_an_admin_override_re_arms_the_ladder_too(ticket, admin_user, time_machine):
    run(TUESDAY_12)
    time_machine.move_to(almaty(2026, 3, 17, 16, 0), tick=False)
    services.ticket_override_deadline(ticket, deadline=almaty(2026, 3, 18, 12, 0), actor=admin_user,
                                      reason="Customer agreed to Wednesday")
    clock = deadline_clock(ticket)
    assert clock.generation == 1 and clock.events.get(kind=SLAClockEvent.Kind.RETARGET).actor == admin_user
    run(almaty(2026, 3, 18, 12, 0))
    run(almaty(2026, 3, 18, 13, 0))
    assert deadline_firings(ticket) == [(0, TUESDAY_12), (1, almaty(2026, 3, 18, 12, 0))]


def test_a_deadline_clock_with_no_level_of_its_own_only_wakes_the_sweep_to_note_its_breach(
    standard, dispatcher, engineer, queue, time_machine
):
    ladder("SLA only", [{"name": "Half", "clock": "any", "trigger_percent": 50, "to_performer": True}],
           sla_policies=[standard])
    time_machine.move_to(MONDAY_10, tick=False)
    ticket = services.ticket_create(actor=dispatcher, title="Boiler", customer=CustomerFactory(), queue=queue,
                                    performer=engineer, deadline=TUESDAY_12)
    clock = deadline_clock(ticket)
    assert clock.next_escalation_at == TUESDAY_12 + timedelta(seconds=1)  # the breach check
    run(almaty(2026, 3, 17, 12, 5))
    clock.refresh_from_db()
    assert clock.breached_at == TUESDAY_12 and clock.next_escalation_at is None
    assert not Firing.objects.filter(clock=clock).exists()


def test_the_default_ladders_tell_the_performer_and_the_manager_when_the_deadline_passes(db):
    from escalations.defaults import install_default_ladders

    for policy in install_default_ladders().values():
        level = policy.levels.get(order=25)  # "Deadline passed": named by its trigger since issue 19
        assert (level.clock, level.trigger_percent) == ("deadline", 100)
        assert level.to_performer and level.to_manager
        assert set(policy.levels.exclude(pk=level.pk).values_list("clock", flat=True)) == {"any", "next_reply"}
