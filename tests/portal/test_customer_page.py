"""The customer page (``portal.customer_views``): the customer's tickets the viewer may open, totals, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.customer_selectors import MONTHS_SHOWN, customer_totals
from tests.factories import CustomerFactory, TicketFactory, UserFactory
from tickets.customers import internal_customer
from tickets.models import Status, Ticket


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Olga Smirnova", email="olga@client.example")


@pytest.fixture
def history(customer, queue, other_queue):
    """Two open and one closed ticket in the engineer's queue, one open ticket in another queue."""
    old = TicketFactory(queue=queue, customer=customer, title="Old invoice", status=Status.DONE)
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    first = TicketFactory(queue=queue, customer=customer, title="Router down")
    second = TicketFactory(queue=queue, customer=customer, title="Router still down")
    hidden = TicketFactory(queue=other_queue, customer=customer, title="Sales quote")
    return {"old": old, "first": first, "second": second, "hidden": hidden}


def _page(client, user, customer):
    client.force_login(user)
    return client.get(reverse("tickets:customer", args=[customer.pk]))


def test_a_dispatcher_sees_the_customers_tickets_open_first_with_totals(client, dispatcher, customer, history):
    html = _page(client, dispatcher, customer).content.decode()
    rows = [html.index(f">#{history[key].pk}<") for key in ("second", "first", "old")]
    assert rows == sorted(rows)  # open first (newest first), then closed
    assert "Sales quote" not in html  # another queue: the dispatcher may not open it
    totals = customer_totals(customer, dispatcher)
    assert (totals.total, totals.open, totals.breached) == (3, 2, 0)
    assert len(totals.months) == MONTHS_SHOWN and totals.months[0].created == 2
    assert sum(month.created for month in totals.months) == 3
    assert "Not recorded yet" in html  # no satisfaction figure is made up
    assert totals.satisfaction is None
    assert 'form="bulk-form"' not in html  # no bulk bar here, so no checkboxes pointing at one


def test_an_admin_counts_every_ticket(client, admin_user, customer, history):
    html = _page(client, admin_user, customer).content.decode()
    assert "Sales quote" in html
    assert customer_totals(customer, admin_user).total == 4


def test_an_engineer_sees_and_counts_only_tickets_they_may_open(client, engineer, other_engineer, customer, history):
    assert customer_totals(customer, engineer).total == 3
    only_hidden = _page(client, other_engineer, customer).content.decode()
    assert "Sales quote" in only_hidden and "Router down" not in only_hidden
    assert customer_totals(customer, other_engineer).total == 1


def test_a_customer_none_of_whose_tickets_the_viewer_may_open_is_not_found(client, other_engineer, queue):
    stranger = CustomerFactory(name="Hidden Ltd")
    TicketFactory(queue=queue, customer=stranger, title="Not yours")
    response = _page(client, other_engineer, stranger)
    assert response.status_code == 404 and b"Hidden Ltd" not in response.content


@pytest.mark.parametrize("which", ["unknown", "internal"])
def test_unknown_customers_and_the_internal_requester_have_no_page(client, admin_user, queue, which):
    pk = 999_999 if which == "unknown" else internal_customer().pk
    client.force_login(admin_user)
    assert client.get(reverse("tickets:customer", args=[pk])).status_code == 404


def test_users_without_a_role_are_refused_and_visitors_sent_to_log_in(client, customer, history):
    url = reverse("tickets:customer", args=[customer.pk])
    assert "/login/" in client.get(url)["Location"]
    client.force_login(UserFactory(username="plain"))
    assert client.get(url).status_code == 403


def test_the_ticket_page_links_to_the_customer_page_and_lists_other_tickets_with_their_status(
    client, engineer, customer, history
):
    client.force_login(engineer)
    html = client.get(reverse("tickets:detail", args=[history["first"].pk])).content.decode()
    assert reverse("tickets:customer", args=[customer.pk]) in html
    assert f'data-organisation-ticket="{history["second"].pk}"' in html
    assert f'data-organisation-ticket="{history["old"].pk}"' in html
    assert "Sales quote" not in html


def test_the_page_reads_in_russian(client, dispatcher, customer, history):
    client.force_login(dispatcher)
    client.cookies["django_language"] = "ru"
    html = client.get(reverse("tickets:customer", args=[customer.pk])).content.decode()
    assert "Заявок по месяцам" in html and "Пока не собирается" in html


def test_the_satisfaction_figure_counts_the_answers_of_the_tickets_the_viewer_may_open(
    client, dispatcher, customer, history
):
    from tickets import satisfaction

    for key, rating in (("old", "good"), ("first", "bad"), ("hidden", "good")):
        survey = satisfaction.survey_start(history[key], route="email")
        satisfaction.survey_answer(survey, rating=rating)
    totals = customer_totals(customer, dispatcher)
    assert (totals.satisfaction.good, totals.satisfaction.bad, totals.satisfaction.percent_good) == (1, 1, 50.0)
    html = _page(client, dispatcher, customer).content.decode()
    assert "Not recorded yet" not in html
    assert "50 % good" in html  # the "Sales quote" answer, in a queue the dispatcher may not open, is left out


def test_postgresql_reads_the_open_first_order_off_its_index(customer, history, engineer):
    """``open_first`` ranks with the indexed expression (``tickets.models.closed_rank``): with sorting priced out,
    PostgreSQL walks ``ticket_customer_open_first`` and sorts nothing. Fails if the query's order and the index's
    part ways (another expression, another status list): the page would sort every ticket of the customer again."""
    from django.db import connection

    from portal.customer_selectors import customer_tickets, open_first

    if connection.vendor != "postgresql":
        pytest.skip("an expression index matched by PostgreSQL's planner")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
    for tickets in (open_first(Ticket.objects.filter(customer=customer))[:10], customer_tickets(customer, engineer)):
        plan = tickets.explain()
        assert "ticket_customer_open_first" in plan and "Sort" not in plan, plan
