"""The SLA policies and classification rules an email reads are cached per process (``core.rowcache``):
an edit, however it is made, applies to the very next email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels.inbound.receive import email_receive, external_id
from core.rowcache import Precompiled
from intake.services import find_delivered
from routing.models import ClassificationRule
from sla.models import SLAClock, SLAPolicy
from tests.channels.inbound.test_receive_queries import email_with_file
from tests.sla.conftest import make_calendar
from tickets.models import Message, Ticket, TicketType

pytestmark = pytest.mark.django_db


def _new_ticket(channel, n: int) -> Ticket:
    assert email_receive(channel, email_with_file(n)).outcome == "created"
    return Ticket.objects.order_by("-pk").first()


def _resolution_policy(ticket: Ticket) -> tuple[int | None, int | None]:
    clock = SLAClock.objects.filter(ticket=ticket, kind=SLAClock.Kind.RESOLUTION).first()
    return (clock.policy_id, clock.target) if clock else (None, None)


def test_an_edited_policy_applies_to_the_next_email(channel):
    calendar = make_calendar("24/7", {d: [("00:00", "24:00")] for d in range(7)})
    policy = SLAPolicy.objects.create(
        name="Mail",
        precedence=1,
        calendar=calendar,
        first_response_target=timedelta(hours=2),
        resolution_target=timedelta(hours=24),
    )
    first = _resolution_policy(_new_ticket(channel, 1))
    assert first[0] == policy.pk

    policy.resolution_target += timedelta(hours=5)  # as the admin saves it
    policy.save()
    second = _resolution_policy(_new_ticket(channel, 2))
    assert second[0] == policy.pk and second[1] != first[1]

    SLAPolicy.objects.filter(is_active=True).update(is_active=False)  # no signal at all
    assert _resolution_policy(_new_ticket(channel, 3)) == (None, None)

    with connection.cursor() as cursor:  # as another process would, behind the ORM's back
        cursor.execute(f"UPDATE {SLAPolicy._meta.db_table} SET is_active = %s WHERE id = %s", [True, policy.pk])
    assert _resolution_policy(_new_ticket(channel, 4))[0] == policy.pk


def test_an_edited_classification_rule_applies_to_the_next_email(channel):
    kind = TicketType.objects.create(name="Data", slug="data-files")
    rule = ClassificationRule.objects.create(keywords="nothing-matches-this", ticket_type=kind, position=1)
    assert _new_ticket(channel, 1).ticket_type_id != kind.pk

    rule.keywords = "request"  # every test email says "Request n"
    rule.save()
    assert _new_ticket(channel, 2).ticket_type_id == kind.pk
    assert _new_ticket(channel, 3).ticket_type_id == kind.pk  # the hit counter does not matter

    ClassificationRule.objects.filter(pk=rule.pk).update(active=False)
    assert _new_ticket(channel, 4).ticket_type_id != kind.pk


def test_a_delivered_message_is_found_with_its_ticket_in_one_query(channel):
    assert email_receive(channel, email_with_file(1)).outcome == "created"
    with CaptureQueriesContext(connection) as captured:
        found = find_delivered(channel, external_id("<load-1@load.example>"))
        ticket = found.ticket
    assert len(captured) == 1
    expected = Message.objects.select_related("ticket").get(pk=found.pk)
    assert ticket == expected.ticket and found.ticket_id == expected.ticket_id
    assert found.created_at == expected.created_at and found.created_at.tzinfo is not None  # converters applied
    assert ticket.created_at == expected.ticket.created_at
    assert find_delivered(channel, "<another@load.example>") is None


def test_a_placeholder_must_be_a_parameter_of_its_own():
    twice = Precompiled(lambda pk: Ticket.objects.filter(pk=pk, customer_id=pk), -7_100_000_001)
    with pytest.raises(ValueError):
        twice.rows(1)
