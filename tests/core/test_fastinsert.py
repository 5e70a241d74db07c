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


# --- update: save(update_fields=…) of a stored row ------------------------------------------------------------------


def _changed(ticket: Ticket, performer, when: datetime) -> list[str]:
    ticket.performer = performer
    ticket.owner = performer
    ticket.status = "assigned"
    ticket.status_changed_at = when
    ticket.blocking_reason = None
    return ["performer", "owner", "status", "status_changed_at", "updated_at"]


def test_update_writes_what_save_with_update_fields_writes_in_one_statement():
    performer, when = UserFactory(), timezone.now() - timedelta(minutes=5)
    fast, plain = TicketFactory(title="Same"), TicketFactory(title="Same")
    before = _row(fast)
    fields = _changed(fast, performer, when)
    fast.title = "not in the fields: not written"
    with CaptureQueriesContext(connection) as ctx:
        fastinsert.update(fast, fields)
    plain.save(update_fields=_changed(plain, performer, when))
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["UPDATE"]
    fast_row, plain_row = _row(fast), _row(plain)
    assert fast_row["title"] == before["title"] == "Same"
    # ``auto_now`` stamps the update as save() does, on the object too
    assert fast_row.pop("updated_at") == fast.updated_at > before["updated_at"]
    plain_row.pop("updated_at")
    for column in ("customer_id", "queue_id", "ticket_type_id", "created_at", "deadline", "sla_next_due"):
        fast_row.pop(column), plain_row.pop(column)
    assert fast_row == plain_row and fast_row["performer_id"] == performer.pk
    if connection.vendor == "postgresql":  # prepared: planned once per connection
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                           ['UPDATE "tickets_ticket" SET "performer_id" = $1, "owner_id" = $2%'])
            assert cursor.fetchone()[0] == 1


def test_update_of_a_row_that_is_gone_raises_as_save_does_and_marks_the_transaction():
    ticket = TicketFactory()
    Ticket.objects.filter(pk=ticket.pk).delete()
    ticket.title = "Gone"
    with transaction.atomic():
        with pytest.raises(Exception, match="did not affect any rows") as fast:
            fastinsert.update(ticket, ["title"])
        assert transaction.get_rollback()
        transaction.set_rollback(False)
    with pytest.raises(type(fast.value), match="did not affect any rows"):
        ticket.save(update_fields=["title"])


@pytest.mark.parametrize("case", ["a listener", "an expression", "a name that is no field", "a new object"])
def test_update_leaves_anything_else_to_save(case, monkeypatch):
    ticket = TicketFactory(priority=1)
    calls = []
    original = Ticket.save

    def spy(self, *args, **kwargs):
        calls.append(kwargs.get("update_fields"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Ticket, "save", spy)
    monkeypatch.setattr(spy, "plain_for_update_fields", True, raising=False)
    names = ["priority"]
    ticket.priority = 3

    def listener(**kwargs):
        pass

    if case == "a listener":
        post_save.connect(listener, sender=Ticket)
    elif case == "an expression":
        ticket.priority = F("priority") + 2
    elif case == "a name that is no field":
        names = ["priority", "no_such_field"]
    else:
        ticket = Ticket(**_ticket_fields(priority=3))
    try:
        if case == "a name that is no field":
            with pytest.raises(ValueError):
                fastinsert.update(ticket, names)
        elif case == "a new object":
            with pytest.raises(ValueError):  # Django: a new object cannot be saved with update_fields
                fastinsert.update(ticket, names)
        else:
            fastinsert.update(ticket, names)
            assert Ticket.objects.get(pk=ticket.pk).priority == 3
    finally:
        post_save.disconnect(listener, sender=Ticket)
    assert calls == [tuple(names)]


def test_update_keeps_the_fast_path_only_for_a_save_marked_plain_for_update_fields(monkeypatch):
    assert fastinsert._plain_update(Ticket)
    monkeypatch.setattr(Ticket, "save", lambda self, *a, **k: None)  # an own save() that may do more
    assert not fastinsert._plain_update(Ticket)
