"""The sweep's action step: a level's ticket-changing actions wait on its firing and run once, through the ticket
services, in the same sweep; a failure is retried later and blocks nobody."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from escalations import firing_actions
from escalations import sweep as sweep_module
from escalations.audience import SweepContext
from escalations.firing_actions import CLAIM_LEASE, claim_next_firing, run_claimed_firing, run_pending_actions
from escalations.models import Firing, TicketEscalationState
from escalations.sweep import RETRY_DELAY
from notifications.models import Notification
from tickets.models import Message, Priority, Ticket

from .ladders import ladder, office_calendar, sla_policy
from .test_sweep import MONDAY_10, at, notices, open_ticket, run


@pytest.fixture
def standard(db):
    return sla_policy(office_calendar(), name="Standard request")


@pytest.fixture
def apology(standard):
    """50 % of the first response: tell the performer, mark urgent, raise the priority, apologise to the customer."""
    return ladder("Apology", [{"name": "Sorry", "clock": "first_response", "trigger_percent": 50,
                               "to_performer": True, "mark_urgent": True, "raise_priority_to": Priority.HIGH,
                               "auto_reply": True, "auto_reply_en": "Sorry about {ticket}."}],
                  sla_policies=[standard])


def replies(ticket: Ticket) -> int:
    return Message.objects.filter(ticket=ticket, kind=Message.Kind.PUBLIC_REPLY).count()


def escalated(ticket: Ticket) -> list[dict]:
    return list(ticket.events.filter(kind="ticket.escalated").values_list("data", flat=True))


def test_a_ticket_changing_level_fires_set_based_and_leaves_its_actions_on_the_firing(
    apology, queue, engineer, monkeypatch
):
    ticket = open_ticket(MONDAY_10, queue, engineer)
    monkeypatch.setattr(sweep_module, "run_pending_actions", lambda now, **kwargs: {})  # the batches alone
    result = run(at(1))
    assert (result["fired"], result["acted"]) == (1, 0)
    firing = Firing.objects.get(ticket=ticket)
    assert firing.actions_due_at == at(1)
    assert firing.data["actions"] == ["mark_urgent"]  # set with the firing, like the notice
    assert TicketEscalationState.objects.get(ticket=ticket).urgent_since == at(1)
    assert notices(engineer) == ["escalation.level_10"]
    ticket.refresh_from_db()
    assert (ticket.priority, replies(ticket)) == (Priority.NORMAL, 0)
    assert escalated(ticket) == []  # history is append-only: written once, with what the actions did

    with time_machine.travel(at(1), tick=False):
        assert run_pending_actions(at(1)) == {"acted": 1, "failed": 0}
        assert run_pending_actions(at(1)) == {"acted": 0, "failed": 0}
    firing.refresh_from_db()
    assert firing.actions_due_at is None
    assert firing.data["actions"] == ["mark_urgent", "raise_priority", "auto_reply"]
    ticket.refresh_from_db()
    assert (ticket.priority, replies(ticket)) == (Priority.HIGH, 1)
    assert escalated(ticket) == [firing.data]
    kinds = list(ticket.events.order_by("created_at", "pk").values_list("kind", flat=True))
    assert kinds[-3:] == ["ticket.updated", "ticket.replied", "ticket.escalated"]  # the actions, then the firing
    assert notices(engineer) == ["escalation.level_10"]


def test_the_sweep_runs_the_actions_it_left_pending_before_it_returns(apology, queue, engineer):
    ticket = open_ticket(MONDAY_10, queue, engineer)
    result = run(at(1))
    assert (result["fired"], result["acted"], result["failed"]) == (1, 1, 0)
    ticket.refresh_from_db()
    assert (ticket.priority, replies(ticket)) == (Priority.HIGH, 1)
    assert not Firing.objects.filter(actions_due_at__isnull=False).exists()
    again = run(at(1, 5))
    assert (again["fired"], again["acted"], again["failed"]) == (0, 0, 0)
    assert replies(ticket) == 1


def test_failing_actions_are_retried_later_and_block_no_other_firing(apology, queue, engineer, monkeypatch):
    broken = open_ticket(MONDAY_10, queue, engineer, title="Broken")
    fine = open_ticket(MONDAY_10, queue, engineer, title="Fine")
    real = firing_actions.ticket_services.ticket_reply

    def explode(ticket, **kwargs):
        if ticket.pk == broken.pk:
            raise RuntimeError("the reply channel is misconfigured")
        return real(ticket, **kwargs)

    monkeypatch.setattr(firing_actions.ticket_services, "ticket_reply", explode)
    result = run(at(1))
    assert (result["due"], result["fired"], result["acted"], result["failed"]) == (2, 2, 1, 1)
    failed = Firing.objects.get(ticket=broken)
    assert failed.actions_due_at == at(1) + RETRY_DELAY
    assert failed.data["actions"] == ["mark_urgent"]
    broken.refresh_from_db()
    assert (broken.priority, replies(broken), escalated(broken)) == (Priority.NORMAL, 0, [])  # all rolled back
    fine.refresh_from_db()
    assert (fine.priority, replies(fine)) == (Priority.HIGH, 1)
    escalation_notices = Notification.objects.filter(recipient=engineer, kind__startswith="escalation")
    assert escalation_notices.count() == 2  # both firings told the performer

    monkeypatch.setattr(firing_actions.ticket_services, "ticket_reply", real)
    assert run(at(1, 4))["acted"] == 0
    result = run(at(1) + RETRY_DELAY)
    assert (result["due"], result["fired"], result["acted"], result["failed"]) == (0, 0, 1, 0)
    broken.refresh_from_db()
    assert (broken.priority, replies(broken)) == (Priority.HIGH, 1)
    [data] = escalated(broken)
    assert data["actions"] == ["mark_urgent", "raise_priority", "auto_reply"] and "errors" not in data
    assert replies(fine) == 1
    assert escalation_notices.count() == 2  # no notice again


def test_a_pending_firing_is_claimed_once_and_a_lost_lease_does_nothing(apology, queue, engineer, monkeypatch):
    ticket = open_ticket(MONDAY_10, queue, engineer)
    monkeypatch.setattr(sweep_module, "run_pending_actions", lambda now, **kwargs: {})
    run(at(1))
    firing = Firing.objects.get(ticket=ticket)
    firing_id, lease = claim_next_firing(at(1))
    assert firing_id == firing.pk
    assert claim_next_firing(at(1)) is None  # held by the first claim
    # A sweep whose lease ran out (another took the firing over) acts no more.
    assert run_claimed_firing(firing_id, lease - timedelta(seconds=1), ctx=SweepContext(now=at(1))) is None
    assert replies(ticket) == 0
    # A sweep that died after claiming: once its lease has run out, the firing is claimed again, and runs once.
    later = at(1) + CLAIM_LEASE
    with time_machine.travel(later, tick=False):
        firing_id, lease = claim_next_firing(later)
        assert firing_id == firing.pk
        assert run_claimed_firing(firing_id, lease, ctx=SweepContext(now=later)) is True
        assert claim_next_firing(later) is None
    assert replies(ticket) == 1
