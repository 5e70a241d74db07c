"""The VIP queue priority copied onto tickets (``tickets.queue_priority``) follows every change of a customer's tier
and of a tier's priority: each writer checked against the join it stands for."""

from __future__ import annotations

import pytest
from django.db.models import F

from tests.factories import CustomerFactory, QueueFactory, UserFactory, VipTierFactory
from tickets import services
from tickets.models import NO_TIER_PRIORITY, Customer, Organisation, Ticket, VipTier
from tickets.organisations import organisation_sync_contacts
from tickets.queue_priority import queue_priority_of, refresh_queue_priority

pytestmark = pytest.mark.django_db


def _stale() -> list[tuple[int, int | None, int | None]]:
    """Tickets whose copy differs from their customer's tier priority (none is the answer everywhere)."""
    rows = Ticket.objects.values_list("pk", "vip_queue_priority", "customer__vip_tier__queue_priority")
    return [row for row in rows if row[1] != (NO_TIER_PRIORITY if row[2] is None else row[2])]


@pytest.fixture
def desk(db):
    return QueueFactory(slug="vip-desk", name="Desk"), UserFactory(role="dispatcher")


def _ticket(desk, customer) -> Ticket:
    queue, actor = desk
    return services.ticket_create(title="Help", description="", customer=customer, queue=queue, actor=actor)


def test_a_new_ticket_carries_its_customers_tier_priority(desk):
    gold = VipTierFactory(name="Gold", rank=2, queue_priority=5)
    vip, plain = _ticket(desk, CustomerFactory(vip_tier=gold)), _ticket(desk, CustomerFactory())
    assert (vip.vip_queue_priority, plain.vip_queue_priority) == (5, NO_TIER_PRIORITY)
    assert Ticket.objects.get(pk=vip.pk).vip_queue_priority == 5
    assert _stale() == []


def test_a_customer_found_by_email_brings_the_tier_without_another_query(desk, django_assert_num_queries):
    gold = VipTierFactory(name="Gold", rank=2, queue_priority=5)
    CustomerFactory(email="vip@example.com", vip_tier=gold)
    customer = services.customer_find(email="VIP@example.com")
    with django_assert_num_queries(0):
        assert queue_priority_of(customer) == 5


def test_a_tier_change_by_the_evaluation_reaches_open_and_closed_tickets(desk):
    from routing.vip import evaluate_customers

    gold = VipTierFactory(name="Gold", rank=2, queue_priority=5)
    customer = CustomerFactory()
    open_ticket, closed = _ticket(desk, customer), _ticket(desk, customer)
    Ticket.objects.filter(pk=closed.pk).update(status="done")
    Customer.objects.filter(pk=customer.pk).update(manual_tier=gold)
    evaluate_customers(customer_ids=[customer.pk])
    assert Customer.objects.get(pk=customer.pk).vip_tier == gold
    assert set(Ticket.objects.filter(customer=customer).values_list("vip_queue_priority", flat=True)) == {5}
    assert open_ticket.pk and _stale() == []


def test_an_organisations_tier_copied_onto_its_contacts_reaches_their_tickets(desk):
    gold = VipTierFactory(name="Gold", rank=2, queue_priority=5)
    organisation = Organisation.objects.create(name="Acme")
    customer = CustomerFactory(organisation=organisation)
    ticket = _ticket(desk, customer)
    assert ticket.vip_queue_priority == NO_TIER_PRIORITY
    Organisation.objects.filter(pk=organisation.pk).update(vip_tier=gold)
    organisation_sync_contacts(Organisation.objects.get(pk=organisation.pk))
    assert Ticket.objects.get(pk=ticket.pk).vip_queue_priority == 5 and _stale() == []


def test_the_tier_admin_changing_a_priority_or_deleting_a_tier_reaches_the_tickets(desk, client):
    gold = VipTierFactory(name="Gold", rank=2, queue_priority=5)
    silver = VipTierFactory(name="Silver", rank=1, queue_priority=1)
    tickets = [_ticket(desk, CustomerFactory(vip_tier=tier)) for tier in (gold, silver)]
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    data = {f.name: getattr(gold, f.name) for f in VipTier._meta.concrete_fields if f.editable and not f.primary_key}
    data.update(queue_priority=9)
    form = {key: "" if value is None else value for key, value in data.items()}
    response = client.post(f"/admin/tickets/viptier/{gold.pk}/change/", form)
    assert response.status_code == 302, response.content[:500]
    assert Ticket.objects.get(pk=tickets[0].pk).vip_queue_priority == 9
    response = client.post(f"/admin/tickets/viptier/{silver.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Ticket.objects.get(pk=tickets[1].pk).vip_queue_priority == NO_TIER_PRIORITY
    assert _stale() == []


def test_a_full_save_of_an_older_instance_keeps_the_refreshed_copy(desk):
    gold = VipTierFactory(name="Gold", rank=2, queue_priority=5)
    customer = CustomerFactory()
    ticket = _ticket(desk, customer)
    held = Ticket.objects.get(pk=ticket.pk)  # a service holding the ticket from before the change
    Customer.objects.filter(pk=customer.pk).update(vip_tier=gold)
    refresh_queue_priority(customers=[customer.pk])
    held.title = "Renamed"
    held.save()
    assert Ticket.objects.get(pk=ticket.pk).vip_queue_priority == 5


def test_refreshing_leaves_updated_at_alone(desk):
    gold = VipTierFactory(name="Gold", rank=2, queue_priority=5)
    customer = CustomerFactory()
    ticket = _ticket(desk, customer)
    before = Ticket.objects.get(pk=ticket.pk).updated_at
    Customer.objects.filter(pk=customer.pk).update(vip_tier=gold)
    assert refresh_queue_priority(tier=gold) == 1
    assert Ticket.objects.filter(
        pk=ticket.pk, updated_at=before, vip_queue_priority=F("customer__vip_tier__queue_priority")
    ).exists()


def test_postgresql_reads_the_intake_boards_first_page_off_the_queue_order_index(desk, admin_user):
    """The intake board of someone who sees every queue is the queue order over all waiting tickets: with sorting
    priced out, PostgreSQL walks ``ticket_queue_order`` and sorts nothing. Fails if the order and the index part
    ways (another key, a NULL order the index does not have): the board would sort every waiting ticket again."""
    from django.db import connection

    from portal.selectors import intake_board

    if connection.vendor != "postgresql":
        pytest.skip("a partial index matched by PostgreSQL's planner")
    gold = VipTierFactory(name="Gold", rank=2, queue_priority=5)
    for customer in (CustomerFactory(vip_tier=gold), CustomerFactory()):
        _ticket(desk, customer)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = intake_board(admin_user)[:25].explain()
    assert "ticket_queue_order" in plan and "Sort" not in plan, plan
