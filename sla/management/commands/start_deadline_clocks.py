"""Give every open ticket with a deadline and an SLA its deadline clock (after upgrading to the deadline clock).

Tickets created since the upgrade get theirs from ``ticket_create``; older open tickets get one here,
started at their resolution clock's start and following its pauses and stops, exactly as
``on_deadline_changed`` starts one for a first deadline. Idempotent: a ticket that has a deadline
clock is left alone, so running it twice starts nothing the second time.
"""

import json
import time

from django.core.management.base import BaseCommand
from django.db import transaction

from sla import lifecycle
from sla.models import SLAClock
from tickets.models import OPEN_STATUSES, Ticket

BATCH = 500


class Command(BaseCommand):
    help = "Start the deadline clock of every open ticket that has a deadline and an SLA but no deadline clock yet."

    def handle(self, *args, **options):
        started_at = time.perf_counter()
        ids = list(
            Ticket.objects.filter(status__in=OPEN_STATUSES, deadline__isnull=False,
                                  sla_clocks__kind=SLAClock.Kind.RESOLUTION, sla_clocks__policy__isnull=False)
            .exclude(sla_clocks__kind=SLAClock.Kind.DEADLINE)
            .order_by("pk").values_list("pk", flat=True).distinct()
        )
        started = 0
        for offset in range(0, len(ids), BATCH):
            with transaction.atomic():
                batch = Ticket.objects.select_for_update().filter(pk__in=ids[offset:offset + BATCH])
                has_one = set(SLAClock.objects.filter(ticket__in=batch, kind=SLAClock.Kind.DEADLINE)
                              .values_list("ticket_id", flat=True))
                for ticket in batch.exclude(pk__in=has_one):  # one may have started since the list was read
                    clock = lifecycle.on_deadline_changed(ticket, previous=None, cause="backfill")
                    started += clock is not None
        self.stdout.write(json.dumps({"tickets": len(ids), "started": started,
                                      "duration_ms": round((time.perf_counter() - started_at) * 1000, 1)}))
