"""The dashboard's "now" figures cost the same number of queries whatever the number of open tickets, and the
red zone it counts is the red zone the ticket list filters (both ``sla.selectors.red_zone_q``)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from reports.dashboard.now import now_figures
from sla.models import SLAClock
from tests.factories import CustomerFactory
from tests.reports.conftest import almaty
from tickets import services
from tickets.models import BlockingReason, Status


def _open(n: int, *, queue, dispatcher, engineer, time_machine, start: int) -> None:
    """``n`` open tickets on Friday 6 March 2026: every third waiting, every fourth unassigned; some in the red."""
    reasons = list(BlockingReason.objects.filter(code__in=["customer", "no-stock"]))
    for i in range(start, start + n):
        # 09:00 + i min: first response (2 h) breached by 17:00; from 16:00 it is not yet at 80 %
        created = almaty(2026, 3, 6, 9) + timedelta(minutes=i) if i % 2 else almaty(2026, 3, 6, 16, i % 30)
        time_machine.move_to(created, tick=False)
        ticket = services.ticket_create(
            actor=dispatcher,
            title=f"Ticket {i}",
            customer=CustomerFactory(),
            queue=queue,
            description="x",
            performer=None if i % 4 == 0 else engineer,
        )
        if i % 3 == 0 and ticket.performer_id:
            services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=reasons[i % 2])
    time_machine.move_to(almaty(2026, 3, 6, 17), tick=False)


def _figures(viewer):
    viewer = type(viewer).objects.get(pk=viewer.pk)  # nothing cached on the instance: count every query
    with CaptureQueriesContext(connection) as captured:
        figures = now_figures(viewer, timezone.now())
    return figures, len(captured)


def _red_in_the_list(client, viewer) -> set[int]:
    client.force_login(viewer)
    response = client.get(reverse("tickets:list"), {"zone": "red", "per_page": 100})
    assert response.status_code == 200
    return {int(pk) for pk in re.findall(r'href="/tickets/(\d+)/"', response.content.decode())}


@pytest.mark.parametrize("n", [4, 6])
def test_the_now_figures_cost_the_same_queries_at_n_and_3n_open_tickets(
    n, client, policy, queue, dispatcher, engineer, viewer, time_machine
):
    queue.manager = viewer
    queue.save()
    _open(n, queue=queue, dispatcher=dispatcher, engineer=engineer, time_machine=time_machine, start=0)
    small, small_queries = _figures(viewer)
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as page_small:
        assert client.get(reverse("reports:dashboard"), {"period": "today"}).status_code == 200
    _open(2 * n, queue=queue, dispatcher=dispatcher, engineer=engineer, time_machine=time_machine, start=n)
    large, large_queries = _figures(viewer)
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as page_large:
        assert client.get(reverse("reports:dashboard"), {"period": "today"}).status_code == 200

    assert (small.open.value, large.open.value) == (n, 3 * n)
    assert 0 < small.red_zone.value < large.red_zone.value < large.open.value
    assert large.unassigned.value == len(range(0, 3 * n, 4)) and large.waiting  # every figure has something to count
    assert small_queries == large_queries == 10  # the viewer's roles and visibility (5), the 5 figure queries
    assert len(page_large) == len(page_small)  # the whole page, "today"


def test_the_red_zone_filter_and_the_dashboard_agree(client, policy, queue, dispatcher, engineer, viewer, time_machine):
    queue.manager = viewer
    queue.save()
    _open(12, queue=queue, dispatcher=dispatcher, engineer=engineer, time_machine=time_machine, start=0)
    figures, _queries = _figures(viewer)
    listed = _red_in_the_list(client, viewer)
    assert len(listed) == figures.red_zone.value > 0
    expected = set(
        SLAClock.objects.filter(
            red_at__lte=timezone.now(),
            ticket__status__in=[Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING],
        ).values_list("ticket_id", flat=True)
    )
    assert listed == expected
    # Later the rest of the clocks reach 80 %: both move together, with no recomputation in between.
    time_machine.move_to(almaty(2026, 3, 9, 17), tick=False)
    figures, _queries = _figures(viewer)
    assert len(_red_in_the_list(client, viewer)) == figures.red_zone.value > len(listed)


def _page_queries(client, user, period: str) -> int:
    user = type(user).objects.get(pk=user.pk)
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("reports:dashboard"), {"period": period}).status_code == 200
    return len(captured)


@pytest.mark.parametrize("rollups_built", [False, True])
def test_the_whole_dashboard_costs_a_pinned_number_of_queries_for_an_admin_and_a_queue_manager(
    rollups_built, client, policy, queue, dispatcher, engineer, viewer, admin_user, time_machine
):
    """The page's query count, as an admin and as the queue's manager, "today" and "30 days", is the same with 6 and
    with 18 open tickets (and with closed ones), and pinned: a new query on the dashboard shows here."""
    from reports import rollups

    queue.manager = viewer
    queue.save()
    sizes = []
    for start, n in ((0, 6), (6, 12)):
        _open(n, queue=queue, dispatcher=dispatcher, engineer=engineer, time_machine=time_machine, start=start)
        services.ticket_change_status(
            services.ticket_create(
                actor=dispatcher,
                title=f"Closed {start}",
                customer=CustomerFactory(),
                queue=queue,
                description="x",
                performer=engineer,
            ),
            status=Status.DONE,
            actor=engineer,
        )
        if rollups_built:
            rollups.rebuild()
        sizes.append(
            {
                (who, period): _page_queries(client, user, period)
                for who, user in (("admin", admin_user), ("queue manager", viewer))
                for period in ("today", "30d")
            }
        )
    small, large = sizes
    assert small == large
    # The queue manager's 4 more resolve their visibility (permissions in one query, managed queues, team, observed
    # tickets: tickets.visibility), which a superuser skips; "today" and "30 days" cost the same.
    admin, manager = (37, 41) if rollups_built else (35, 39)
    if not rollups_built and connection.vendor == "postgresql":  # percentile_cont: no read of the clocks' values
        admin, manager = admin - 1, manager - 1
    assert large == {
        ("admin", "today"): admin,
        ("admin", "30d"): admin,
        ("queue manager", "today"): manager,
        ("queue manager", "30d"): manager,
    }
