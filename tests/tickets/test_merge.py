"""Merging a duplicate (``tickets.merge``): what moves, what closes, what is refused, where later replies land."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from channels.inbound.receive import Outcome, email_receive
from portal.customer_selectors import customer_totals
from reports.selectors import completed_tickets
from sla.breaches import clock_mark_breaches
from sla.models import SLAClock, SLAPolicy
from tests.channels.inbound import corpus
from tests.factories import CustomerFactory, TicketFactory
from tests.sla.conftest import make_calendar
from tests.tickets.intake_helpers import make_gateway, message, send
from tickets import merge, services
from tickets.attachments import IncomingFile
from tickets.errors import TicketError
from tickets.models import Attachment, LinkKind, Message, Organisation, Status, Ticket, TicketEvent


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Ivan Petrov", email="ivan@customer.example")


def _ticket(actor, customer, queue, title, **extra):
    return services.ticket_create(actor=actor, title=title, customer=customer, queue=queue, description=title, **extra)


@pytest.fixture
def pair(dispatcher, customer, queue, engineer):
    """The original (with a performer) and its duplicate (a customer message with a file, an observer)."""
    original = _ticket(dispatcher, customer, queue, "Printer jam", performer=engineer)
    duplicate = _ticket(dispatcher, customer, queue, "Printer still jams")
    services.ticket_receive_customer_message(
        duplicate,
        body="Photo of the jam",
        channel="email",
        attachments=[IncomingFile("jam.png", "image/png", b"\x89PNG fake")],
    )
    services.ticket_set_people(duplicate, actor=dispatcher, observers=[engineer])
    return original, duplicate


def _snapshot():
    return (
        list(Ticket.objects.order_by("pk").values_list("pk", "status", "merged_into_id")),
        list(Message.objects.order_by("pk").values_list("pk", "ticket_id")),
        TicketEvent.objects.count(),
        list(Attachment.objects.values_list("pk", "ticket_id")),
    )


def test_a_merge_moves_messages_files_and_observers_and_closes_the_duplicate_as_merged(pair, dispatcher, engineer):
    original, duplicate = pair
    moved = list(duplicate.messages.values_list("pk", flat=True))

    survivor = merge.ticket_merge(duplicate, into=original, actor=dispatcher)

    assert survivor == original
    duplicate.refresh_from_db()
    assert duplicate.status == Status.CANCELED and duplicate.merged_into == original
    assert set(original.messages.values_list("pk", flat=True)) >= set(moved)
    assert not duplicate.messages.exists()
    assert Attachment.objects.get(filename="jam.png").ticket == original
    assert engineer in original.observers.all()
    link = original.links_in.get()
    assert (link.source, link.kind) == (duplicate, LinkKind.DUPLICATE)
    into_row = duplicate.events.get(kind="ticket.merged_into")
    assert into_row.data["into"] == original.pk and into_row.data["messages"] == len(moved)
    assert into_row.actor == dispatcher
    assert original.events.get(kind="ticket.merged_from").data["duplicate"] == duplicate.pk
    closed = duplicate.events.filter(kind="ticket.status_changed").last()
    assert closed.data == {"from": Status.NEW, "to": Status.CANCELED, "cause": "merged"}


def test_tickets_of_one_organisation_merge_across_its_contacts(dispatcher, queue):
    acme = Organisation.objects.create(name="Acme")
    anna, boris = CustomerFactory(organisation=acme), CustomerFactory(organisation=acme)
    first, second = _ticket(dispatcher, anna, queue, "VPN"), _ticket(dispatcher, boris, queue, "VPN again")
    merge.ticket_merge(second, into=first, actor=dispatcher)
    assert Ticket.objects.get(pk=second.pk).merged_into_id == first.pk


def test_a_merged_ticket_cannot_be_restored_or_changed_back(pair, dispatcher):
    original, duplicate = pair
    merge.ticket_merge(duplicate, into=original, actor=dispatcher)
    with pytest.raises(TicketError, match=f"merged into #{original.pk}"):
        services.ticket_change_status(duplicate, status=Status.NEW, actor=dispatcher)


@pytest.mark.parametrize(
    "case",
    [
        "itself",
        "closed_target",
        "merged_target",
        "closed_duplicate",
        "other_customer",
        "foreign_target",
        "engineer",
        "internal",
    ],
)
def test_every_refused_merge_says_why_and_changes_nothing(case, pair, dispatcher, engineer, other_queue, queue):
    original, duplicate = pair
    actor, into = dispatcher, original
    if case == "itself":
        into = duplicate
    elif case == "closed_target":
        Ticket.objects.filter(pk=original.pk).update(status=Status.DONE)
    elif case == "merged_target":
        third = _ticket(dispatcher, original.customer, queue, "Third")
        merge.ticket_merge(original, into=third, actor=dispatcher)
    elif case == "closed_duplicate":
        Ticket.objects.filter(pk=duplicate.pk).update(status=Status.CANCELED)
    elif case == "other_customer":
        into = _ticket(dispatcher, CustomerFactory(), queue, "Someone else's")
    elif case == "foreign_target":
        into = TicketFactory(queue=other_queue, customer=original.customer)  # the dispatcher may not open it
    elif case == "engineer":
        actor = engineer
    elif case == "internal":
        into = TicketFactory(queue=queue, kind="internal", requester_queue=queue, customer=original.customer)
    before = _snapshot()
    messages = {
        "itself": "cannot be merged into itself",
        "closed_target": "is closed: merge into an open ticket",
        "merged_target": "is closed: merge into an open ticket",
        "closed_duplicate": "only an open ticket can be merged",
        "other_customer": "belong to different customers",
        "foreign_target": "does not exist or you may not open it",
        "engineer": "You may not merge",
        "internal": "Internal tasks are not merged",
    }
    with pytest.raises(TicketError, match=messages[case]):
        merge.ticket_merge(Ticket.objects.get(pk=duplicate.pk), into=Ticket.objects.get(pk=into.pk), actor=actor)
    assert _snapshot() == before


def test_a_chain_of_merges_is_flattened_and_followed_to_the_survivor(dispatcher, customer, queue):
    first, second, third = (_ticket(dispatcher, customer, queue, name) for name in ("A", "B", "C"))
    merge.ticket_merge(first, into=second, actor=dispatcher)
    merge.ticket_merge(second, into=third, actor=dispatcher)
    assert Ticket.objects.get(pk=first.pk).merged_into_id == third.pk
    assert merge.surviving_ticket(Ticket.objects.get(pk=first.pk)) == third
    assert merge.surviving_ticket(third) == third


def test_the_duplicates_clocks_stop_and_its_breach_counts_nowhere(dispatcher, customer, queue, engineer, time_machine):
    policy = SLAPolicy.objects.create(
        name="Fast",
        precedence=1,
        calendar=make_calendar("24/7", {d: [("00:00", "24:00")] for d in range(7)}),
        first_response_target=timedelta(hours=1),
        resolution_target=timedelta(hours=4),
    )
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    original = _ticket(dispatcher, customer, queue, "Printer jam", performer=engineer)
    duplicate = _ticket(dispatcher, customer, queue, "Printer jam again", performer=engineer)
    time_machine.move_to(start + timedelta(hours=2), tick=False)
    clock_mark_breaches()
    assert SLAClock.objects.filter(ticket=duplicate, policy=policy, breached_at__isnull=False).exists()
    assert customer_totals(customer, dispatcher).breached == 2  # both are late so far

    merge.ticket_merge(duplicate, into=original, actor=dispatcher)

    clocks = SLAClock.objects.filter(ticket=duplicate)
    assert clocks and all(c.state == SLAClock.State.STOPPED and not c.counts_for_compliance for c in clocks)
    # The SLA report and the dashboard count only clocks that count for compliance; the customer page too.
    assert customer_totals(customer, dispatcher).breached == 1
    # Discipline counts done tickets only: the merged duplicate (canceled) is no completed work.
    period_tickets = completed_tickets_all()
    assert duplicate.pk not in period_tickets


def completed_tickets_all():
    from datetime import date
    from zoneinfo import ZoneInfo

    from reports.selectors import Period

    period = Period(date(2000, 1, 1), date(2100, 1, 1), ZoneInfo("UTC"))
    return set(completed_tickets(period).values_list("pk", flat=True))


# --- Later replies land in the surviving ticket ------------------------------------------------------------


def test_an_intake_reply_naming_the_duplicate_lands_in_the_surviving_ticket(client, pair, dispatcher, queue):
    original, duplicate = pair
    merge.ticket_merge(duplicate, into=original, actor=dispatcher)
    gateway = make_gateway("Bridge", queue)
    payload = message(ticket=duplicate.pk, message_id="after-merge")
    payload["customer"] = {"name": "Ivan Petrov", "email": "ivan@customer.example"}
    response = send(client, gateway.token, payload)
    assert response.status_code in (200, 201), response.content
    assert response.json()["ticket"] == original.pk and response.json()["created_ticket"] is False
    assert Message.objects.get(external_id="after-merge").ticket == original


def test_an_email_tagged_with_the_duplicate_or_answering_its_messages_lands_in_the_surviving_ticket(
    pair, dispatcher, queue
):
    original, duplicate = pair
    reply = services.ticket_reply(duplicate, body="Which printer?", actor=dispatcher)
    Message.objects.filter(pk=reply.pk).update(mail_message_id="<reply-dup@opsdesk.example>")
    merge.ticket_merge(duplicate, into=original, actor=dispatcher)
    channel = make_gateway("Mailbox", queue).channel

    tagged = email_receive(channel, corpus.plain(subject=f"Re: [#{duplicate.pk}] Printer", message_id="<t1@c>"))
    threaded = email_receive(
        channel,
        corpus.plain(subject="Re: Printer", message_id="<t2@c>", headers="In-Reply-To: <reply-dup@opsdesk.example>"),
    )

    assert (tagged.outcome, tagged.ticket) == (Outcome.APPENDED, original)
    assert (threaded.outcome, threaded.ticket) == (Outcome.APPENDED, original)
    assert not Ticket.objects.filter(customer=original.customer).exclude(pk__in=[original.pk, duplicate.pk])
