"""The ticket page's deferral and escalation panels read what the page's ticket already carries (issue 18).

The escalation panel takes the urgent mark from the ticket's annotation and the next escalation from its
prefetched clocks; the deferral panel reads its pending request and last decision in one query (and the people
they name in a second, when there is a request). Each gives what the per-panel queries gave.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deferrals import selectors as deferral_selectors
from deferrals.models import DeferralRequest
from escalations.models import TicketEscalationState
from escalations.selectors import ticket_escalations
from portal.selectors import ticket_detail
from sla.models import SLAClock
from sla.selectors import first_reply_sending_delay
from tests.factories import CustomerFactory, UserFactory
from tests.portal.test_page_query_counts import policy  # noqa: F401 (a fixture: an SLA policy for every ticket)
from tickets import services
from tickets.models import Message, Ticket


def _ticket(admin_user, queue, engineer):
    return services.ticket_create(
        actor=admin_user,
        title="Leak",
        customer=CustomerFactory(),
        queue=queue,
        description="It leaks",
        performer=engineer,
    )


@pytest.mark.usefixtures("policy")
def test_the_escalation_panel_reads_the_mark_and_the_next_escalation_from_the_loaded_ticket(
    queue, engineer, admin_user
):
    ticket = _ticket(admin_user, queue, engineer)
    now = timezone.now()
    TicketEscalationState.objects.create(ticket=ticket, urgent_since=now - timedelta(hours=1))
    running = SLAClock.objects.filter(ticket=ticket, state=SLAClock.State.RUNNING).order_by("pk")
    assert running.count() >= 2
    running.filter(pk=running[0].pk).update(next_escalation_at=now + timedelta(hours=3))
    running.filter(pk=running[1].pk).update(next_escalation_at=now + timedelta(hours=2))

    by_queries = ticket_escalations(Ticket.objects.get(pk=ticket.pk))
    loaded = ticket_detail(admin_user, ticket.pk)
    with CaptureQueriesContext(connection) as queries:
        from_memory = ticket_escalations(loaded)

    assert from_memory.urgent_since == by_queries.urgent_since == now - timedelta(hours=1)
    assert from_memory.next_at == by_queries.next_at == now + timedelta(hours=2)
    assert len(queries) == 2  # the firings and the manual escalations only


@pytest.mark.usefixtures("policy")
def test_the_escalation_panel_without_a_mark_or_a_next_escalation(queue, engineer, admin_user):
    ticket = _ticket(admin_user, queue, engineer)
    SLAClock.objects.filter(ticket=ticket).update(next_escalation_at=None)
    info = ticket_escalations(ticket_detail(admin_user, ticket.pk))
    assert info.urgent_since is None
    assert info.next_at is None


@pytest.mark.usefixtures("policy")
def test_the_deferral_panel_finds_the_pending_request_and_the_last_decision(queue, engineer, admin_user):
    ticket = _ticket(admin_user, queue, engineer)
    assert deferral_selectors.panel_requests(ticket) == (None, None)
    now = timezone.now()

    def request(status, decided_minutes_ago=None):
        return DeferralRequest.objects.create(
            ticket=ticket,
            requested_by=engineer,
            addressed_to=admin_user,
            explanation="x",
            status=status,
            old_deadline=now,
            proposed_deadline=now + timedelta(days=1),
            decided_by=admin_user if decided_minutes_ago is not None else None,
            decided_at=now - timedelta(minutes=decided_minutes_ago) if decided_minutes_ago is not None else None,
            withdrawn_at=now if status == DeferralRequest.Status.WITHDRAWN else None,
        )

    older = request(DeferralRequest.Status.DECLINED, decided_minutes_ago=30)
    newer = request(DeferralRequest.Status.DECLINED, decided_minutes_ago=10)
    request(DeferralRequest.Status.WITHDRAWN)
    assert deferral_selectors.panel_requests(ticket) == (None, newer)
    pending = request(DeferralRequest.Status.PENDING)
    with CaptureQueriesContext(connection) as queries:
        assert deferral_selectors.panel_requests(ticket) == (pending, newer)
    assert len(queries) == 2  # the two requests, then the people they name (with their profiles)
    assert queries[0]["sql"].count("JOIN") == 1  # the cause only: no people joined to the requests
    with CaptureQueriesContext(connection) as queries:
        shown = deferral_selectors.panel_requests(ticket)
        names = [shown[0].addressed_to.profile, shown[1].decided_by.profile, shown[1].cause]
    assert len(queries) == 2 and names[0] is not None
    assert deferral_selectors.pending_for_ticket(ticket) == pending
    assert deferral_selectors.last_decided_for_ticket(ticket) == newer
    assert older != newer


@pytest.mark.usefixtures("policy")
def test_the_sla_panel_reads_the_first_replys_sending_delay_from_the_loaded_conversation(queue, engineer, admin_user):
    ticket = _ticket(admin_user, queue, engineer)
    reply = services.ticket_reply(ticket, body="On it", actor=engineer)
    later = reply.created_at + timedelta(seconds=90)
    Message.objects.filter(pk=reply.pk).update(sent_at=later)
    Ticket.objects.filter(pk=ticket.pk).update(first_public_reply_at=later)
    services.ticket_reply(ticket, body="Still on it", actor=engineer)  # a later reply does not count

    by_query = first_reply_sending_delay(Ticket.objects.get(pk=ticket.pk))
    loaded = ticket_detail(admin_user, ticket.pk)
    with CaptureQueriesContext(connection) as queries:
        from_memory = first_reply_sending_delay(loaded)
    assert from_memory == by_query == timedelta(seconds=90)
    assert len(queries) == 0


@pytest.mark.usefixtures("policy")
def test_the_ticket_page_reads_the_people_it_names_and_the_observers_in_one_query(queue, engineer, admin_user, manager):
    watcher = UserFactory(username="aaa-watcher", role="engineer")
    ticket = services.ticket_create(
        actor=admin_user,
        title="Leak",
        customer=CustomerFactory(),
        queue=queue,
        description="It leaks",
        performer=engineer,
        observers=[manager, watcher],
    )
    with CaptureQueriesContext(connection) as reading:
        loaded = ticket_detail(admin_user, ticket.pk)
    assert not any("tickets_ticket_observers" in q["sql"] and "auth_user" not in q["sql"] for q in reading)
    with CaptureQueriesContext(connection) as queries:
        named = [loaded.performer.profile, loaded.created_by.profile, loaded.owner, loaded.approver]
        observers = list(loaded.observers.all())
    assert len(queries) == 0
    assert named[0].user == engineer and named[1].user == admin_user
    assert observers == sorted([manager, watcher], key=lambda user: user.username)
