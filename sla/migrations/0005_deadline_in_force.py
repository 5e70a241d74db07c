"""The deadline in force (issue 16): say who set each ticket's deadline and bring the SLA's onto the resolution due.

A deadline is a person's when its history shows a deferral decision or an admin override, or when the
ticket has a deadline that neither its "ticket.created" row (``deadline_source: "sla"``) nor a
"ticket.deadline_defaulted" row says came from the SLA. Every other open ticket with an SLA gets the
deadline its resolution clock holds it to: the breach instant once breached, the due instant while
it runs, none while it is paused (on hold). Closed tickets keep the deadline they closed under.
"""

from django.db import migrations
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

OPEN = ["new", "assigned", "in_progress", "waiting", "on_approval"]
PERSON_KINDS = ["ticket.deadline_overridden", "ticket.deadline_deferred"]


def forwards(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    SLAClock = apps.get_model("sla", "SLAClock")
    moved_by_person = TicketEvent.objects.filter(ticket=OuterRef("pk"), kind__in=PERSON_KINDS)
    from_sla = TicketEvent.objects.filter(ticket=OuterRef("pk")).filter(
        Q(kind="ticket.created", data__deadline_source="sla") | Q(kind="ticket.deadline_defaulted")
    )
    Ticket.objects.filter(Exists(moved_by_person)).update(deadline_set_by_person=True)
    Ticket.objects.filter(deadline__isnull=False).exclude(Exists(from_sla)).update(deadline_set_by_person=True)
    resolution = SLAClock.objects.filter(ticket=OuterRef("pk"), kind="resolution", policy__isnull=False)
    Ticket.objects.filter(status__in=OPEN, deadline_set_by_person=False).filter(
        Exists(resolution.filter(state__in=["running", "paused"]))
    ).update(
        deadline=Coalesce(
            Subquery(resolution.values("breached_at")[:1]),
            Subquery(resolution.filter(state="running").values("due_at")[:1]),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0004_bilingual_names"),
        ("tickets", "0013_ticket_deadline_set_by_person"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
