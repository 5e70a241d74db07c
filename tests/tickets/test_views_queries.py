"""List pages run the same number of queries for 3 rows as for 30."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import CustomerFactory, MembershipFactory, TicketFactory, UserFactory, VipTierFactory
from tickets.models import Status, Ticket


def count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, {"per_page": 50, **(params or {})})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def make_work(n, *, queue, performer, reason, start=0):
    tier = VipTierFactory(name="Gold")
    for i in range(start, start + n):
        TicketFactory(
            queue=queue,
            title=f"Row {i}",
            customer=CustomerFactory(vip_tier=tier if i % 2 else None),
            performer=performer,
            owner=performer,
            status=Status.WAITING if i % 3 == 0 else Status.IN_PROGRESS,
            blocking_reason=reason if i % 3 == 0 else None,
            deadline=timezone.now() + timedelta(hours=i - 5),
            next_step=f"Step {i}",
            next_step_due=timezone.now() + timedelta(days=1),
        )


@pytest.mark.parametrize("params", [{}, {"sort": "customer"}, {"overdue": "on", "priority": "2"}])
def test_my_work_query_count_does_not_grow_with_rows(client, engineer, queue, waiting_reason, params):
    client.force_login(engineer)
    url = reverse("tickets:my_work")
    make_work(3, queue=queue, performer=engineer, reason=waiting_reason)
    count_queries(client, url, params)
    three = count_queries(client, url, params)
    make_work(27, queue=queue, performer=engineer, reason=waiting_reason, start=3)
    assert count_queries(client, url, params) == three
    if not params:
        assert client.get(url, {"per_page": 50}).content.decode().count('class="col-ref"') == 30


@pytest.mark.parametrize("username", ["engineer", "admin", "manager"])
def test_the_ticket_list_query_count_does_not_grow_with_rows(
    client, engineer, admin_user, manager, queue, waiting_reason, username
):
    user = {"engineer": engineer, "admin": admin_user, "manager": manager}[username]
    client.force_login(user)
    url = reverse("tickets:list")
    params = {"status": ["in_progress", "waiting"], "customer": "customer", "sort": "-performer"}
    make_work(3, queue=queue, performer=engineer, reason=waiting_reason)
    count_queries(client, url, params)
    three = count_queries(client, url, params)
    make_work(27, queue=queue, performer=engineer, reason=waiting_reason, start=3)
    assert count_queries(client, url, params) == three


def test_the_intake_query_count_does_not_grow_with_rows(client, dispatcher, engineer, queue):
    for n in range(3):
        MembershipFactory(queue=queue, user=UserFactory(username=f"agent{n}", role="engineer"))
    client.force_login(dispatcher)
    url = reverse("tickets:intake")
    for i in range(3):
        TicketFactory(queue=queue, title=f"Call {i}", customer=CustomerFactory())
    count_queries(client, url)
    three = count_queries(client, url)
    for i in range(3, 30):
        TicketFactory(queue=queue, title=f"Call {i}", customer=CustomerFactory())
    thirty = count_queries(client, url)
    assert thirty == three
    content = client.get(url, {"per_page": 50}).content.decode()
    assert content.count('name="performer"') == 30


def test_tickets_an_escalation_marked_urgent_carry_the_mark_in_lists_without_a_query_per_row(
    client, engineer, queue, waiting_reason
):
    from escalations.models import TicketEscalationState

    client.force_login(engineer)
    make_work(6, queue=queue, performer=engineer, reason=waiting_reason)
    urgent = list(Ticket.objects.filter(performer=engineer).order_by("pk")[:2])
    TicketEscalationState.objects.create(ticket=urgent[0], urgent_since=timezone.now())
    TicketEscalationState.objects.create(ticket=urgent[1], urgent_since=None)  # the mark was cleared
    for name in ("tickets:my_work", "tickets:list"):
        url = reverse(name)
        before = count_queries(client, url)
        page = client.get(url, {"per_page": 50}).content.decode()
        assert page.count("data-urgent") == 1, name
        row = page[page.index(f">{urgent[0].title}</a>"):]
        assert row.index("data-urgent") < row.index("</td>")  # beside its own title
        TicketEscalationState.objects.filter(ticket=urgent[1]).update(urgent_since=timezone.now())
        assert count_queries(client, url) == before
        assert client.get(url, {"per_page": 50}).content.decode().count("data-urgent") == 2
        TicketEscalationState.objects.filter(ticket=urgent[1]).update(urgent_since=None)
