"""``core.fastinsert``: the same rows as Django's own insert, with the SQL compiled once; the plain path otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Now
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core import fastinsert
from sla.models import Calendar
from tests.factories import CustomerFactory, IntakeChannelFactory, QueueFactory, TicketFactory, UserFactory
from tickets.models import Attachment, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _row(obj) -> dict:
    values = type(obj).objects.filter(pk=obj.pk).values().get()
    values.pop("id")
    return values


def _ticket_fields(**extra) -> dict:
    now = timezone.now()
    return {
        "title": "Printer on fire",
        "description": "Smoke",
        "customer": CustomerFactory(),
        "queue": QueueFactory(),
        "deadline": now + timedelta(days=2),
        "created_at": now,
        "status_changed_at": now,
        **extra,
    }


def test_a_row_is_what_djangos_insert_writes():
    fields = _ticket_fields(owner=UserFactory(), priority=3)
    fast = fastinsert.create(Ticket, **fields)
    plain = Ticket.objects.create(**fields)
    assert fast.pk is not None and fast.pk != plain.pk
    assert not fast._state.adding and fast._state.db == "default"
    fast_row, plain_row = _row(fast), _row(plain)
    # ``auto_now`` stamps each insert with its own instant, kept on the object as ``save()`` keeps it.
    assert fast_row.pop("updated_at") == fast.updated_at and plain_row.pop("updated_at") == plain.updated_at
    assert fast_row == plain_row


def test_several_rows_in_one_insert_with_their_keys_and_unsaved_parents():
    ticket = TicketFactory()
    channel = IntakeChannelFactory()
    messages = [
        Message(ticket=ticket, kind=Message.Kind.INBOUND, body=f"text {n}", intake_channel=channel, external_id=f"m{n}")
        for n in range(3)
    ]
    with CaptureQueriesContext(connection) as captured:
        fastinsert.insert(messages)
    assert len(captured) == 1 and captured[0]["sql"].startswith("INSERT")
    assert [m.body for m in Message.objects.filter(pk__in=[m.pk for m in messages]).order_by("pk")] == [
        "text 0",
        "text 1",
        "text 2",
    ]
    # A history row points to a ticket inserted just before, through the object (its key is read at insert).
    new_ticket = Ticket(**_ticket_fields())
    fastinsert.insert([new_ticket])
    event = TicketEvent(ticket=new_ticket, kind="ticket.created", data={"channel": "email"}, created_at=timezone.now())
    fastinsert.insert([event])
    assert TicketEvent.objects.get(pk=event.pk).ticket_id == new_ticket.pk


def test_the_statement_is_compiled_once_per_model_and_row_count(monkeypatch):
    fastinsert.create(Ticket, **_ticket_fields())
    compiled = []
    original = fastinsert.InsertQuery

    def counting(*args, **kwargs):
        compiled.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(fastinsert, "InsertQuery", counting)
    fastinsert.create(Ticket, **_ticket_fields())
    assert compiled == []
    fastinsert.insert([Ticket(**_ticket_fields()), Ticket(**_ticket_fields())])  # two rows: another statement
    assert len(compiled) == 1


def test_a_file_not_yet_stored_is_stored_as_save_does(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    ticket = TicketFactory()
    message = fastinsert.create(Message, ticket=ticket, kind=Message.Kind.INBOUND, body="see file")
    attachment = Attachment(
        ticket=ticket, message=message, filename="a.txt", content_type="text/plain", size=3, sha256="x"
    )
    attachment.file.save("a.txt", ContentFile(b"abc"), save=False)
    fastinsert.insert([attachment])
    stored = Attachment.objects.get(pk=attachment.pk)
    assert stored.file.name == attachment.file.name and stored.file.read() == b"abc"
    assert stored.created_at == attachment.created_at


def test_a_listener_an_own_save_or_an_expression_take_the_plain_path():
    heard = []

    def listener(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(listener, sender=Ticket)
    try:
        ticket = fastinsert.create(Ticket, **_ticket_fields())
    finally:
        post_save.disconnect(listener, sender=Ticket)
    assert heard == [(ticket.pk, True)]

    calendar = fastinsert.create(Calendar, name="Support hours")  # Calendar.save stamps a version
    assert Calendar.objects.get(pk=calendar.pk).version == calendar.version is not None

    stamped = fastinsert.create(Ticket, **_ticket_fields(status_changed_at=Now()))
    stamped.refresh_from_db()
    assert stamped.status_changed_at is not None
    with pytest.raises(ValueError, match=r"F\(\) expressions can only be used to update"):  # as before
        fastinsert.create(Ticket, **_ticket_fields(priority=F("priority")))


def test_an_own_save_marked_plain_for_new_rows_keeps_the_fast_path(monkeypatch):
    """``Ticket.save`` only changes how a stored ticket is updated (``plain_for_new_rows``): new tickets are still
    written by the compiled statement, and the row is the one ``save()`` writes."""
    assert fastinsert._plain(Ticket, [Ticket(**_ticket_fields())])
    slow = []
    monkeypatch.setattr(fastinsert, "_slow", lambda *args: slow.append(args) or [])
    ticket = fastinsert.create(Ticket, **_ticket_fields())
    assert slow == [] and ticket.pk is not None
    assert Ticket.objects.filter(pk=ticket.pk).values_list("title", flat=True).get() == ticket.title


def test_a_refused_row_raises_integrity_error_and_marks_the_transaction():
    channel = IntakeChannelFactory()
    ticket = TicketFactory()
    fastinsert.create(Message, ticket=ticket, kind=Message.Kind.INBOUND, intake_channel=channel, external_id="twin")

    def twin():
        return fastinsert.create(
            Message, ticket=ticket, kind=Message.Kind.INBOUND, intake_channel=channel, external_id="twin"
        )

    class Marked(Exception):
        pass

    with pytest.raises(Marked), transaction.atomic():
        with pytest.raises(IntegrityError):
            twin()
        assert transaction.get_rollback()  # as a refused save() leaves it: nothing more runs in this block
        raise Marked
    with transaction.atomic():  # a caller's savepoint around it keeps the rest of the transaction usable
        with pytest.raises(IntegrityError), transaction.atomic():
            twin()
        assert Message.objects.filter(external_id="twin").count() == 1


_SAMPLES = {
    str: ["", "Printer on fire", "Принтер горит", "x" * 300],
    int: [0, 1, -7, 2**31 - 1, 2**40],
    bool: [True, False],
    datetime: [
        datetime(2026, 12, 7, 20, 31, 42, 123456, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin")),
        datetime(1, 1, 1, tzinfo=UTC) + timedelta(days=1),
    ],
}


def test_the_shortcut_of_every_field_of_every_model_prepares_values_as_django_does():
    """For each field that has one, in every installed model, on this database: the shortcut's parameter equals what
    ``get_db_prep_save`` gives, of the same type (PostgreSQL's integer columns take psycopg's typed integers)."""
    checked = set()
    for model in apps.get_models():
        for field, kind, convert in fastinsert._preps(model, "default"):
            if kind is None:
                continue
            checked.add(type(field).__name__)
            for value in [None, *_SAMPLES[kind]]:
                expected = field.get_db_prep_save(value, connection=connection)
                got = None if value is None else value if convert is None else convert(value)
                assert (got, type(got)) == (expected, type(expected)), (model, field.name, value)
    assert {"CharField", "TextField", "BooleanField", "DateTimeField", "ForeignKey"} <= checked
    assert checked & {"IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField"}


def test_values_outside_the_shortcut_take_djangos_way():
    ticket = fastinsert.insert([Ticket(**_ticket_fields(title=gettext_lazy("Lazy title"), priority=True))])[0]
    row = _row(ticket)
    assert row["title"] == "Lazy title" and row["priority"] == 1
