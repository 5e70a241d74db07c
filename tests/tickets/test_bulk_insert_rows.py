"""``core.bulk.insert_rows``: many rows in one statement, holding what the ORM would have written."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from core.bulk import insert_rows
from escalations.models import EscalationLevel, EscalationPolicy
from notifications.models import Delivery, Notification
from tickets.models import TicketEvent

ALMATY = ZoneInfo("Asia/Almaty")
AT = datetime(2026, 3, 16, 10, 0, 0, 123456, tzinfo=ALMATY)


def test_rows_keep_their_values_and_the_new_ids_come_back_in_the_order_given(ticket):
    rows = [
        (ticket.pk, None, "test.bulk", {"n": n, "text": "«ёлка» 🙂 \"quoted\" \\ {braces}", "list": [1, None, True]},
         AT + timedelta(minutes=n))
        for n in range(3)
    ]
    with CaptureQueriesContext(connection) as queries:
        ids = insert_rows(TicketEvent, ("ticket", "actor", "kind", "data", "created_at"), rows, returning=("id",))
    assert len(queries.captured_queries) == 1
    events = TicketEvent.objects.filter(kind="test.bulk").order_by("pk")
    assert [(e.pk,) for e in events] == ids
    assert [(e.ticket_id, e.actor_id, e.kind, e.data, e.created_at) for e in events] == rows


def test_fields_not_named_get_their_model_defaults(ticket, engineer):
    notification = Notification.objects.create(recipient=engineer, kind="t", urgency="routine", title="T")
    insert_rows(Delivery, ("notification", "recipient", "channel", "digestible", "next_attempt_at", "created_at"),
                [(notification.pk, engineer.pk, "email", True, AT, AT)])
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error, delivery.result, delivery.claim_token,
            delivery.next_attempt_at, delivery.digestible) == ("pending", 0, "", "", None, AT, True)


def test_durations_nulls_and_negative_offsets_are_written_as_the_orm_writes_them(db):
    policy = EscalationPolicy.objects.create(name="Offsets")
    insert_rows(EscalationLevel, ("policy", "order", "name", "trigger_percent", "trigger_offset"), [
        (policy.pk, 10, "Before", None, -timedelta(minutes=30)),
        (policy.pk, 20, "After", None, timedelta(days=1, hours=2, microseconds=5)),
        (policy.pk, 30, "Share", 150, None),
    ])
    levels = EscalationLevel.objects.filter(policy=policy).order_by("order")
    assert [(lv.name, lv.trigger_percent, lv.trigger_offset) for lv in levels] == [
        ("Before", None, -timedelta(minutes=30)),
        ("After", None, timedelta(days=1, hours=2, microseconds=5)),
        ("Share", 150, None),
    ]
    assert levels[0].notify is True  # a model default


def test_no_rows_no_statement(db):
    with CaptureQueriesContext(connection) as queries:
        assert insert_rows(TicketEvent, ("ticket", "kind"), [], returning=("id",)) == []
    assert queries.captured_queries == []


@pytest.mark.postgres
def test_a_value_too_long_for_its_column_fails_rather_than_being_cut(ticket):
    with pytest.raises(DataError), transaction.atomic():
        insert_rows(TicketEvent, ("ticket", "kind", "data", "created_at"), [(ticket.pk, "k" * 61, {}, AT)])
