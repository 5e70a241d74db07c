"""VIP tiers (routing.vip): rules, the nightly set-based evaluation, grace, manual override, CSV import."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notifications.models import Notification
from routing import vip
from routing.models import CustomerTierChange, CustomerTurnover, VipRule
from sla.models import SLAClock, SLAPolicy
from tests.factories import CustomerFactory, MembershipFactory, UserFactory, VipTierFactory
from tests.sla.conftest import almaty, make_calendar
from tickets import services
from tickets.models import QueueMembership, RoutingStrategy, TicketEvent, TierSource

TODAY = date(2026, 3, 10)


@pytest.fixture
def gold(db):
    return VipTierFactory(name="Gold", rank=1, downgrade_grace_days=30)


@pytest.fixture
def platinum(db):
    return VipTierFactory(name="Platinum", rank=2, downgrade_grace_days=10)


def turnover(customer, amount, day=TODAY, ref=""):
    return CustomerTurnover.objects.create(customer=customer, amount=Decimal(amount), date=day, reference=ref)


def test_months_ago_clamps_to_the_end_of_a_shorter_month():
    assert vip.months_ago(date(2026, 5, 31), 3) == date(2026, 2, 28)
    assert vip.months_ago(date(2026, 3, 10), 12) == date(2025, 3, 10)
    assert vip.months_ago(date(2026, 1, 15), 1) == date(2025, 12, 15)


def test_turnover_over_the_threshold_upgrades_at_once_records_why_and_tells_the_account_manager(
    gold, manager, django_capture_on_commit_callbacks
):
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.TURNOVER, months=12, amount=1_000_000)
    rich = CustomerFactory(name="Rich LLP", account_manager=manager)
    poor = CustomerFactory(name="Small shop")
    turnover(rich, 600_000)
    turnover(rich, 500_000, TODAY - timedelta(days=200))
    turnover(rich, 9_000_000, TODAY - timedelta(days=400))  # older than 12 months: does not count
    turnover(poor, 900_000)
    with django_capture_on_commit_callbacks(execute=True):
        result = vip.evaluate_customers(TODAY)
    rich.refresh_from_db()
    poor.refresh_from_db()
    assert rich.vip_tier == gold and rich.tier_source == TierSource.RULES and poor.vip_tier is None
    change = CustomerTierChange.objects.get(customer=rich)
    assert (change.from_tier, change.to_tier) == (None, gold)
    assert "turnover 1,100,000 over 12 months" in change.reason
    assert len(result.changes) == 1
    note = Notification.objects.get(recipient=manager, kind="vip.tier_changed")
    assert "Rich LLP" in note.body and "Gold" in note.body


def test_top_percent_takes_the_best_customers_by_turnover(gold):
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.TOP_PERCENT, months=12, percent=20)
    customers = [CustomerFactory() for _ in range(10)]
    for i, customer in enumerate(customers):
        turnover(customer, 1000 * (i + 1))
    vip.evaluate_customers(TODAY)
    tiered = {c.pk for c in customers if type(c).objects.get(pk=c.pk).vip_tier_id == gold.pk}
    assert tiered == {customers[9].pk, customers[8].pk}


def test_the_best_tier_wins_and_strategic_partners_and_premium_contracts_qualify(gold, platinum):
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.STRATEGIC)
    VipRule.objects.create(tier=platinum, kind=VipRule.Kind.PREMIUM)
    partner = CustomerFactory(strategic_partner=True)
    both = CustomerFactory(strategic_partner=True, premium_contract_until=TODAY + timedelta(days=30))
    ended = CustomerFactory(premium_contract_until=TODAY - timedelta(days=1))
    vip.evaluate_customers(TODAY)
    tiers = {c.pk: type(c).objects.get(pk=c.pk).vip_tier for c in (partner, both, ended)}
    assert tiers == {partner.pk: gold, both.pk: platinum, ended.pk: None}


def test_a_customer_who_no_longer_qualifies_keeps_the_tier_for_the_grace_period_then_loses_it(gold, time_machine):
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.TURNOVER, months=3, amount=100)
    customer = CustomerFactory()
    turnover(customer, 500, TODAY)
    vip.evaluate_customers(TODAY)
    customer.refresh_from_db()
    assert customer.vip_tier == gold
    later = vip.months_ago(TODAY, -4)  # four months on: the turnover is out of the window
    vip.evaluate_customers(later)
    customer.refresh_from_db()
    assert customer.vip_tier == gold and customer.tier_below_since == later
    vip.evaluate_customers(later + timedelta(days=29))
    customer.refresh_from_db()
    assert customer.vip_tier == gold
    vip.evaluate_customers(later + timedelta(days=30))
    customer.refresh_from_db()
    assert customer.vip_tier is None and customer.tier_below_since is None
    change = CustomerTierChange.objects.filter(customer=customer).first()
    assert change.to_tier is None and "grace 30 days" in change.reason


def test_qualifying_again_during_the_grace_period_cancels_the_downgrade(gold):
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.STRATEGIC)
    customer = CustomerFactory(strategic_partner=True)
    vip.evaluate_customers(TODAY)
    type(customer).objects.filter(pk=customer.pk).update(strategic_partner=False)
    vip.evaluate_customers(TODAY + timedelta(days=1))
    type(customer).objects.filter(pk=customer.pk).update(strategic_partner=True)
    vip.evaluate_customers(TODAY + timedelta(days=2))
    customer.refresh_from_db()
    assert customer.vip_tier == gold and customer.tier_below_since is None


def test_a_manual_tier_overrides_the_rules_until_it_expires(gold, platinum):
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.STRATEGIC)
    customer = CustomerFactory(strategic_partner=True, manual_tier=platinum, manual_tier_until=TODAY + timedelta(3))
    vip.evaluate_customers(TODAY)
    customer.refresh_from_db()
    assert customer.vip_tier == platinum and customer.tier_source == TierSource.MANUAL
    vip.evaluate_customers(TODAY + timedelta(days=3))
    customer.refresh_from_db()
    assert customer.vip_tier == platinum
    vip.evaluate_customers(TODAY + timedelta(days=4))
    customer.refresh_from_db()
    assert customer.vip_tier == gold and customer.manual_tier is None and customer.tier_source == TierSource.RULES
    assert "manual tier expired" in CustomerTierChange.objects.filter(customer=customer).first().reason


def test_a_manual_tier_keeps_a_customer_no_rule_would_grant(gold):
    customer = CustomerFactory(manual_tier=gold)
    for day in range(3):
        vip.evaluate_customers(TODAY + timedelta(days=100 * day))
    customer.refresh_from_db()
    assert customer.vip_tier == gold and CustomerTierChange.objects.filter(customer=customer).count() == 1


def test_the_evaluation_runs_the_same_queries_for_5_customers_as_for_50(gold, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    VipRule.objects.create(tier=gold, kind=VipRule.Kind.TURNOVER, months=12, amount=100)
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.TOP_PERCENT, months=6, percent=10)

    def run(n, day):
        for _ in range(n):
            turnover(CustomerFactory(), 500, day)
        with CaptureQueriesContext(connection) as ctx:
            vip.evaluate_customers(day)
        return len(ctx.captured_queries)

    assert run(5, TODAY) == run(50, TODAY + timedelta(days=1))


def test_a_tier_change_rematches_the_sla_of_open_tickets_keeping_consumed_time(gold, queue, time_machine):
    time_machine.move_to(almaty(2026, 3, 10, 10, 0), tick=False)
    always = make_calendar("24/7", {d: [("00:00", "24:00")] for d in range(7)})
    SLAPolicy.objects.create(name="VIP", precedence=1, vip_tier=gold, calendar=always,
                             first_response_target=timedelta(minutes=30), resolution_target=timedelta(hours=4),
                             retarget_mode=SLAPolicy.RetargetMode.CARRY_OVER)
    SLAPolicy.objects.create(name="Standard", precedence=2, calendar=always,
                             first_response_target=timedelta(hours=2), resolution_target=timedelta(hours=24))
    VipRule.objects.create(tier=gold, kind=VipRule.Kind.STRATEGIC)
    customer = CustomerFactory(strategic_partner=True)
    ticket = services.ticket_create(actor=None, title="Help", customer=customer, queue=queue)
    time_machine.move_to(almaty(2026, 3, 10, 11, 0), tick=False)
    vip.evaluate_customers(date(2026, 3, 10))
    clock = SLAClock.objects.get(ticket=ticket, kind=SLAClock.Kind.RESOLUTION)
    assert clock.policy.name == "VIP" and clock.target == timedelta(hours=4)
    assert clock.consumed == timedelta(hours=1)
    assert TicketEvent.objects.filter(ticket=ticket, kind="ticket.sla_changed").exists()


def test_a_vip_tier_with_direct_account_manager_routes_to_them_unless_away(gold, queue, time_machine):
    gold.account_manager_direct = True
    gold.save()
    queue.strategy = RoutingStrategy.ROUND_ROBIN
    queue.save()
    agent = UserFactory(username="agent", role="engineer")
    MembershipFactory(queue=queue, user=agent)
    account_manager = UserFactory(username="am", role="engineer")
    customer = CustomerFactory(vip_tier=gold, account_manager=account_manager)
    ticket = services.ticket_create(actor=None, title="VIP call", customer=customer, queue=queue)
    assert ticket.performer == account_manager
    assert TicketEvent.objects.get(ticket=ticket, kind="ticket.routed").data["reason"] == "account_manager"
    account_manager.profile.is_away = True
    account_manager.profile.save()
    assert services.ticket_create(actor=None, title="Again", customer=customer, queue=queue).performer == agent
    assert QueueMembership.objects.filter(user=account_manager).count() == 0


# --- Turnover CSV import ---------------------------------------------------------------------------


def test_a_csv_with_one_bad_line_imports_nothing_and_names_every_bad_line(db):
    CustomerFactory(email="a@client.kz")
    text = ("customer,date,amount,reference\n"
            "a@client.kz,2026-01-05,1500.50,INV-1\n"
            "nobody@client.kz,2026-01-06,10,INV-2\n"
            "a@client.kz,05.01.2026,ten,INV-3\n")
    result = vip.import_turnover(text)
    assert result.errors == [
        "Line 3: unknown customer “nobody@client.kz”.",
        "Line 4: the date must look like 2025-03-31; the amount must be a number.",
    ]
    assert CustomerTurnover.objects.count() == 0


def test_a_valid_csv_is_imported_and_a_second_import_of_the_same_references_is_refused(db):
    customer = CustomerFactory(email="a@client.kz")
    text = f"customer,date,amount,reference\na@client.kz,2026-01-05,1500.50,INV-1\n{customer.pk},2026-01-06,10,\n"
    assert vip.import_turnover(text).errors == []
    assert CustomerTurnover.objects.filter(customer=customer).count() == 2
    assert vip.import_turnover(text).errors == ["Line 2: reference “INV-1” is already imported."]
    assert CustomerTurnover.objects.count() == 2


def test_admins_import_turnover_in_admin_and_see_errors_per_line(client, admin_user):
    CustomerFactory(email="a@client.kz")
    client.force_login(admin_user)
    url = reverse("admin:routing_customerturnover_import")
    assert client.get(url).status_code == 200
    bad = SimpleUploadedFile("t.csv", b"customer,date,amount\nx@y.kz,2026-01-01,1\n")
    response = client.post(url, {"file": bad})
    assert "Line 2: unknown customer" in response.content.decode() and CustomerTurnover.objects.count() == 0
    good = SimpleUploadedFile("t.csv", b"customer,date,amount\na@client.kz,2026-01-01,1\n")
    assert client.post(url, {"file": good}).status_code == 302
    assert CustomerTurnover.objects.count() == 1


def test_dispatchers_cannot_open_the_turnover_import(client, dispatcher):
    client.force_login(dispatcher)
    response = client.get(reverse("admin:routing_customerturnover_import"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_setting_a_manual_tier_in_admin_applies_it_at_once(client, admin_user, gold):
    customer = CustomerFactory(name="Manual LLP", email="m@client.kz")
    client.force_login(admin_user)
    url = reverse("admin:tickets_customer_change", args=[customer.pk])
    data = {
        "name": customer.name, "email": customer.email, "phone": "", "language": "ru",
        "created_at_0": "2026-01-01", "created_at_1": "10:00:00",
        "manual_tier": gold.pk, "manual_tier_until": "",
        "related_objects-TOTAL_FORMS": 0, "related_objects-INITIAL_FORMS": 0,
        "tier_changes-TOTAL_FORMS": 0, "tier_changes-INITIAL_FORMS": 0,
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    customer.refresh_from_db()
    assert customer.vip_tier == gold and customer.tier_source == TierSource.MANUAL
    assert CustomerTierChange.objects.get(customer=customer).actor == admin_user
