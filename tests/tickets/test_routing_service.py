"""Routing applied (routing.assignment): hooks in the lifecycle, availability, capacity, pull queues, keywords."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from routing import assignment
from routing.models import AgentSkill, ClassificationRule, Skill, TicketSkip, TicketTypeSkill
from sla.models import SLAPolicy
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    QueueFactory,
    TicketTypeFactory,
    UserFactory,
    VipTierFactory,
)
from tests.sla.conftest import almaty, make_calendar
from tickets import services
from tickets.models import (
    Absence,
    Priority,
    Profile,
    QueueMembership,
    RoutingStrategy,
    Status,
    Ticket,
    TicketEvent,
    Workload,
)
from tickets.services import TicketError


@pytest.fixture
def desk(db):
    """A queue with three engineers (a, b, c) as agents."""

    made = iter(range(1, 100))

    def make(strategy=RoutingStrategy.ROUND_ROBIN, n=3, **queue_fields):
        k = next(made)
        suffix = "" if k == 1 else f"{k}"
        queue = QueueFactory(slug=f"desk-{k}", name=f"Desk {k}", strategy=strategy, **queue_fields)
        people = []
        for i in range(n):
            user = UserFactory(username=f"{strategy}-{chr(97 + i)}{suffix}", role="engineer")
            MembershipFactory(queue=queue, user=user)
            people.append(user)
        return queue, people

    return make


def new_ticket(queue, title="Printer jam", **kw):
    kw.setdefault("customer", CustomerFactory())
    return services.ticket_create(actor=None, title=title, queue=queue, **kw)


def test_a_new_ticket_in_a_round_robin_queue_goes_to_each_agent_in_turn_and_says_why(desk):
    queue, (a, b, c) = desk()
    performers = [new_ticket(queue).performer for _ in range(4)]
    assert performers == [a, b, c, a]
    ticket = Ticket.objects.filter(performer=a).order_by("pk").first()
    assert ticket.status == Status.ASSIGNED
    event = TicketEvent.objects.get(ticket=ticket, kind="ticket.routed")
    assert event.actor is None
    assert event.data["strategy"] == "round_robin" and event.data["reason"] == "next_in_turn"
    assert event.data["trigger"] == "created" and event.data["performer"]["id"] == a.pk
    queue.refresh_from_db()
    assert queue.routing_cursor == a.pk


def test_a_manual_queue_leaves_new_tickets_to_the_dispatcher(queue, engineer):
    ticket = new_ticket(queue)
    assert ticket.performer is None and ticket.status == Status.NEW
    assert not TicketEvent.objects.filter(kind="ticket.routed").exists()


def test_a_performer_given_on_creation_is_kept(desk):
    queue, (_a, _b, c) = desk()
    assert new_ticket(queue, performer=c).performer == c
    assert not TicketEvent.objects.filter(kind="ticket.routed").exists()


def test_least_loaded_gives_the_ticket_to_the_agent_with_fewest_open_tickets(desk):
    queue, (a, b, c) = desk(RoutingStrategy.LEAST_LOADED)
    for person in (a, a, c):
        new_ticket(queue, performer=person)
    assert new_ticket(queue).performer == b
    assert TicketEvent.objects.get(kind="ticket.routed").data["open"] == 0


def test_agents_off_shift_away_or_absent_receive_no_work(desk, time_machine):
    time_machine.move_to(almaty(2026, 3, 2, 20, 0), tick=False)  # Monday evening
    queue, (a, b, c) = desk()
    office = make_calendar("Office", {d: [("09:00", "18:00")] for d in range(5)})
    Profile.objects.filter(user=a).update(work_calendar=office)
    Profile.objects.filter(user=b).update(is_away=True)
    Absence.objects.create(user=c, starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 5), substitute=a)
    ticket = new_ticket(queue)
    assert ticket.performer is None
    time_machine.move_to(almaty(2026, 3, 3, 10, 0), tick=False)  # a is on shift; c's turn goes to a
    assert [new_ticket(queue).performer for _ in range(3)] == [a, a, a]
    substitute = TicketEvent.objects.filter(kind="ticket.routed").order_by("pk")[1]
    assert substitute.data["substitute_for"]["id"] == c.pk


def test_an_agent_at_capacity_is_passed_over(desk):
    queue, (a, b) = desk(RoutingStrategy.LEAST_LOADED, n=2)
    QueueMembership.objects.filter(user=a).update(capacity=1)
    QueueMembership.objects.filter(user=b).update(capacity=2)
    assert [new_ticket(queue).performer for _ in range(4)] == [a, b, b, None]


def test_a_ticket_returned_to_the_queue_goes_to_someone_else(desk):
    queue, (a, b) = desk(RoutingStrategy.LEAST_LOADED, n=2)
    ticket = new_ticket(queue)
    assert ticket.performer == a
    services.ticket_unassign(ticket, actor=None, reason="Escalated back")
    ticket.refresh_from_db()
    assert ticket.performer == b
    assert TicketEvent.objects.filter(ticket=ticket, kind="ticket.routed").last().data["trigger"] == "returned"


def test_a_ticket_put_back_to_new_is_routed_again(desk):
    queue, (a, b) = desk(RoutingStrategy.LEAST_LOADED, n=2)
    ticket = new_ticket(queue)
    services.ticket_change_status(ticket, status=Status.NEW, actor=a, comment="Not mine")
    ticket.refresh_from_db()
    assert ticket.performer == b and ticket.status == Status.ASSIGNED


def test_a_dispatcher_can_always_override_the_routed_agent(desk, dispatcher):
    queue, (_a, _b, c) = desk()
    ticket = new_ticket(queue)
    services.ticket_assign(ticket, performer=c, actor=dispatcher)
    assert ticket.performer == c


@pytest.fixture
def skilled(desk):
    queue, (a, b, c) = desk(RoutingStrategy.HYBRID)
    network, billing = Skill.objects.create(code="network", name="Network"), Skill.objects.create(
        code="billing", name="Billing"
    )
    AgentSkill.objects.create(user=a, skill=network, level=4)
    AgentSkill.objects.create(user=b, skill=billing, level=3)
    AgentSkill.objects.create(user=c, skill=billing, level=1)
    outage = TicketTypeFactory(slug="outage", name="Outage", default_queue=queue)
    TicketTypeSkill.objects.create(ticket_type=outage, skill=network, min_level=3)
    invoice = TicketTypeFactory(slug="invoice", name="Invoice", default_queue=queue)
    TicketTypeSkill.objects.create(ticket_type=invoice, skill=billing, min_level=2)
    return queue, (a, b, c), outage, invoice


def test_hybrid_routes_by_required_skills_then_load(skilled):
    queue, (a, b, c), outage, invoice = skilled
    assert new_ticket(queue, ticket_type=outage).performer == a
    assert new_ticket(queue, ticket_type=invoice).performer == b
    assert new_ticket(queue, ticket_type=invoice).performer == b  # c's billing level is too low
    assert new_ticket(queue).performer == c  # no requirement: least loaded


def test_the_skills_strategy_keeps_a_ticket_queued_when_no_skilled_agent_is_available(skilled):
    queue, (a, _b, _c), outage, _invoice = skilled
    queue.strategy = RoutingStrategy.SKILLS
    queue.save()
    Profile.objects.filter(user=a).update(is_away=True)
    assert new_ticket(queue, ticket_type=outage).performer is None
    Profile.objects.filter(user=a).update(is_away=False)
    assert assignment.offer_queued_work() == 1
    assert Ticket.objects.get(ticket_type=outage).performer == a


def test_routing_one_ticket_runs_the_same_queries_for_3_agents_as_for_30(desk):
    def queries(n):
        queue, people = desk(RoutingStrategy.HYBRID, n=n)
        customer = CustomerFactory()
        new_ticket(queue, customer=customer)  # warm up
        ticket = Ticket.objects.select_related("queue", "customer").get(
            pk=new_ticket(queue, customer=customer, performer=people[0]).pk
        )
        services.ticket_unassign(ticket, actor=None)
        ticket = Ticket.objects.select_related("queue", "customer").get(pk=ticket.pk)
        ticket.performer = None
        Ticket.objects.filter(pk=ticket.pk).update(performer=None, status=Status.NEW)
        ticket.status = Status.NEW
        with CaptureQueriesContext(connection) as ctx:
            assignment.route_ticket(ticket, trigger="test")
        assert ticket.performer is not None
        return len(ctx.captured_queries)

    assert queries(3) == queries(30)


def test_agents_coming_on_shift_are_offered_the_queued_work_in_queue_order(desk, time_machine):
    time_machine.move_to(almaty(2026, 3, 2, 8, 0), tick=False)
    queue, (a,) = desk(RoutingStrategy.ROUND_ROBIN, n=1)
    office = make_calendar("Office", {d: [("09:00", "18:00")] for d in range(5)})
    Profile.objects.filter(user=a).update(work_calendar=office)
    QueueMembership.objects.filter(user=a).update(capacity=1)
    low = new_ticket(queue, title="Low", priority=Priority.LOW)
    high = new_ticket(queue, title="High", priority=Priority.HIGH)
    assert low.performer is None and high.performer is None
    time_machine.move_to(almaty(2026, 3, 2, 9, 5), tick=False)
    assert assignment.offer_queued_work() == 1
    high.refresh_from_db()
    assert high.performer == a
    assert TicketEvent.objects.get(ticket=high, kind="ticket.routed").data["trigger"] == "offer"


# --- Queue order ---------------------------------------------------------------------------------


def test_the_queue_order_is_vip_then_time_to_breach_then_priority_then_age(queue, time_machine):
    from routing.queue_order import in_queue_order, waiting

    time_machine.move_to(almaty(2026, 3, 2, 10, 0), tick=False)
    calendar = make_calendar("24/7", {d: [("00:00", "24:00")] for d in range(7)})
    SLAPolicy.objects.create(name="Urgent", precedence=1, priority=Priority.CRITICAL, calendar=calendar,
                             first_response_target=timedelta(minutes=15), resolution_target=timedelta(hours=4))
    gold = VipTierFactory(name="Gold", rank=1, queue_priority=5)
    silver = VipTierFactory(name="Silver", rank=0, queue_priority=1)
    old_low = new_ticket(queue, title="old low", priority=Priority.LOW)
    time_machine.move_to(almaty(2026, 3, 2, 10, 5), tick=False)
    high = new_ticket(queue, title="high", priority=Priority.HIGH)
    normal = new_ticket(queue, title="normal")
    critical = new_ticket(queue, title="critical with SLA", priority=Priority.CRITICAL)
    silver_t = new_ticket(queue, title="silver", customer=CustomerFactory(vip_tier=silver))
    gold_t = new_ticket(queue, title="gold", customer=CustomerFactory(vip_tier=gold))
    order = list(in_queue_order(waiting(Ticket.objects.filter(queue=queue))))
    assert order == [gold_t, silver_t, critical, high, normal, old_low]


# --- Pull queues ---------------------------------------------------------------------------------


def test_take_next_gives_the_agent_the_head_of_the_queue_and_records_it(desk):
    queue, (a, b, c) = desk(RoutingStrategy.PULL)
    first = new_ticket(queue, title="first")
    urgent = new_ticket(queue, title="urgent", priority=Priority.CRITICAL)
    assert first.performer is None and urgent.performer is None
    taken = assignment.take_next(a, queue)
    assert taken == urgent and Ticket.objects.get(pk=urgent.pk).performer == a
    event = TicketEvent.objects.get(ticket=urgent, kind="ticket.routed")
    assert event.actor == a and event.data["reason"] == "take_next"
    assert assignment.take_next(b, queue) == first
    with pytest.raises(TicketError, match="Nothing is waiting"):
        assignment.take_next(c, queue)


def test_a_skipped_ticket_is_recorded_and_no_longer_offered_to_that_agent(desk):
    queue, (a, b, _c) = desk(RoutingStrategy.PULL)
    hard, easy = new_ticket(queue, title="hard", priority=Priority.HIGH), new_ticket(queue, title="easy")
    with pytest.raises(TicketError, match="Say why"):
        assignment.ticket_skip(hard, user=a, reason=" ")
    assignment.ticket_skip(hard, user=a, reason="Needs a network engineer")
    assert TicketSkip.objects.get().reason == "Needs a network engineer"
    assert TicketEvent.objects.get(ticket=hard, kind="ticket.skipped").actor == a
    assert assignment.next_for(a, queue) == easy
    assert assignment.next_for(b, queue) == hard
    with pytest.raises(TicketError, match="already skipped"):
        assignment.ticket_skip(hard, user=a, reason="again")


def test_take_next_refuses_outsiders_routed_queues_and_full_agents(desk, other_engineer):
    queue, (a, _b, _c) = desk(RoutingStrategy.PULL)
    new_ticket(queue)
    with pytest.raises(TicketError, match="not an agent"):
        assignment.take_next(other_engineer, queue)
    QueueMembership.objects.filter(user=a).update(capacity=1)
    assignment.take_next(a, queue)
    new_ticket(queue)
    with pytest.raises(TicketError, match="capacity"):
        assignment.take_next(a, queue)
    routed, (d,) = desk(RoutingStrategy.ROUND_ROBIN, n=1)
    with pytest.raises(TicketError, match="routed"):
        assignment.take_next(d, routed)


# --- Keyword classification ------------------------------------------------------------------------


def test_keywords_classify_a_ticket_without_a_type_and_corrections_are_counted(queue, other_queue, dispatcher):
    refund = TicketTypeFactory(slug="refund", name="Refund", default_queue=other_queue)
    question = TicketTypeFactory(slug="question", name="Question")
    rule = ClassificationRule.objects.create(keywords="refund, money back, возврат", ticket_type=refund)
    ticket = new_ticket(queue, title="Where is my money back?")
    assert ticket.ticket_type == refund and ticket.queue == queue  # the portal keeps the chosen queue
    assert TicketEvent.objects.get(ticket=ticket, kind="ticket.classified").data["rule"] == rule.pk
    assert new_ticket(queue, title="Hello", ticket_type=question).ticket_type == question  # a given type wins
    rule.refresh_from_db()
    assert (rule.hits, rule.corrections) == (1, 0)
    services.ticket_update(ticket, actor=dispatcher, ticket_type=question)
    services.ticket_update(ticket, actor=dispatcher, priority=Priority.HIGH)
    rule.refresh_from_db()
    assert (rule.hits, rule.corrections) == (1, 1)


def test_the_intake_api_classifies_a_message_without_a_type_into_its_queue(client, queue, other_queue):
    from intake.services import intake_receive
    from tests.factories import IntakeChannelFactory

    refund = TicketTypeFactory(slug="refund", name="Refund", default_queue=other_queue)
    ClassificationRule.objects.create(keywords="возврат", ticket_type=refund)
    channel = IntakeChannelFactory(default_queue=queue)
    result = intake_receive(channel, {"message_id": "m1", "customer": {"email": "a@b.kz"}, "subject": "Заявка",
                                      "body": "Прошу оформить возврат"})
    assert result.ticket.ticket_type == refund and result.ticket.queue == other_queue
    typed = intake_receive(channel, {"message_id": "m2", "customer": {"email": "a@b.kz"}, "subject": "Возврат",
                                     "body": "x", "type": "refund"})
    assert not TicketEvent.objects.filter(ticket=typed.ticket, kind="ticket.classified").exists()


def test_the_history_says_who_routing_chose_and_why(desk):
    from tickets.templatetags.opsdesk import describe_event

    queue, (a, _b, _c) = desk(RoutingStrategy.LEAST_LOADED)
    QueueMembership.objects.filter(user=a).update(capacity=5)
    ticket = new_ticket(queue)
    event = TicketEvent.objects.get(ticket=ticket, kind="ticket.routed")
    sentence = "Routed to Least_Loaded-A by least loaded: fewest open tickets (0 open of 5)."
    assert describe_event(event, ticket) == sentence


def test_the_burst_spread_holds_through_the_service(desk):
    queue, people = desk(RoutingStrategy.ROUND_ROBIN, n=4)
    customer = CustomerFactory()
    for _ in range(40):
        new_ticket(queue, customer=customer)
    loads = Counter(Ticket.objects.values_list("performer", flat=True))
    assert set(loads) == {p.pk for p in people} and max(loads.values()) - min(loads.values()) <= 1


def test_last_assignment_time_is_kept_for_least_loaded_ties(desk):
    queue, (a, b, _c) = desk(RoutingStrategy.LEAST_LOADED)
    first = new_ticket(queue)
    assert first.performer_id == a.pk
    assert Workload.objects.get(user=a).last_assigned_at is not None
    assert not Workload.objects.filter(user=b, last_assigned_at__isnull=False).exists()
    assert timezone.now() - Workload.objects.get(user=a).last_assigned_at < timedelta(minutes=1)
    # a's ticket done: three agents with nothing open, and a no longer the longest idle (the next decision reads it).
    Ticket.objects.filter(pk=first.pk).update(status=Status.DONE)
    Workload.objects.filter(user=a).update(open_tickets=0)
    assert new_ticket(queue).performer_id == b.pk
