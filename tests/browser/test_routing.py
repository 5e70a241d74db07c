"""Routing in the browser: a hybrid queue set up in admin, inbound tickets routed by skills, "Take next" in a pull
queue, a VIP ticket on top of the intake with its faster SLA, and the queue monitor's numbers and alert."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from notifications.models import Notification
from routing.models import AgentSkill, Skill, TicketTypeSkill
from routing.queue_monitor import evaluate_alerts_task
from sla.models import SLAPolicy
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    QueueFactory,
    TicketTypeFactory,
    UserFactory,
    VipTierFactory,
)
from tests.sla.conftest import make_calendar
from tickets import services
from tickets.models import IntakeChannel, Priority, QueueMembership, RoutingStrategy, Ticket


def log_out(page):
    page.click(".logout-form button")
    page.wait_for_load_state()


def test_hybrid_routing_take_next_vip_on_top_and_the_queue_monitor(page, live_server, login, screenshot):
    always = make_calendar("24/7", {d: [("00:00", "24:00")] for d in range(7)})
    SLAPolicy.objects.create(name="Standard", precedence=20, calendar=always,
                             first_response_target=timedelta(hours=2), resolution_target=timedelta(hours=24))
    SLAPolicy.objects.create(name="Critical", precedence=15, priority=Priority.CRITICAL, calendar=always,
                             first_response_target=timedelta(minutes=15), resolution_target=timedelta(hours=4))
    gold = VipTierFactory(name="Gold", rank=1, queue_priority=5)
    SLAPolicy.objects.create(name="VIP", precedence=10, vip_tier=gold, calendar=always,
                             first_response_target=timedelta(minutes=30), resolution_target=timedelta(hours=4))

    service = QueueFactory(slug="service", name="Service")
    sales = QueueFactory(slug="sales", name="Sales", max_waiting=2)
    support = QueueFactory(slug="support", name="Tech support", strategy=RoutingStrategy.PULL)
    dispatcher = UserFactory(username="dina", role="dispatcher", is_staff=True, is_superuser=True,
                             profile__display_name="Dina")
    for q in (service, sales, support):
        MembershipFactory(queue=q, user=dispatcher, role=QueueMembership.Role.DISPATCHER)
    aigerim = UserFactory(username="aigerim", role="engineer", profile__display_name="Aigerim")
    bekzat = UserFactory(username="bekzat", role="engineer", profile__display_name="Bekzat")
    timur = UserFactory(username="timur", role="engineer", profile__display_name="Timur")
    for user in (aigerim, bekzat):
        MembershipFactory(queue=service, user=user, capacity=5)
    MembershipFactory(queue=support, user=timur)
    network = Skill.objects.create(code="network", name="Network")
    billing = Skill.objects.create(code="billing", name="Billing")
    AgentSkill.objects.create(user=aigerim, skill=network, level=4)
    AgentSkill.objects.create(user=bekzat, skill=billing, level=3)
    outage = TicketTypeFactory(slug="outage", name="Outage", default_queue=service)
    TicketTypeSkill.objects.create(ticket_type=outage, skill=network, min_level=3)
    invoice = TicketTypeFactory(slug="invoice", name="Invoice", default_queue=service)
    TicketTypeSkill.objects.create(ticket_type=invoice, skill=billing, min_level=2)
    channel = IntakeChannel(name="Mail bridge", channel="email", default_queue=sales)
    token = channel.set_token()
    channel.save()

    # --- the dispatcher makes Service a hybrid queue in Django admin ---
    login("dina")
    page.goto(f"{live_server.url}/admin/tickets/queue/{service.pk}/change/")
    page.select_option("#id_strategy", "hybrid")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    service.refresh_from_db()
    assert service.strategy == RoutingStrategy.HYBRID

    # --- two inbound tickets route to the right skilled agents ---
    def post(message_id, subject, ticket_type=None, email="client@example.kz"):
        payload = {"message_id": message_id, "customer": {"email": email, "name": email.split("@")[0]},
                   "subject": subject, "body": subject}
        if ticket_type:
            payload["type"] = ticket_type
        response = page.request.post(f"{live_server.url}/api/intake/v1/messages", data=payload,
                                     headers={"Authorization": f"Bearer {token}"})
        assert response.status == 201, response.text()
        return Ticket.objects.get(pk=response.json()["ticket"])

    down = post("m-1", "Internet is down at the warehouse", "outage")
    bill = post("m-2", "Wrong amount on the invoice", "invoice")
    assert (down.performer, bill.performer) == (aigerim, bekzat)
    page.goto(f"{live_server.url}/tickets/{down.pk}/")
    expect(page.locator("body")).to_contain_text("Routed to Aigerim by hybrid: has the skills network")
    screenshot("routed-by-skills")

    # --- a VIP customer's ticket jumps to the top of the intake with its faster SLA ---
    post("m-3", "Where is my order?", email="first@example.kz")
    post("m-4", "Price list please", email="second@example.kz")
    CustomerFactory(name="Goldstar LLP", email="gold@example.kz", vip_tier=gold)
    vip_ticket = post("m-5", "Urgent: delivery for Goldstar", email="gold@example.kz")
    assert vip_ticket.deadline - vip_ticket.created_at == timedelta(hours=4)
    page.goto(f"{live_server.url}/tickets/intake/")
    first_row = page.locator("table.table tbody tr").first
    expect(first_row).to_contain_text("Urgent: delivery for Goldstar")
    expect(first_row).to_contain_text("Gold")
    screenshot("vip-on-top")

    # --- the queue monitor shows the numbers and the alert (3 waiting in Sales, limit 2) ---
    page.goto(f"{live_server.url}/tickets/queues/")
    sales_card = page.locator('section[data-queue="sales"]')
    expect(sales_card.locator(".qm-waiting")).to_have_text("3")
    expect(sales_card.locator(".qm-alerts")).to_contain_text("3 waiting, over the limit of 2.")
    service_card = page.locator('section[data-queue="service"]')
    expect(service_card.locator(".qm-waiting")).to_have_text("0")
    expect(service_card.locator(".qm-agents")).to_contain_text("1 / 5")
    evaluate_alerts_task()  # the page only reads; the routing.queue_alerts schedule notices the crossing
    assert Notification.objects.filter(recipient=dispatcher, kind="queue.threshold").count() == 1
    screenshot("queue-monitor")
    log_out(page)

    # --- an agent of a pull queue takes the next ticket: the critical one (nearer SLA breach) before the older one ---
    older = services.ticket_create(actor=None, title="Printer offline", customer=CustomerFactory(), queue=support)
    critical = services.ticket_create(actor=None, title="Server room too hot", customer=CustomerFactory(),
                                      queue=support, priority=Priority.CRITICAL)
    assert older.performer is None and critical.performer is None
    login("timur")
    page.goto(f"{live_server.url}/tickets/my/")
    panel = page.locator('section.take-next[data-queue="support"]')
    expect(panel).to_contain_text("2 waiting")
    expect(panel).to_contain_text("Server room too hot")
    screenshot("take-next")
    panel.get_by_role("button", name="Take next").click()
    expect(page.locator("h1")).to_contain_text("Server room too hot")
    assert Ticket.objects.get(pk=critical.pk).performer == timur
