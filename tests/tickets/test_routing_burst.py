"""Routing many waiting tickets at once (routing.assignment.route_waiting) decides as routing them one by one,
and the query count of a routing decision does not grow with the team (issue 18)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import events as bus
from notifications.models import Delivery, Notification
from routing import assignment
from routing.models import AgentSkill, Skill, TicketTypeSkill
from routing.strategies import R_NO_AGENT
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, TicketTypeFactory, UserFactory
from tests.tickets.test_routing_intake_queries import ROUTE_QUERIES
from tickets import events, services, workload
from tickets.errors import TicketError
from tickets.models import (
    Absence,
    Profile,
    Queue,
    QueueMembership,
    RoutingStrategy,
    Status,
    Ticket,
    TicketEvent,
    Workload,
)

# A burst of five tickets given to five agents: lock the queue, read the team, lock the tickets still waiting,
# read the five chosen people with their roles and notification settings; then for each ticket its assignment (its
# savepoint, the ticket lock and update); then, once for the burst, the notices (the notifications and their
# deliveries), one insert of every history row (assigned, status, routed) and one upsert of the five open-ticket counts
# with their last assignment times (``tickets.workload``: before they were stored, the team read counted the open
# tickets; before the times went into it, one more update). Before the history and the notices were deferred to the end
# of the burst: 4 + 5 * 12 + 2; before the notices stopped opening a savepoint: 4 + 5 * 4 + 4 + 2.
BURST_OF_5_QUERIES = 4 + 5 * 4 + 2 + 2


def _waiting(queue, n: int, **kw) -> list[int]:
    """``n`` new tickets waiting in ``queue`` (created while it is manual, so nobody got them yet)."""
    strategy = queue.strategy
    Queue.objects.filter(pk=queue.pk).update(strategy=RoutingStrategy.MANUAL)
    queue.strategy = RoutingStrategy.MANUAL
    customer = CustomerFactory()
    ids = [
        services.ticket_create(actor=None, title=f"Waiting {i}", queue=queue, customer=customer, **kw).pk
        for i in range(n)
    ]
    Queue.objects.filter(pk=queue.pk).update(strategy=strategy)
    queue.strategy = strategy
    return ids


def _tickets(ids) -> list[Ticket]:
    by_pk = Ticket.objects.select_related("queue", "customer").in_bulk(ids)
    return [by_pk[pk] for pk in ids]


def _seen(decision):
    if decision is None:
        return None
    return decision.user_id, decision.reason, decision.params, decision.substitute_for


def _written(ids) -> tuple[list, list]:
    """The history rows and the notices (with their deliveries) about these tickets, in the order written per
    ticket; times left out."""
    history = [
        (e.ticket_id, e.actor_id, e.kind, e.data)
        for e in TicketEvent.objects.filter(ticket_id__in=ids)
        .exclude(kind="ticket.created")
        .order_by("ticket_id", "pk")
    ]
    notices = [
        (n.ticket_id, n.recipient_id, n.kind, n.urgency, n.title, n.body, n.in_app, n.dedupe_key)
        for n in Notification.objects.filter(ticket_id__in=ids).order_by("ticket_id", "pk")
    ]
    deliveries = sorted(
        Delivery.objects.filter(notification__ticket_id__in=ids).values_list(
            "notification__ticket_id", "recipient_id", "channel", "digestible", "status"
        )
    )
    return history, notices, deliveries


@pytest.fixture
def varied_desk(db):
    """A queue of six agents: one with capacity 2, one away, one absent whose substitute is a member, one with
    open work elsewhere, two with the network skill; and its waiting tickets, some needing the skill."""
    queue = QueueFactory(slug="varied", name="Varied")
    people = []
    for name in "abcdef":
        user = UserFactory(username=f"varied-{name}", role="engineer")
        MembershipFactory(queue=queue, user=user, capacity=2 if name == "a" else None)
        people.append(user)
    _a, b, c, d, e, f = people
    Profile.objects.filter(user=b).update(is_away=True)
    today = timezone.localdate()
    Absence.objects.create(user=c, starts_on=today, ends_on=today, substitute=d)
    elsewhere = QueueFactory(slug="elsewhere", name="Elsewhere", strategy=RoutingStrategy.MANUAL)
    for _ in range(2):
        services.ticket_create(actor=None, title="Open", queue=elsewhere, customer=CustomerFactory(), performer=e)
    network = Skill.objects.create(code="network", name="Network")
    AgentSkill.objects.create(user=d, skill=network, level=3)
    AgentSkill.objects.create(user=f, skill=network, level=2)
    outage = TicketTypeFactory(slug="outage", name="Outage")
    TicketTypeSkill.objects.create(ticket_type=outage, skill=network, min_level=2)
    ids = []
    for k in range(6):
        ids += _waiting(queue, 1, ticket_type=outage) if k % 2 else _waiting(queue, 2)
    return queue, people, ids


@pytest.mark.parametrize(
    "strategy",
    [RoutingStrategy.ROUND_ROBIN, RoutingStrategy.LEAST_LOADED, RoutingStrategy.SKILLS, RoutingStrategy.HYBRID],
)
def test_a_burst_decides_as_routing_the_tickets_one_by_one(varied_desk, strategy):
    queue, (a, b, c, *_rest), ids = varied_desk
    Queue.objects.filter(pk=queue.pk).update(strategy=strategy)
    queue.refresh_from_db()
    now = timezone.now()
    with transaction.atomic():
        one_by_one = [assignment.route_ticket(t, trigger="offer", now=now) for t in _tickets(ids)]
        written_one_by_one = _written(ids)
        transaction.set_rollback(True)
    queue.refresh_from_db()

    burst = assignment.route_waiting(queue, _tickets(ids), trigger="offer", now=now)

    assert [_seen(d) for d in burst] == [_seen(d) for d in one_by_one]
    # The history rows and notices the burst writes at its end are those routing one by one writes as it goes.
    assert _written(ids) == written_one_by_one
    assigned = [d for d in burst if d is not None and d.assigned]
    assert len(assigned) >= 5  # capacity, absence and skills were all in play, not an empty run
    by_ticket = dict(Ticket.objects.filter(pk__in=ids).values_list("pk", "performer_id"))
    assert [by_ticket[pk] for pk in ids] == [d.user_id if d is not None else None for d in burst]
    routed = TicketEvent.objects.filter(ticket_id__in=ids, kind="ticket.routed")
    assert sorted(routed.values_list("ticket_id", flat=True)) == sorted(
        pk for pk, d in zip(ids, burst, strict=True) if d is not None and d.assigned
    )
    assert {e.data["trigger"] for e in routed} == {"offer"}
    chosen = {d.user_id for d in assigned}
    assert b.pk not in chosen and c.pk not in chosen  # away, absent (their substitute stands in)
    assert sum(d.user_id == a.pk for d in assigned) <= 2  # a's capacity
    assert set(Workload.objects.filter(last_assigned_at=now).values_list("user_id", flat=True)) == chosen
    if strategy == RoutingStrategy.ROUND_ROBIN:
        assert Queue.objects.get(pk=queue.pk).routing_cursor == assigned[-1].cursor


def test_a_burst_stops_at_the_first_ticket_nobody_can_take(db):
    queue = QueueFactory(slug="tiny", name="Tiny", strategy=RoutingStrategy.LEAST_LOADED)
    agent = UserFactory(username="tiny-a", role="engineer")
    MembershipFactory(queue=queue, user=agent, capacity=1)
    ids = _waiting(queue, 3)

    decisions = assignment.route_waiting(queue, _tickets(ids), trigger="offer")

    assert [d.user_id for d in decisions] == [agent.pk, None]
    assert decisions[1].reason == R_NO_AGENT
    assert list(Ticket.objects.filter(pk__in=ids).order_by("pk").values_list("performer_id", flat=True)) == [
        agent.pk,
        None,
        None,
    ]
    assert Ticket.objects.get(pk=ids[2]).status == Status.NEW


def test_a_ticket_closed_or_taken_since_it_was_read_is_left_alone(db):
    queue = QueueFactory(slug="stale", name="Stale", strategy=RoutingStrategy.ROUND_ROBIN)
    a = UserFactory(username="stale-a", role="engineer")
    MembershipFactory(queue=queue, user=a)
    someone = UserFactory(username="stale-someone", role="engineer")
    ids = _waiting(queue, 3)
    tickets = _tickets(ids)  # read while all three wait
    Ticket.objects.filter(pk=ids[0]).update(status=Status.CANCELED)
    Ticket.objects.filter(pk=ids[1]).update(performer=someone, status=Status.ASSIGNED)

    decisions = assignment.route_waiting(queue, tickets, trigger="offer")

    assert decisions[:2] == [None, None] and decisions[2].user_id == a.pk
    performers = dict(Ticket.objects.filter(pk__in=ids).values_list("pk", "performer_id"))
    assert performers == {ids[0]: None, ids[1]: someone.pk, ids[2]: a.pk}


def test_a_refused_assignment_gives_nothing_and_the_burst_goes_on_as_one_by_one(db):
    queue = QueueFactory(slug="refuse", name="Refuse", strategy=RoutingStrategy.LEAST_LOADED)
    roleless = UserFactory(username="refuse-a")  # a member without a role in OpsDesk: ticket_assign refuses
    MembershipFactory(queue=queue, user=roleless)
    ids = _waiting(queue, 3)
    now = timezone.now()
    with transaction.atomic():
        one_by_one = [assignment.route_ticket(t, trigger="offer", now=now) for t in _tickets(ids)]
        transaction.set_rollback(True)

    decisions = assignment.route_waiting(queue, _tickets(ids), trigger="offer", now=now)

    assert decisions == one_by_one == [None, None, None]
    assert not Ticket.objects.filter(pk__in=ids, performer__isnull=False).exists()
    assert not TicketEvent.objects.filter(ticket_id__in=ids, kind="ticket.routed").exists()


def test_a_refusal_after_the_assignment_wrote_drops_what_it_deferred(db):
    """``ticket_assign`` may be refused after it recorded history (a handler of its events refuses): its savepoint
    rolls the ticket back, and the rows and notices the burst deferred for that ticket go with it."""
    queue = QueueFactory(slug="late", name="Late refusal", strategy=RoutingStrategy.LEAST_LOADED)
    agents = [UserFactory(username=f"late-{i}", role="engineer") for i in range(2)]
    for agent in agents:
        MembershipFactory(queue=queue, user=agent)
    ids = _waiting(queue, 3)

    def refuse_the_second(event):
        if event.ticket.pk == ids[1]:
            raise TicketError("refused by a handler")

    bus.bus.subscribe(events.PerformerChanged, refuse_the_second)
    try:
        decisions = assignment.route_waiting(queue, _tickets(ids), trigger="offer")
    finally:
        bus.bus._handlers[events.PerformerChanged].remove(refuse_the_second)

    assert decisions[1] is None and decisions[0].assigned and decisions[2].assigned
    assert Ticket.objects.get(pk=ids[1]).performer_id is None
    assert not TicketEvent.objects.filter(ticket_id=ids[1]).exclude(kind="ticket.created").exists()
    assert not Notification.objects.filter(ticket_id=ids[1]).exists()
    for pk in (ids[0], ids[2]):
        kinds = list(TicketEvent.objects.filter(ticket_id=pk).order_by("pk").values_list("kind", flat=True))
        assert kinds == ["ticket.created", "ticket.assigned", "ticket.status_changed", "ticket.routed"]
        assert Notification.objects.filter(ticket_id=pk, kind="work.assigned").count() == 1


# --- Query counts, independent of the team's size -------------------------------------------------------


def _big_team(queue, n: int, tag: str, *, open_work: int = 0) -> list:
    """``n`` engineers in ``queue`` written in bulk; the first ``open_work`` of them perform two open tickets."""
    User = get_user_model()
    User.objects.bulk_create([User(username=f"{tag}-{i}") for i in range(n)])
    people = list(User.objects.filter(username__startswith=f"{tag}-").order_by("pk"))
    Group.objects.get(name="engineer").user_set.add(*people)
    Profile.objects.bulk_create([Profile(user=u, language="en") for u in people], ignore_conflicts=True)
    QueueMembership.objects.bulk_create([QueueMembership(queue=queue, user=u) for u in people])
    customer = CustomerFactory()
    now = timezone.now()
    Ticket.objects.bulk_create(
        [
            Ticket(
                title="Open",
                customer=customer,
                queue=queue,
                performer=u,
                owner=u,
                status=Status.ASSIGNED,
                created_at=now,
                status_changed_at=now,
            )
            for u in people[:open_work]
            for _ in range(2)
        ]
    )
    workload.recount()  # tickets written in bulk, as a seeder writes them
    return people


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


@pytest.mark.django_db
def test_one_routing_decision_takes_the_same_queries_for_10_or_200_agents():
    counts = []
    for n in (10, 200):
        queue = QueueFactory(slug=f"team-{n}", name=f"Team {n}", strategy=RoutingStrategy.LEAST_LOADED)
        people = _big_team(queue, n, f"t{n}", open_work=n // 2)
        (ticket,) = _tickets(_waiting(queue, 1))
        counts.append(_queries(lambda ticket=ticket: assignment.route_ticket(ticket, trigger="test")))
        ticket.refresh_from_db()
        assert ticket.performer in people[n // 2 :]  # the least loaded got it
    assert counts == [ROUTE_QUERIES, ROUTE_QUERIES]


@pytest.mark.django_db
def test_a_burst_takes_the_same_queries_for_10_or_200_agents():
    counts = []
    for n in (10, 200):
        queue = QueueFactory(slug=f"burst-{n}", name=f"Burst {n}", strategy=RoutingStrategy.LEAST_LOADED)
        people = _big_team(queue, n, f"b{n}", open_work=n // 2)
        tickets = _tickets(_waiting(queue, 5))
        counts.append(_queries(lambda q=queue, t=tickets: assignment.route_waiting(q, t, trigger="test")))
        performers = set(Ticket.objects.filter(pk__in=[t.pk for t in tickets]).values_list("performer", flat=True))
        assert len(performers) == 5 and performers <= {u.pk for u in people[n // 2 :]}
    assert counts == [BURST_OF_5_QUERIES, BURST_OF_5_QUERIES]
    assert BURST_OF_5_QUERIES < 5 * ROUTE_QUERIES
