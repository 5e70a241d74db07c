"""The queue monitor page and its alerts; the pull-queue actions; access per role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from routing import queue_monitor
from routing.models import TicketSkip
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketFactory, UserFactory
from tickets import services
from tickets.models import Profile, QueueMembership, RoutingStrategy, Status, Ticket

URL = reverse("tickets:queue_monitor")


def wait(queue, minutes=0, **kw):
    ticket = TicketFactory(queue=queue, **kw)
    Ticket.objects.filter(pk=ticket.pk).update(status_changed_at=timezone.now() - timedelta(minutes=minutes))
    return ticket


def test_the_monitor_shows_waiting_waits_agents_and_closed_per_queue(client, dispatcher, queue, engineer):
    QueueMembership.objects.filter(user=engineer).update(capacity=4)
    wait(queue, 10)
    wait(queue, 30)
    TicketFactory(queue=queue, performer=engineer, status=Status.ASSIGNED)
    TicketFactory(queue=queue, performer=engineer, status=Status.DONE, done_at=timezone.now() - timedelta(minutes=5))
    TicketFactory(queue=queue, status=Status.DONE, done_at=timezone.now() - timedelta(hours=2))
    [stats] = queue_monitor.queue_stats([queue])
    assert (stats.waiting, stats.closed_last_hour) == (2, 1)
    assert timedelta(minutes=29) < stats.oldest_wait < timedelta(minutes=31)
    assert timedelta(minutes=19) < stats.average_wait < timedelta(minutes=21)
    [agent] = stats.agents
    assert (agent.user, agent.open_tickets, agent.capacity, agent.available) == (engineer, 1, 4, True)
    client.force_login(dispatcher)
    content = client.get(URL).content.decode()
    assert 'hx-trigger="every 30s"' in content and "1 / 4" in content and "30 min" in content


def test_the_htmx_refresh_returns_only_the_fragment(client, dispatcher, queue):
    client.force_login(dispatcher)
    content = client.get(URL, headers={"HX-Request": "true"}).content.decode()
    assert "qm-grid" in content and "<html" not in content


def test_dispatchers_see_their_queues_managers_every_queue(client, dispatcher, manager, queue, other_queue):
    client.force_login(dispatcher)
    content = client.get(URL).content.decode()
    assert 'data-queue="service"' in content and 'data-queue="sales"' not in content
    client.force_login(manager)
    content = client.get(URL).content.decode()
    assert 'data-queue="service"' in content and 'data-queue="sales"' in content


def test_engineers_may_not_watch_queues_and_anonymous_users_must_log_in(client, engineer):
    assert client.get(URL).status_code == 302
    client.force_login(engineer)
    assert client.get(URL).status_code == 403
    assert "Queues" not in client.get(reverse("tickets:my_work")).content.decode().split("</nav>")[0]


def test_the_monitor_runs_the_same_queries_for_2_queues_as_for_12(client, manager):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL).status_code == 200
        return len(ctx.captured_queries)

    def add_queues(n, start):
        for i in range(start, start + n):
            q = QueueFactory(slug=f"q{i}", name=f"Q{i}", max_waiting=100)
            for j in range(3):
                user = UserFactory(username=f"agent{i}-{j}", role="engineer")
                MembershipFactory(queue=q, user=user, capacity=5)
                TicketFactory(queue=q, performer=user, status=Status.ASSIGNED)
            wait(q, 5)

    client.force_login(manager)
    add_queues(2, 0)
    count()
    few = count()
    add_queues(10, 2)
    assert count() == few


def test_a_threshold_crossing_notifies_the_dispatchers_once_and_again_after_it_cleared(queue, dispatcher):
    queue.max_waiting = 1
    queue.save()
    first = wait(queue)
    assert queue_monitor.evaluate_all_alerts() == 0
    wait(queue)
    assert queue_monitor.evaluate_all_alerts() == 1
    assert queue_monitor.evaluate_all_alerts() == 0  # still over: no second notice
    note = Notification.objects.get(recipient=dispatcher, kind="queue.threshold")
    assert "Service: 2 tickets waiting" in note.title
    Ticket.objects.filter(pk=first.pk).update(status=Status.CANCELED)
    assert queue_monitor.evaluate_all_alerts() == 0
    queue.refresh_from_db()
    assert queue.alert_waiting_since is None
    wait(queue)
    assert queue_monitor.evaluate_all_alerts() == 1
    assert Notification.objects.filter(kind="queue.threshold").count() == 2


def test_the_oldest_wait_threshold_alerts_and_shows_on_the_monitor(client, queue, dispatcher):
    queue.max_oldest_wait = timedelta(minutes=15)
    queue.save()
    wait(queue, 20)
    client.force_login(dispatcher)
    content = client.get(URL).content.decode()
    assert "qm-alert" in content and "The oldest ticket waits longer than 15 min." in content
    assert queue_monitor.evaluate_all_alerts() == 1  # the schedule notices the crossing, not the page
    assert Notification.objects.filter(recipient=dispatcher, kind="queue.threshold").count() == 1
    client.get(URL)
    assert Notification.objects.filter(recipient=dispatcher, kind="queue.threshold").count() == 1


def _snapshot() -> tuple:
    from notifications.models import Notification as N
    from tickets.models import Queue

    return (
        list(Queue.objects.order_by("pk").values_list("pk", "alert_waiting_since", "alert_oldest_since")),
        list(N.objects.order_by("pk").values_list("pk", "read_at")),
    )


@pytest.mark.parametrize("htmx", [False, True])
def test_a_get_of_the_monitor_writes_nothing_and_the_schedule_still_alerts(client, queue, dispatcher, htmx):
    """Issue 19, point 9: the page is read-only; ``routing.queue_alerts`` notices a crossing."""
    queue.max_waiting = 1
    queue.max_oldest_wait = timedelta(minutes=15)
    queue.save()
    wait(queue, 20)
    wait(queue, 20)
    client.force_login(dispatcher)
    before = _snapshot()
    headers = {"HX-Request": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as ctx:
        content = client.get(URL, headers=headers).content.decode()
    assert "qm-alert" in content  # the crossing still shows on the page
    writes = [q["sql"] for q in ctx.captured_queries
              if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
              and "django_session" not in q["sql"]]
    assert writes == []
    assert _snapshot() == before and not Notification.objects.exists()
    assert queue_monitor.evaluate_all_alerts() == 2  # waiting and oldest: the schedule alerts
    queue.refresh_from_db()
    assert queue.alert_waiting_since is not None and queue.alert_oldest_since is not None
    assert Notification.objects.filter(recipient=dispatcher, kind="queue.threshold").count() == 2


def test_off_shift_away_agents_show_as_unavailable(queue, engineer):
    Profile.objects.filter(user=engineer).update(is_away=True)
    [stats] = queue_monitor.queue_stats([queue])
    assert stats.on_shift == [] and stats.agents[0].away


# --- Pull queue actions -------------------------------------------------------------------------


@pytest.fixture
def pull(queue):
    queue.strategy = RoutingStrategy.PULL
    queue.save()
    return queue


def test_an_agent_takes_the_next_ticket_from_my_work(client, pull, engineer):
    older = services.ticket_create(actor=None, title="Older", customer=CustomerFactory(), queue=pull)
    client.force_login(engineer)
    content = client.get(reverse("tickets:my_work")).content.decode()
    assert "Take next" in content and "Older" in content
    response = client.post(reverse("tickets:take_next", args=[pull.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("tickets:detail", args=[older.pk])
    assert Ticket.objects.get(pk=older.pk).performer == engineer
    response = client.post(reverse("tickets:take_next", args=[pull.pk]), follow=True)
    assert "Nothing is waiting in this queue." in response.content.decode()


def test_an_agent_skips_with_a_reason_and_the_monitor_lists_it(client, pull, engineer, dispatcher):
    ticket = services.ticket_create(actor=None, title="Hard one", customer=CustomerFactory(), queue=pull)
    client.force_login(engineer)
    client.post(reverse("tickets:skip", args=[ticket.pk]), {"reason": ""})
    assert not TicketSkip.objects.exists()
    client.post(reverse("tickets:skip", args=[ticket.pk]), {"reason": "Needs Kazakh"})
    assert TicketSkip.objects.get().reason == "Needs Kazakh"
    client.force_login(dispatcher)
    content = client.get(URL).content.decode()
    assert "Who skips what" in content and "Needs Kazakh" in content


def test_pull_actions_refuse_non_agents_and_need_post(client, pull, dispatcher, other_engineer, engineer):
    ticket = services.ticket_create(actor=None, title="x", customer=CustomerFactory(), queue=pull)
    take = reverse("tickets:take_next", args=[pull.pk])
    skip = reverse("tickets:skip", args=[ticket.pk])
    assert client.post(take).status_code == 302 and "login" in client.post(take)["Location"]
    client.force_login(dispatcher)
    assert client.post(take).status_code == 403
    assert client.post(skip, {"reason": "r"}).status_code == 403
    client.force_login(other_engineer)
    assert client.post(take).status_code == 403
    assert client.post(skip, {"reason": "r"}).status_code == 404  # not visible to them
    client.force_login(engineer)
    assert client.get(take).status_code == 405
    assert Ticket.objects.get(pk=ticket.pk).performer is None and not TicketSkip.objects.exists()
