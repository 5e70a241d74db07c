"""Customer organisations (issue 16 point 6, seed 000): contacts inherit tier, turnover and account manager."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps as global_apps
from django.urls import reverse

from reports.dashboard.waiting import waiting_by_reason
from reports.selectors import Period
from routing import vip
from routing.models import CustomerTurnover, VipRule
from tests.factories import CustomerFactory, TicketFactory, UserFactory, VipTierFactory
from tickets import services
from tickets.models import Customer, Organisation, Status
from tickets.organisations import organisation_for_new_customer, organisation_sync_contacts

TODAY = date(2026, 3, 10)


@pytest.fixture
def gold(db):
    return VipTierFactory(name="Gold", rank=1)


@pytest.fixture
def acme(db):
    organisation = Organisation.objects.create(name="Acme LLP", name_ru="ТОО «Акме»")
    first = CustomerFactory(name="Anna (Acme)", organisation=organisation)
    second = CustomerFactory(name="Boris (Acme)", organisation=organisation)
    return organisation, first, second


def test_a_first_time_customer_gets_an_organisation_of_its_own(db):
    customer = services.customer_find_or_create(name="Dana", email="dana@example.com")
    assert customer.organisation is not None and customer.organisation.name == "Dana"
    assert Customer.objects.get(pk=customer.pk).organisation_id == customer.organisation.pk
    again = services.customer_find_or_create(email="dana@example.com")
    assert again.organisation_id == customer.organisation_id and Organisation.objects.count() == 1


def test_contacts_inherit_the_account_manager_and_the_tier_of_their_organisation(acme, gold, manager):
    organisation, first, second = acme
    organisation.account_manager = manager
    organisation.manual_tier = gold
    organisation.save()
    organisation_sync_contacts(organisation)
    vip.evaluate_customers(TODAY, customer_ids=[first.pk, second.pk])
    for contact in (first, second):
        contact.refresh_from_db()
        assert contact.account_manager == manager and contact.vip_tier == gold  # the effective tier, as before
    organisation.refresh_from_db()
    assert organisation.vip_tier == gold


def test_turnover_is_counted_for_the_organisation_across_its_contacts(acme, gold):
    organisation, first, second = acme
    loner = CustomerFactory(name="Loner")
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.TURNOVER, months=12, amount=1_000_000)
    for customer, amount in ((first, 600_000), (second, 500_000), (loner, 900_000)):
        CustomerTurnover.objects.create(customer=customer, amount=Decimal(amount), date=TODAY)
    vip.evaluate_customers(TODAY)
    tiers = dict(Customer.objects.values_list("name", "vip_tier__name"))
    assert tiers == {"Anna (Acme)": "Gold", "Boris (Acme)": "Gold", "Loner": None}
    organisation.refresh_from_db()
    assert organisation.vip_tier == gold


def test_the_migration_gives_every_existing_customer_its_own_organisation(db, gold, manager):
    old = CustomerFactory(name="Old customer", vip_tier=gold, account_manager=manager, strategic_partner=True)
    migration = importlib.import_module("tickets.migrations.0015_customer_organisations")
    migration.one_organisation_per_customer(global_apps, None)
    old.refresh_from_db()
    organisation = old.organisation
    assert organisation.name == "Old customer" and organisation.vip_tier == gold
    assert organisation.account_manager == manager and organisation.strategic_partner


def test_the_ticket_page_shows_the_organisations_other_tickets_the_viewer_may_see_open_first(
    client, acme, queue, other_queue, engineer
):
    _organisation, first, second = acme
    here = TicketFactory(queue=queue, customer=first, performer=engineer, status=Status.IN_PROGRESS, title="Here")
    sibling = TicketFactory(queue=queue, customer=second, status=Status.NEW, title="Sibling in my queue")
    hidden = TicketFactory(queue=other_queue, customer=second, status=Status.NEW, title="Sibling elsewhere")
    closed = TicketFactory(queue=queue, customer=first, status=Status.DONE, title="Closed sibling")
    stranger = TicketFactory(queue=queue, status=Status.NEW, title="Another company")
    client.force_login(engineer)
    html = client.get(reverse("tickets:detail", args=[here.pk])).content.decode()
    assert "data-organisation-tickets" in html and "Other tickets of Acme LLP" in html
    # The customer history (issue 17): open tickets first, then closed ones.
    position = {t: html.index(f'data-organisation-ticket="{t.pk}"') for t in (sibling, closed)}
    assert position[sibling] < position[closed]
    for absent in (here, hidden, stranger):
        assert f'data-organisation-ticket="{absent.pk}"' not in html
    assert "Sibling elsewhere" not in html  # not even its title: the engineer may not open it


def test_the_delay_report_and_the_ticket_list_group_by_organisation(
    client, acme, queue, engineer, manager, no_stock, time_machine
):
    from tests.reports.conftest import ALMATY, almaty

    organisation, first, second = acme
    time_machine.move_to(almaty(2026, 3, 2, 10), tick=False)
    for customer in (first, second):
        ticket = TicketFactory(queue=queue, customer=customer, performer=engineer, status=Status.IN_PROGRESS)
        services.ticket_change_status(ticket, status=Status.WAITING, actor=engineer, reason=no_stock)
    time_machine.move_to(almaty(2026, 3, 2, 12), tick=False)
    [row] = waiting_by_reason(manager, Period(date(2026, 3, 2), date(2026, 3, 2), ALMATY), group="organisation")
    assert (row["name"], row["hours"], row["tickets"]) == ("Acme LLP", 4.0, 2)
    assert row["url"] == f"/tickets/?organisation={organisation.pk}"
    client.force_login(manager)
    listed = client.get(row["url"]).content.decode()
    assert listed.count('href="/tickets/') >= 2
    report = client.get(
        reverse("reports:delays"), {"period": "custom", "date_from": "2026-03-02", "date_to": "2026-03-02"}
    )
    assert "By organisation" in report.content.decode()


def test_the_organisation_admin_copies_the_account_manager_to_its_contacts(client, admin_user, acme):
    organisation, first, second = acme
    lead = UserFactory(username="accounts", role="manager")
    client.force_login(admin_user)
    url = reverse("admin:tickets_organisation_change", args=[organisation.pk])
    assert client.get(url).status_code == 200
    data = {
        "name": "Acme LLP",
        "name_ru": "ТОО «Акме»",
        "account_manager": lead.pk,
        "contacts-TOTAL_FORMS": "2",
        "contacts-INITIAL_FORMS": "2",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
        "contacts-0-id": first.pk,
        "contacts-0-organisation": organisation.pk,
        "contacts-1-id": second.pk,
        "contacts-1-organisation": organisation.pk,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(Customer.objects.values_list("account_manager", flat=True)) == {lead.pk}
    assert client.get(reverse("admin:tickets_organisation_changelist")).status_code == 200


def test_engineers_cannot_open_the_organisation_admin(client, engineer, acme):
    client.force_login(engineer)
    response = client.get(reverse("admin:tickets_organisation_changelist"))
    assert response.status_code in (302, 403)


def test_organisation_for_new_customer_copies_the_customers_tier_state(db, gold):
    customer = CustomerFactory(name="Solo", vip_tier=gold, strategic_partner=True)
    organisation = organisation_for_new_customer(customer)
    assert organisation.vip_tier == gold and organisation.strategic_partner
