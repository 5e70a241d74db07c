"""Fewer, better notices (issue 16, point 5): a level acts once per ticket whichever clocks crossed it, the next
reply has its own levels, and the root-cause review is an internal task that never spawns another."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from escalations.defaults import DEFAULT_LADDER, LADDERS, install_default_ladders
from escalations.models import ContactRole, Firing, QueueEscalationContact
from notifications.models import Notification
from sla.models import SLAClock
from tests.factories import CustomerFactory, UserFactory, VipTierFactory
from tickets import services
from tickets.models import Message, RoutingStrategy, Ticket, TicketKind
from tickets.services import TicketError

from .ladders import ladder, office_calendar, sla_policy
from .test_sweep import MONDAY_10, at, notices, open_ticket, run


@pytest.fixture
def calendar(db):
    return office_calendar()


@pytest.fixture
def head(db):
    user = UserFactory(username="head", role="manager")
    QueueEscalationContact.objects.create(queue=None, role=ContactRole.HEAD, user=user)
    return user


def late_ladder(policy, **level):
    """One level on "any" SLA clock at 100 %: the head of department is told, the ticket goes back to the queue
    and a root-cause review opens."""
    return ladder(
        "Late",
        [
            {
                "trigger_percent": 100,
                "urgency": "critical",
                "to_head": True,
                "reassign": "queue",
                "create_follow_up": True,
                **level,
            }
        ],
        sla_policies=[policy],
    )


def test_first_response_and_resolution_crossing_together_act_once_and_both_are_recorded(
    calendar, queue, engineer, head
):
    policy = sla_policy(calendar, first_response_target=timedelta(hours=2), resolution_target=timedelta(hours=2))
    late_ladder(policy)
    ticket = open_ticket(MONDAY_10, queue, engineer)
    result = run(at(2, 1))
    assert result["fired"] == 1
    assert notices(head) == ["escalation.level_10"]
    firings = Firing.objects.filter(ticket=ticket)
    assert sorted((f.clock.kind, f.acted) for f in firings) == [("first_response", True), ("resolution", False)]
    acted = firings.get(acted=True)
    assert acted.data["clocks"] == ["first_response", "resolution"]
    assert ticket.events.filter(kind="ticket.escalated").count() == 1
    assert ticket.events.filter(kind="ticket.unassigned").count() == 1  # one reassignment
    assert Ticket.objects.filter(follow_up_of=ticket).count() == 1  # one root-cause review
    assert run(at(2, 5))["fired"] == 0


def test_a_second_clock_crossing_later_is_recorded_without_a_second_notice(calendar, queue, engineer, head):
    policy = sla_policy(calendar, first_response_target=timedelta(hours=2), resolution_target=timedelta(hours=4))
    late_ladder(policy, reassign="", create_follow_up=False)
    ticket = open_ticket(MONDAY_10, queue, engineer)
    assert run(at(2, 1))["fired"] == 1
    run(at(5, 1))  # resolution crosses the same level (4 business hours: 15:00)
    assert notices(head) == ["escalation.level_10"]
    assert list(Firing.objects.filter(ticket=ticket).order_by("pk").values_list("clock__kind", "acted")) == [
        ("first_response", True),
        ("resolution", False),
    ]
    assert ticket.events.filter(kind="ticket.escalated").count() == 1


def test_a_customers_thank_you_never_drives_the_resolution_ladder(calendar, queue, engineer, head):
    policy = sla_policy(
        calendar,
        first_response_target=timedelta(hours=1),
        resolution_target=timedelta(hours=40),
        next_reply_target=timedelta(hours=1),
    )
    ladder(
        "Mixed",
        [
            {"trigger_percent": 100, "urgency": "critical", "to_head": True},
            {"clock": "next_reply", "trigger_percent": 100, "urgency": "important", "to_performer": True},
        ],
        sla_policies=[policy],
    )
    ticket = open_ticket(MONDAY_10, queue, engineer)
    services.ticket_reply(ticket, body="On it.", actor=engineer, channel="phone")  # a logged call: answered now
    with time_machine.travel(at(0, 30), tick=False):
        services.ticket_receive_customer_message(ticket, body="Thank you!", channel="email")
    run(at(1, 31))  # the next reply is late: its own level, not the resolution ladder's head of department
    assert notices(head) == []
    assert notices(engineer) == ["escalation.level_20"]
    [firing] = Firing.objects.filter(ticket=ticket)
    assert firing.clock.kind == "next_reply"


def test_the_root_cause_review_is_an_internal_task_for_the_queue_manager(calendar, queue, engineer, head, manager):
    queue.manager = manager
    queue.save()
    gold = VipTierFactory(name="Gold", escalate_on_threat=True)
    customer = CustomerFactory(vip_tier=gold)
    policy = sla_policy(calendar, first_response_target=timedelta(hours=2), resolution_target=timedelta(hours=2))
    late_ladder(policy, reassign="")
    ticket = open_ticket(MONDAY_10, queue, engineer, customer=customer)
    run(at(2, 1))
    review = Ticket.objects.get(follow_up_of=ticket)
    assert review.kind == TicketKind.INTERNAL and review.is_internal
    assert review.requester_queue == queue
    assert review.customer.is_internal and review.customer != customer and review.customer.vip_tier_id is None
    assert (review.performer, review.owner) == (manager, manager)  # not the late performer
    assert not customer.tickets.filter(pk=review.pk).exists()  # not in the customer's history
    assert review.messages.get().kind == Message.Kind.INTERNAL_NOTE
    with pytest.raises(TicketError, match="internal task"):
        services.ticket_reply(review, body="Hello", actor=manager)
    # The review escalates like any work, but never spawns another review.
    run(at(5, 5))  # the review's resolution (2 business hours from 12:01) is due at 15:01
    assert Ticket.objects.filter(follow_up_of=review).count() == 0
    assert Ticket.objects.count() == 2
    assert Firing.objects.filter(ticket=review, acted=True).count() == 1


def test_without_a_queue_manager_the_review_waits_in_the_queue_and_never_goes_to_the_late_performer(
    calendar, queue, engineer
):
    queue.strategy = RoutingStrategy.ROUND_ROBIN  # the only agent is the late performer
    queue.save()
    policy = sla_policy(calendar, first_response_target=timedelta(hours=2), resolution_target=timedelta(hours=2))
    late_ladder(policy, reassign="", urgency="routine")
    ticket = open_ticket(MONDAY_10, queue, engineer)
    run(at(2, 1))
    review = Ticket.objects.get(follow_up_of=ticket)
    assert review.performer is None and review.is_internal


def test_an_internal_task_has_a_requester_no_first_response_clock_and_refuses_public_replies(
    calendar, queue, other_queue, engineer, other_engineer
):
    sla_policy(calendar)
    task = services.ticket_create(
        actor=engineer,
        title="Confirm the reserve",
        queue=other_queue,
        requester_user=engineer,
        description="Order 42, two units, by 12:00",
    )
    assert task.kind == TicketKind.INTERNAL
    assert list(task.observers.all()) == [engineer]  # the requester follows it
    assert Ticket.objects.visible_to(engineer).filter(pk=task.pk).exists()
    fr = SLAClock.objects.get(ticket=task, kind="first_response")
    assert fr.state == "stopped" and not fr.counts_for_compliance
    assert SLAClock.objects.get(ticket=task, kind="resolution").state == "running"
    with pytest.raises(TicketError):
        services.ticket_reply(task, body="Done", actor=other_engineer)
    assert not Message.objects.filter(ticket=task, kind=Message.Kind.PUBLIC_REPLY).exists()
    assert not Notification.objects.filter(kind__startswith="escalation").exists()
    with pytest.raises(TicketError):
        services.ticket_create(
            actor=engineer, title="Both", queue=queue, customer=CustomerFactory(), requester_user=engineer
        )


def test_the_default_ladder_ships_a_short_next_reply_ladder_without_the_director():
    next_reply = [spec for spec in LADDERS[DEFAULT_LADDER] if spec.get("clock") == "next_reply"]
    assert next_reply
    assert not any(
        spec.get("to_director") or spec.get("reassign") or spec.get("create_follow_up") for spec in next_reply
    )


def test_installed_default_ladders_carry_the_next_reply_levels(db):
    ladders = install_default_ladders()
    assert ladders[DEFAULT_LADDER].levels.filter(clock="next_reply").exists()
