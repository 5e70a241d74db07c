"""The ticket page's merge and link panels (``portal.merge_views``): who may, who is refused, bad input."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, TicketFactory, UserFactory
from tickets import links, merge
from tickets.models import LinkKind, Message, Status, Ticket, TicketEvent, TicketLink


@pytest.fixture
def pair(queue, engineer):
    customer = CustomerFactory(name="Ivan Petrov")
    original = TicketFactory(
        queue=queue, customer=customer, title="Printer jam", performer=engineer, status=Status.IN_PROGRESS
    )
    duplicate = TicketFactory(queue=queue, customer=customer, title="Printer jam (again)")
    Message.objects.create(ticket=duplicate, kind=Message.Kind.INBOUND, body="Still jams", customer=customer)
    return original, duplicate


def _state():
    return (
        list(Ticket.objects.order_by("pk").values_list("pk", "status", "merged_into_id")),
        list(Message.objects.values_list("pk", "ticket_id")),
        TicketEvent.objects.count(),
        list(TicketLink.objects.values_list("source", "target", "kind")),
    )


def _merge(client, ticket, into):
    return client.post(reverse("tickets:merge", args=[ticket.pk]), {"into": into})


def test_a_dispatcher_merges_from_the_duplicates_page_and_lands_on_the_survivor(client, pair, dispatcher):
    original, duplicate = pair
    client.force_login(dispatcher)
    page = client.get(reverse("tickets:detail", args=[duplicate.pk])).content.decode()
    assert "data-merge" in page
    response = _merge(client, duplicate, f"#{original.pk}")
    assert response.status_code == 302 and response["Location"] == reverse("tickets:detail", args=[original.pk])
    survivor = client.get(response["Location"]).content.decode()
    assert "Still jams" in survivor and f'data-ticket-link="{duplicate.pk}"' in survivor
    assert "merged into" in survivor
    closed = client.get(reverse("tickets:detail", args=[duplicate.pk])).content.decode()
    assert f'data-merged-into="{original.pk}"' in closed and "data-merge>" not in closed


@pytest.mark.parametrize("role", ["manager", "admin_user"])
def test_managers_and_admins_may_merge_tickets_they_see(client, pair, role, request, engineer):
    original, duplicate = pair
    Ticket.objects.filter(pk=duplicate.pk).update(performer=engineer, status=Status.ASSIGNED)  # the manager's team
    user = request.getfixturevalue(role)
    client.force_login(user)
    assert _merge(client, duplicate, original.pk).status_code == 302
    assert Ticket.objects.get(pk=duplicate.pk).merged_into_id == original.pk


@pytest.mark.parametrize("role, status", [("engineer", 403), ("other_engineer", 404), ("nobody", 404)])
def test_engineers_outsiders_and_users_without_a_role_are_refused_and_nothing_changes(
    client, pair, role, status, request
):
    original, duplicate = pair
    user = UserFactory(username="plain") if role == "nobody" else request.getfixturevalue(role)
    client.force_login(user)
    before = _state()
    assert _merge(client, duplicate, original.pk).status_code == status
    assert _state() == before
    page = client.get(reverse("tickets:detail", args=[duplicate.pk]))
    assert page.status_code == 404 or "data-merge" not in page.content.decode()


def test_an_anonymous_visitor_is_sent_to_log_in(client, pair):
    original, duplicate = pair
    response = _merge(client, duplicate, original.pk)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "value, says",
    [
        ("", "This field is required"),
        ("abc", "Enter a ticket number"),
        ("#0", "Enter a ticket number"),
        ("9" * 30, "Enter a ticket number"),
        ("999999999", "does not exist or you may not open it"),
        ("FOREIGN", "does not exist or you may not open it"),
        ("SELF", "cannot be merged into itself"),
        ("OTHER_CUSTOMER", "belong to different customers"),
    ],
)
def test_bad_merge_input_gets_a_clear_message_and_changes_nothing(client, pair, dispatcher, other_queue, value, says):
    original, duplicate = pair
    value = {
        "FOREIGN": str(TicketFactory(queue=other_queue, customer=original.customer).pk),
        "SELF": str(duplicate.pk),
        "OTHER_CUSTOMER": str(TicketFactory(queue=original.queue).pk),
    }.get(value, value)
    client.force_login(dispatcher)
    before = _state()
    response = client.post(reverse("tickets:merge", args=[duplicate.pk]), {"into": value}, follow=True)
    assert response.status_code == 200
    assert says in response.content.decode()
    assert _state() == before


def test_a_merge_is_post_only(client, pair, dispatcher):
    _original, duplicate = pair
    client.force_login(dispatcher)
    assert client.get(reverse("tickets:merge", args=[duplicate.pk])).status_code == 405


# --- Links ----------------------------------------------------------------------------------------------


def test_an_engineer_links_tickets_and_both_pages_show_it(client, pair, engineer):
    original, duplicate = pair
    client.force_login(engineer)
    response = client.post(
        reverse("tickets:link", args=[original.pk]), {"kind": "parent", "other": str(duplicate.pk)}, follow=True
    )
    assert "Linked with" in response.content.decode()
    parent = client.get(reverse("tickets:detail", args=[original.pk])).content.decode()
    assert "data-children-summary" in parent and "1 child ticket" in parent
    child = client.get(reverse("tickets:detail", args=[duplicate.pk])).content.decode()
    assert f'data-ticket-link="{original.pk}"' in child and "Child of" in child
    client.post(reverse("tickets:unlink", args=[duplicate.pk]), {"other": str(original.pk)})
    assert not TicketLink.objects.exists()
    assert TicketEvent.objects.filter(kind="ticket.unlinked").count() == 2


@pytest.mark.parametrize(
    "data, says",
    [
        ({"kind": "sibling", "other": "1"}, "Select a valid choice"),
        ({"kind": "related", "other": "x1"}, "Enter a ticket number"),
        ({"kind": "related", "other": "999999"}, "does not exist or you may not open it"),
        ({"kind": "related", "other": "SELF"}, "cannot be linked to itself"),
        ({"kind": "child", "other": "CYCLE"}, "cannot go round in a circle"),
    ],
)
def test_bad_link_input_gets_a_clear_message_and_changes_nothing(client, pair, engineer, data, says):
    original, duplicate = pair
    links.ticket_link(original, other=duplicate, kind=LinkKind.PARENT, actor=engineer)
    third = TicketFactory(queue=original.queue)
    links.ticket_link(duplicate, other=third, kind=LinkKind.PARENT, actor=engineer)
    data = {**data, "other": {"SELF": str(original.pk), "CYCLE": str(third.pk)}.get(data["other"], data["other"])}
    client.force_login(engineer)
    before = _state()
    response = client.post(reverse("tickets:link", args=[original.pk]), data, follow=True)
    assert says in response.content.decode()
    assert _state() == before


def test_an_outsider_cannot_link_or_unlink(client, pair, other_engineer, engineer):
    original, duplicate = pair
    links.ticket_link(original, other=duplicate, kind=LinkKind.RELATED, actor=engineer)
    client.force_login(other_engineer)
    before = _state()
    assert (
        client.post(reverse("tickets:link", args=[original.pk]), {"kind": "related", "other": "1"}).status_code == 404
    )
    assert client.post(reverse("tickets:unlink", args=[original.pk]), {"other": str(duplicate.pk)}).status_code == 404
    assert _state() == before


def test_the_page_never_shows_a_linked_ticket_the_viewer_may_not_open(client, pair, engineer, admin_user, other_queue):
    original, _duplicate = pair
    hidden = TicketFactory(queue=other_queue, title="Secret elsewhere")
    links.ticket_link(original, other=hidden, kind=LinkKind.RELATED, actor=admin_user)
    client.force_login(engineer)
    page = client.get(reverse("tickets:detail", args=[original.pk])).content.decode()
    assert "Secret elsewhere" not in page and f'data-ticket-link="{hidden.pk}"' not in page


def test_the_merge_link_of_a_merged_ticket_offers_no_remove_button(client, pair, dispatcher):
    original, duplicate = pair
    merge.ticket_merge(duplicate, into=original, actor=dispatcher)
    client.force_login(dispatcher)
    page = client.get(reverse("tickets:detail", args=[original.pk])).content.decode()
    assert reverse("tickets:unlink", args=[original.pk]) not in page


def test_the_ticket_pages_panels_cost_the_same_queries_for_one_or_many_links_and_other_tickets(
    client, pair, dispatcher, engineer
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    original, duplicate = pair
    links.ticket_link(original, other=duplicate, kind=LinkKind.RELATED, actor=engineer)
    client.force_login(dispatcher)
    url = reverse("tickets:detail", args=[original.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(6):
        other = TicketFactory(queue=original.queue, customer=original.customer, title=f"More {number}")
        links.ticket_link(original, other=other, kind=LinkKind.PARENT, actor=engineer)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert page.count("data-organisation-ticket=") == 7 and page.count("data-ticket-link=") == 7
    assert len(many) == len(few)
