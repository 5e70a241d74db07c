"""``sla.selectors.attach_clocks``: what ``with_clocks``' prefetch leaves on tickets, by a compiled statement."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.selectors import ATTACHED_AT_MOST, attach_clocks, ticket_clock_views, with_clocks
from tests.sla.clock_helpers import H, create
from tickets import services
from tickets.models import Ticket


def _clocks(ticket) -> list[tuple]:
    return [
        (c.pk, c.kind, c.state, c.due_at, c.calendar.pk, c.policy_id, c.ticket is ticket)
        for c in ticket.sla_clocks.all()
    ]


def test_the_same_clocks_in_the_same_order_as_the_prefetch(make_policy, dispatcher, engineer, queue, at):
    make_policy(first_response_target=2 * H, resolution_target=10 * H)
    at(2026, 3, 2, 9)
    made = [create(actor=dispatcher, queue=queue, performer=engineer) for _ in range(ATTACHED_AT_MOST + 2)]
    services.ticket_reply(made[0], body="On it.", actor=engineer)  # a stopped clock beside running ones
    for count in (1, 3, ATTACHED_AT_MOST, ATTACHED_AT_MOST + 2):  # the last: more than one statement takes
        ids = [t.pk for t in made[:count]]
        expected = {t.pk: _clocks(t) for t in with_clocks(Ticket.objects.filter(pk__in=ids))}
        tickets = list(Ticket.objects.filter(pk__in=ids))
        with CaptureQueriesContext(connection) as queries:
            attach_clocks(tickets)
            attached = {t.pk: _clocks(t) for t in tickets}
            views = [ticket_clock_views(t) for t in tickets]  # what the badges read: from memory
        assert attached == expected and all(attached.values())
        assert len(queries) == 1 and all(views)


def test_nothing_to_read_for_no_tickets_or_tickets_already_loaded(make_policy, dispatcher, queue, at):
    make_policy(first_response_target=2 * H, resolution_target=10 * H)
    at(2026, 3, 2, 9)
    ticket = with_clocks(Ticket.objects.filter(pk=create(actor=dispatcher, queue=queue).pk)).get()
    with CaptureQueriesContext(connection) as queries:
        attach_clocks([])
        attach_clocks([ticket])
    assert len(queries) == 0 and ticket.sla_clocks.all()
