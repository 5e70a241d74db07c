"""Warnings reach someone (issue 16, point 3): an audience of nobody falls back to the queue's dispatchers, then its
manager; the VIP tier's ``escalate_on_threat`` picks the threat ladder; the account manager hears first (seed 001)."""

from __future__ import annotations

import pytest

from escalations.defaults import LADDERS, VIP_LADDER, install_default_ladders
from escalations.models import Firing
from tests.factories import CustomerFactory, UserFactory, VipTierFactory

from .ladders import ladder, office_calendar, sla_policy
from .test_sweep import MONDAY_10, at, notices, open_ticket, run


@pytest.fixture
def standard(db):
    return sla_policy(office_calendar(), name="Standard request")


@pytest.fixture
def warning(standard):
    """The seed's 50 % warning to the performer (and the performer's manager)."""
    return ladder(
        "Warn",
        [{"clock": "first_response", "trigger_percent": 50, "to_performer": True, "to_manager": True}],
        sla_policies=[standard],
    )


def test_an_unassigned_tickets_warning_reaches_the_queues_dispatchers_and_says_so(warning, queue, dispatcher):
    ticket = open_ticket(MONDAY_10, queue)  # nobody performs it yet
    run(at(1))
    assert notices(dispatcher) == ["escalation.level_10"]
    firing = Firing.objects.get(ticket=ticket)
    assert firing.data["recipients"] == [dispatcher.pk]
    assert firing.data["fallback"] == "dispatchers"
    assert ticket.events.get(kind="ticket.escalated").data["fallback"] == "dispatchers"


def test_without_dispatchers_the_queue_manager_hears_it(warning, queue, manager):
    queue.manager = manager
    queue.save()
    ticket = open_ticket(MONDAY_10, queue)
    run(at(1))
    assert notices(manager) == ["escalation.level_10"]
    assert Firing.objects.get(ticket=ticket).data["fallback"] == "queue_manager"


def test_an_assigned_ticket_needs_no_fallback(warning, queue, engineer, dispatcher, manager):
    ticket = open_ticket(MONDAY_10, queue, engineer)
    run(at(1))
    assert notices(dispatcher) == []
    firing = Firing.objects.get(ticket=ticket)
    assert "fallback" not in firing.data and firing.data["recipients"] == [engineer.pk, manager.pk]


def vip_setup(standard, *, escalate_on_threat: bool):
    tier = VipTierFactory(name="Platinum", escalate_on_threat=escalate_on_threat)
    account_manager = UserFactory(username="am", role="manager")
    ladder("Everyone", [{"trigger_percent": 100, "to_performer": True}], sla_policies=[standard])
    ladder(
        "VIP",
        [
            {
                "clock": "first_response",
                "trigger_percent": 25,
                "urgency": "important",
                "to_account_manager": True,
                "to_performer": True,
            }
        ],
        sla_policies=[standard],
        vip_tiers=[tier],
    )
    return CustomerFactory(vip_tier=tier, account_manager=account_manager), account_manager


def test_a_vip_tier_that_escalates_on_threat_tells_the_account_manager_first(standard, queue, dispatcher):
    customer, account_manager = vip_setup(standard, escalate_on_threat=True)
    ticket = open_ticket(MONDAY_10, queue, customer=customer)  # unassigned, like seed 001's Friday message
    run(at(0, 30))  # 25 % of two business hours
    assert notices(account_manager) == ["escalation.level_10"]
    assert notices(dispatcher) == []  # the account manager is an audience: no fallback needed
    assert Firing.objects.get(ticket=ticket).data["recipients"] == [account_manager.pk]


def test_a_vip_tier_that_does_not_escalate_on_threat_follows_the_ordinary_ladder(standard, queue, engineer):
    customer, account_manager = vip_setup(standard, escalate_on_threat=False)
    ticket = open_ticket(MONDAY_10, queue, engineer, customer=customer)
    run(at(1, 30))
    assert notices(account_manager) == []
    run(at(2, 1))  # the ordinary ladder's breach level
    assert notices(engineer) == ["escalation.level_10"]
    assert Firing.objects.get(ticket=ticket).level.policy.name == "Everyone"


def test_the_shipped_vip_ladder_reaches_the_account_manager_at_its_first_level(db):
    first = min(
        (spec for spec in LADDERS[VIP_LADDER] if spec.get("clock") != "deadline"),
        key=lambda spec: spec.get("trigger_percent") or 0,
    )
    assert first["to_account_manager"]
    levels = install_default_ladders()[VIP_LADDER].levels.filter(to_account_manager=True)
    assert levels.count() == 3
