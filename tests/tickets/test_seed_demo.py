"""``manage.py seed_demo``: every status, working logins, consistent lifecycle state, idempotent."""

from __future__ import annotations

import itertools
from collections import defaultdict
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count, Min
from django.test import RequestFactory
from django.utils import timezone

from opsdesk import demo
from tickets import access, workload
from tickets.demo.customers import DEMO_TOKENS
from tickets.demo.people import DEMO_PASSWORD, DEMO_USERS
from tickets.models import (
    OPEN_STATUSES,
    Customer,
    IntakeChannel,
    Message,
    Profile,
    Queue,
    QueueMembership,
    Status,
    Ticket,
    TicketEvent,
    TicketType,
    Workload,
    hash_token,
)

User = get_user_model()


def seed(tickets=60, seed=42, **options) -> str:
    out = StringIO()
    call_command("seed_demo", tickets=tickets, seed=seed, force=True, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def seeded(db):
    return seed()


def test_it_creates_tickets_in_every_status(seeded):
    assert Ticket.objects.count() == 60
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)


def test_every_role_logs_in_with_the_documented_password(seeded):
    request = RequestFactory().get("/")
    for spec in DEMO_USERS:
        user = authenticate(request=request, username=spec.username, password=DEMO_PASSWORD)
        assert user is not None, spec.username
        assert spec.role in access.roles_of(user)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert not User.objects.get(username="dispatcher").is_staff


def test_profiles_have_names_zones_languages_and_managers(seeded):
    manager = User.objects.get(username="manager")
    aigerim = Profile.objects.get(user__username="aigerim")
    assert aigerim.display_name == "Айгерим Сапарова"
    assert aigerim.time_zone == "Asia/Almaty" and aigerim.language == "ru"
    assert Profile.objects.get(user__username="dana").language == "en"
    engineers = Profile.objects.filter(user__groups__name=access.ENGINEER)
    assert engineers.count() == 5
    assert set(engineers.values_list("manager", flat=True)) == {manager.pk}


def test_queues_have_agents_a_dispatcher_and_a_manager(seeded):
    sizes = {
        q.slug: q.memberships.filter(role=QueueMembership.Role.AGENT).count()
        for q in Queue.objects.filter(slug__in=["sales", "service", "support"])
    }
    assert sizes == {"sales": 5, "service": 3, "support": 2}
    dispatcher = User.objects.get(username="dispatcher")
    for queue in Queue.objects.all():
        assert queue.memberships.filter(user=dispatcher, role=QueueMembership.Role.DISPATCHER).exists()
        assert queue.manager is not None
    assert Queue.objects.get(slug="support").name_ru == "Техподдержка"
    assert TicketType.objects.get(slug="critical-incident").default_queue.slug == "support"


def test_customers_are_bilingual_with_phones_and_some_vips(seeded):
    customers = Customer.objects.all()
    assert customers.count() == 200
    assert customers.filter(vip_tier__isnull=False).exists()
    assert customers.filter(language="en").exists() and customers.filter(language="ru").exists()
    assert all(c.phone.startswith("+7") and len(c.phone) == 12 for c in customers)
    assert customers.filter(related_objects__kind="order").distinct().count() == 200


def test_the_intake_tokens_are_the_documented_ones(seeded):
    for name, token in DEMO_TOKENS.items():
        channel = IntakeChannel.objects.get(name=name)
        assert channel.token_hash == hash_token(token) and channel.is_active
        assert token in seeded


def test_the_command_prints_the_logins_and_the_tokens(seeded):
    assert DEMO_PASSWORD in seeded
    for spec in DEMO_USERS:
        assert spec.username in seeded
    assert "60 created" in seeded


def test_waiting_tickets_have_a_reason_and_closed_ones_their_timestamps(seeded):
    for ticket in Ticket.objects.all():
        assert (ticket.status == Status.WAITING) == (ticket.blocking_reason_id is not None)
        assert (ticket.status == Status.DONE) == (ticket.done_at is not None)
        assert (ticket.status == Status.CANCELED) == (ticket.canceled_at is not None)
        if ticket.done_at:
            assert ticket.created_at <= ticket.done_at <= timezone.now()


def test_first_public_reply_is_the_time_of_the_first_reply(seeded):
    first_replies = dict(
        Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY)
        .values("ticket")
        .annotate(first=Min("created_at"))
        .values_list("ticket", "first")
    )
    for ticket in Ticket.objects.all():
        assert ticket.first_public_reply_at == first_replies.get(ticket.pk)


def test_working_tickets_are_performed_by_agents_of_their_queue(seeded):
    agents = defaultdict(set)
    for queue_id, user_id in QueueMembership.objects.filter(role=QueueMembership.Role.AGENT).values_list(
        "queue_id", "user_id"
    ):
        agents[queue_id].add(user_id)
    working = Ticket.objects.filter(status__in=[Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING])
    assert working.exists()
    for ticket in working:
        assert ticket.performer_id in agents[ticket.queue_id]
        assert ticket.owner_id is not None
    assert not Ticket.objects.filter(status=Status.NEW, performer__isnull=False).exists()


def test_the_agents_stored_open_ticket_counts_are_their_open_tickets(seeded):
    stored = {user_id: n for user_id, n in Workload.objects.values_list("user_id", "open_tickets") if n}
    assert stored and stored == workload.real_counts()  # what least-loaded routing reads from the first minute


def test_every_ticket_starts_with_the_customer_message_and_a_created_event(seeded):
    for ticket in Ticket.objects.prefetch_related("messages", "events"):
        messages, events = list(ticket.messages.all()), list(ticket.events.all())
        assert messages[0].kind == Message.Kind.INBOUND and messages[0].body == ticket.description
        assert events[0].kind == "ticket.created" and events[0].created_at == ticket.created_at
        assert all(a.created_at <= b.created_at for a, b in itertools.pairwise(events))
        assert events[-1].created_at <= timezone.now()


def test_history_follows_the_status_changes(seeded):
    for ticket in Ticket.objects.exclude(status=Status.NEW).prefetch_related("events"):
        changes = [e for e in ticket.events.all() if e.kind == "ticket.status_changed"]
        assert changes, ticket.pk
        assert changes[0].data["from"] == Status.NEW
        assert changes[-1].data["to"] == ticket.status
        assert all(a.data["to"] == b.data["from"] for a, b in itertools.pairwise(changes))
        assert changes[-1].created_at == ticket.status_changed_at
        if ticket.status == Status.WAITING:
            assert changes[-1].data["reason"] == ticket.blocking_reason.code
    assigned = TicketEvent.objects.filter(kind="ticket.assigned").select_related("ticket").first()
    assert assigned.actor.username in ("dispatcher", "lead")


def test_replies_and_notes_are_in_history_with_their_message(seeded):
    replies = TicketEvent.objects.filter(kind="ticket.replied")
    assert replies.exists() and TicketEvent.objects.filter(kind="ticket.noted").exists()
    for event in replies[:20]:
        message = Message.objects.get(pk=event.data["message"])
        assert message.kind == Message.Kind.PUBLIC_REPLY and message.ticket_id == event.ticket_id
        assert message.author_id == event.actor_id and message.created_at == event.created_at


def test_some_open_tickets_are_overdue_and_some_have_a_next_step(seeded):
    now = timezone.now()
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    assert open_tickets.filter(deadline__lt=now).exists()
    assert open_tickets.filter(deadline__gt=now).exists()
    assert open_tickets.exclude(next_step="").exists()
    assert not Ticket.objects.filter(status__in=[Status.DONE, Status.CANCELED]).exclude(next_step="").exists()
    on_approval = Ticket.objects.filter(status=Status.ON_APPROVAL)
    assert not on_approval.filter(approver__isnull=True).exists()


def test_a_second_run_creates_nothing_and_says_so(seeded):
    counts = [m.objects.count() for m in (User, Customer, Queue, QueueMembership, Ticket, Message, TicketEvent)]
    out = seed()
    assert [m.objects.count() for m in (User, Customer, Queue, QueueMembership, Ticket, Message, TicketEvent)] == counts
    assert "0 created, all 60 were already there" in out


def test_a_larger_count_tops_up_and_another_seed_adds_its_own_tickets(seeded):
    seed(tickets=70)
    assert Ticket.objects.count() == 70
    seed(tickets=20, seed=7)
    assert Ticket.objects.count() == 90
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Status.values)
    per_index = TicketEvent.objects.filter(kind="ticket.created").values("data__demo_seed", "data__demo_index")
    assert per_index.annotate(n=Count("id")).filter(n__gt=1).count() == 0


def test_the_same_seed_gives_the_same_tickets(db):
    seed(tickets=15)
    first = list(Ticket.objects.order_by("pk").values_list("title", "status", "priority", "customer__email"))
    Ticket.objects.all().delete()
    seed(tickets=15)
    assert list(Ticket.objects.order_by("pk").values_list("title", "status", "priority", "customer__email")) == first


def test_it_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", tickets=1, stdout=StringIO())
    assert not Ticket.objects.exists()


def test_extra_seeders_run_after_the_base_seed(db, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_SEEDERS", ["tests.tickets.test_seed_demo.record_context"])
    seed(tickets=3)
    assert CALLS and CALLS[-1].queues["sales"].slug == "sales" and len(CALLS[-1].customers) == 200


CALLS: list = []


def record_context(ctx):
    CALLS.append(ctx)


def test_the_demo_has_pending_and_decided_deferrals_made_through_the_services(seeded):
    from deferrals.models import DeferralRequest

    requests = DeferralRequest.objects.select_related("ticket", "requested_by", "addressed_to")
    statuses = sorted(requests.values_list("status", flat=True))
    assert statuses == ["objective", "objective", "pending", "pending", "pending", "subjective"]
    for deferral in requests:
        assert deferral.requested_by == deferral.ticket.performer
        assert deferral.addressed_to is not None and deferral.addressed_to != deferral.requested_by
        assert deferral.explanation and deferral.proposed_deadline > deferral.old_deadline
        kinds = set(deferral.ticket.events.values_list("kind", flat=True))
        assert "ticket.deferral_requested" in kinds
        if deferral.status != "pending":
            assert "ticket.deadline_deferred" in kinds and deferral.ticket.deadline == deferral.new_deadline
    # Pending requests sit on a manager's desk, as the approvals screen lists them.
    from deferrals import selectors as deferral_selectors

    pending = requests.filter(status="pending")
    assert all(deferral_selectors.desk(d.addressed_to).filter(pk=d.pk).exists() for d in pending)
    assert seed() and DeferralRequest.objects.count() == 6  # a second run adds none
