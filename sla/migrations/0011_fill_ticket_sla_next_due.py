"""Fill ``Ticket.sla_next_due`` (tickets 0024): the earliest due instant of each ticket's running SLA clocks, the
value ``sla.clocks.store_next_due`` keeps from now on. One ``UPDATE`` over the tickets that have a running clock."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

SLA_KINDS = ("first_response", "resolution", "next_reply")


def fill(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    SLAClock = apps.get_model("sla", "SLAClock")
    db = schema_editor.connection.alias
    running = SLAClock.objects.using(db).filter(state="running", kind__in=SLA_KINDS)
    next_due = running.filter(ticket_id=OuterRef("pk")).order_by("due_at").values("due_at")[:1]
    Ticket.objects.using(db).filter(pk__in=running.values("ticket_id")).update(sla_next_due=Subquery(next_due))


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0010_clock_ticket_running_due_index"),
        ("tickets", "0024_ticket_sla_next_due"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop, elidable=True)]
