"""Automatic opening of escalation cases: once per rule crossing, also under parallel evaluations."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalations import case_rules
from escalations.models import CaseRule, CaseRuleCrossing, EscalationCase
from notifications.models import Notification
from tests.escalations.case_helpers import clock_for, fire
from tests.factories import CustomerFactory, TicketFactory, TicketTypeFactory, UserFactory, VipTierFactory


@pytest.fixture
def rule_owner(db):
    return UserFactory(username="escalation-manager", role="manager")


@pytest.fixture
def vip_rule(rule_owner):
    return CaseRule.objects.create(name="VIP level 3", kind=CaseRule.Kind.VIP_LEVEL, min_level_order=3,
                                   severity="sev1", owner=rule_owner)


@pytest.fixture
def vip_ticket(queue):
    am = UserFactory(username="vip-am", role="manager")
    customer = CustomerFactory(name="Diamond Ltd", vip_tier=VipTierFactory(name="Diamond", rank=3),
                               account_manager=am)
    return TicketFactory(queue=queue, customer=customer, title="Site down")


@pytest.mark.django_db
def test_a_level_3_firing_on_a_vip_ticket_opens_one_case(vip_rule, vip_ticket):
    fire(vip_ticket, 3)
    [case] = case_rules.evaluate_rules()
    assert case.rule == vip_rule and case.owner == vip_rule.owner and case.severity == "sev1"
    assert list(case.tickets.all()) == [vip_ticket]
    assert "Diamond Ltd" in case.triggering_criteria and "order 3" in case.triggering_criteria
    assert set(Notification.objects.filter(kind="case.opened").values_list("recipient__username", flat=True)) == {
        "escalation-manager", "vip-am"}
    fire(vip_ticket, 4)  # a higher level on the same ticket is the same crossing
    assert case_rules.evaluate_rules() == []
    assert EscalationCase.objects.count() == 1


@pytest.mark.django_db
def test_lower_levels_and_standard_customers_open_nothing(vip_rule, vip_ticket, queue):
    fire(vip_ticket, 2)
    fire(TicketFactory(queue=queue), 3)
    assert case_rules.evaluate_rules() == []
    assert not EscalationCase.objects.exists()


@pytest.mark.django_db
def test_an_inactive_rule_opens_nothing(vip_rule, vip_ticket):
    vip_rule.is_active = False
    vip_rule.save()
    fire(vip_ticket, 3)
    assert case_rules.evaluate_rules() == []


@pytest.mark.django_db
def test_more_than_n_breaches_of_one_type_within_an_hour_open_one_case_per_hour(rule_owner, queue):
    outage_type = TicketTypeFactory(name="Payments", slug="payments")
    CaseRule.objects.create(name="Breach storm", kind=CaseRule.Kind.TYPE_BREACHES, max_breaches=2,
                            severity="sev2", owner=rule_owner)
    with time_machine.travel("2026-03-16 10:50 +00:00", tick=False) as traveller:
        at = timezone.now()
        for i in range(2):
            clock_for(TicketFactory(queue=queue, ticket_type=outage_type, title=f"B{i}"), breached_at=at)
        clock_for(TicketFactory(queue=queue, title="Other type"), breached_at=at)
        assert case_rules.evaluate_rules() == []  # two is not more than two
        clock_for(TicketFactory(queue=queue, ticket_type=outage_type, title="B2"), breached_at=at)
        [case] = case_rules.evaluate_rules()
        assert case.tickets.count() == 3 and case.severity == "sev2"
        assert case_rules.evaluate_rules() == []
        traveller.move_to("2026-03-16 11:10 +00:00")
        assert case_rules.evaluate_rules() == []  # the 10:00 hour crossed once, 11:00 has no breaches yet
        for i in range(3):
            clock_for(TicketFactory(queue=queue, ticket_type=outage_type, title=f"C{i}"), breached_at=timezone.now())
        assert len(case_rules.evaluate_rules()) == 1  # a new hour is a new crossing
    assert CaseRuleCrossing.objects.count() == 2


@pytest.mark.django_db
def test_the_schedule_entry_point_evaluates_everything(vip_rule, vip_ticket):
    fire(vip_ticket, 3)
    result = case_rules.evaluate_task()
    assert result["opened"] == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_parallel_evaluations_open_each_case_exactly_once(vip_rule, queue):
    tickets = []
    tier = VipTierFactory(name="Platinum", rank=2)
    for i in range(20):
        ticket = TicketFactory(queue=queue, customer=CustomerFactory(vip_tier=tier), title=f"VIP {i}")
        fire(ticket, 3)
        tickets.append(ticket)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def evaluate():
        from django.db import connection

        try:
            barrier.wait()
            results.append(len(case_rules.evaluate_rules(timezone.now() + timedelta(seconds=1))))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(results) == 20
    assert EscalationCase.objects.count() == 20
    assert CaseRuleCrossing.objects.filter(case__isnull=False).count() == 20
    assert sorted(EscalationCase.objects.values_list("tickets", flat=True)) == sorted(t.pk for t in tickets)
