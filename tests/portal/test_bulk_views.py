"""The bulk bar and the bulk job page: who may use them, what they change, and how bad input is answered."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import TicketFactory
from tickets import bulk
from tickets.models import BulkJob, Priority, TicketEvent


@pytest.fixture
def tickets(queue):
    return [TicketFactory(queue=queue) for _ in range(3)]


def post(client, **data):
    return client.post(reverse("tickets:bulk"), data)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


@pytest.mark.parametrize("page", ["tickets:list", "tickets:my_work", "tickets:intake"])
def test_dispatchers_get_checkboxes_and_the_bar(client, dispatcher, tickets, page):
    client.force_login(dispatcher)
    content = client.get(reverse(page)).content.decode()
    assert 'id="bulk-form"' in content
    if page != "tickets:my_work":  # nothing on the dispatcher's own desk
        assert f'name="ticket" value="{tickets[0].pk}" form="bulk-form"' in content


@pytest.mark.parametrize("page", ["tickets:list", "tickets:my_work"])
def test_engineers_get_neither(client, engineer, tickets, page):
    client.force_login(engineer)
    content = client.get(reverse(page)).content.decode()
    assert "bulk-form" not in content and 'name="ticket"' not in content


def test_a_dispatcher_assigns_the_ticked_rows(client, dispatcher, engineer, tickets):
    client.force_login(dispatcher)
    response = post(
        client,
        action="assign",
        assignee=engineer.pk,
        scope="selected",
        source="intake",
        ticket=[tickets[0].pk, tickets[1].pk],
    )
    job = BulkJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("tickets:bulk_job", args=[job.pk])
    assert (job.done, job.total) == (2, 2)
    assert "2 of 2 tickets changed." in messages_of(response)
    tickets[2].refresh_from_db()
    assert tickets[2].performer is None
    page = client.get(response.url).content.decode()
    assert 'data-count="done">2<' in page


def test_every_row_of_the_filter_runs_as_a_task(
    client, dispatcher, tickets, other_queue, django_capture_on_commit_callbacks
):
    TicketFactory(queue=other_queue, priority=Priority.LOW)  # not visible to this dispatcher
    client.force_login(dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            action="priority",
            priority=Priority.HIGH,
            scope="filter",
            source="list",
            query=f"queue={tickets[0].queue_id}",
            ticket=[tickets[0].pk],
        )
    assert response.status_code == 302
    job = BulkJob.objects.get()
    assert (job.state, job.total, job.done) == ("finished", 3, 3)
    assert sorted(job.ticket_ids) == sorted(t.pk for t in tickets)


def test_ids_the_user_cannot_see_are_skipped_and_named_without_details(client, dispatcher, tickets, other_queue):
    hidden = TicketFactory(queue=other_queue, title="Secret merger")
    client.force_login(dispatcher)
    response = post(
        client,
        action="priority",
        priority=Priority.HIGH,
        scope="selected",
        source="list",
        ticket=[tickets[0].pk, hidden.pk, 424242],
    )
    page = client.get(response.url).content.decode()
    assert f"#{hidden.pk}: Not found, or not visible to you." in page
    assert "Secret merger" not in page
    hidden.refresh_from_db()
    assert hidden.priority != Priority.HIGH


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "status", "status": "waiting"}, "Choose a blocking reason"),
        ({"action": "status", "status": "done", "reason": "1"}, "only for “waiting for external action”"),
        ({"action": "assign", "assignee": "nobody"}, "Choose the person"),
        ({"action": ""}, "Choose what to do"),
        ({"action": "priority", "priority": "1", "ticket": ["abc"]}, "not a ticket number"),
        ({"action": "priority", "priority": "1", "ticket": []}, "Select at least one ticket"),
    ],
)
def test_bad_input_is_a_clear_message_and_changes_nothing(client, dispatcher, tickets, data, message):
    client.force_login(dispatcher)
    data = {
        "scope": "selected",
        "source": "list",
        "ticket": [t.pk for t in tickets],
        **data,
        "next": reverse("tickets:intake"),
    }
    response = post(client, **data)
    assert response.status_code == 302 and response.url == reverse("tickets:intake")
    assert any(message in text for text in messages_of(response))
    assert not BulkJob.objects.exists()
    assert not TicketEvent.objects.filter(ticket__in=tickets).exists()


def test_engineers_are_refused(client, engineer, tickets):
    client.force_login(engineer)
    assert post(client, action="priority", priority=1, ticket=[tickets[0].pk]).status_code == 403
    job = BulkJob.objects.create(actor=engineer, action="priority", total=0)
    assert client.get(reverse("tickets:bulk_job", args=[job.pk])).status_code == 403
    assert not TicketEvent.objects.filter(ticket__in=tickets).exists()


def test_a_user_without_a_role_is_refused(client, tickets, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert post(client, action="priority", priority=1, ticket=[tickets[0].pk]).status_code == 403


def test_anonymous_users_go_to_the_login_page(client, tickets):
    response = post(client, action="priority", priority=1, ticket=[tickets[0].pk])
    assert response.status_code == 302 and reverse("login") in response.url


def test_the_bulk_endpoint_takes_no_get(client, dispatcher):
    client.force_login(dispatcher)
    assert client.get(reverse("tickets:bulk")).status_code == 405


def test_another_persons_job_is_not_found(client, dispatcher, manager, tickets):
    job = bulk.bulk_start(dispatcher, action="priority", params={"priority": 1}, ticket_ids=[tickets[0].pk])
    client.force_login(manager)
    assert client.get(reverse("tickets:bulk_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("tickets:bulk_job", args=[999999])).status_code == 404


def test_the_job_page_polls_while_running_and_stops_when_finished(client, dispatcher, tickets):
    job = BulkJob.objects.create(
        actor=dispatcher, action="priority", params={"priority": 1}, ticket_ids=[tickets[0].pk], total=1
    )
    client.force_login(dispatcher)
    url = reverse("tickets:bulk_job", args=[job.pk])
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in fragment and "<html" not in fragment
    bulk.bulk_job_run(job.pk)
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment and 'data-count="done">1<' in fragment


@pytest.mark.parametrize("source", ["list", "my_work", "intake", "elsewhere"])
def test_a_hostile_filter_query_never_gives_a_server_error(
    client, dispatcher, tickets, source, django_capture_on_commit_callbacks
):
    client.force_login(dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            action="priority",
            priority=Priority.HIGH,
            scope="filter",
            source=source,
            query="status=%00&queue=abc&performer=-1&overdue=%ZZ&page=x",
        )
    assert response.status_code == 302
