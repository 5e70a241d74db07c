"""``manage.py recount_workload``: correct the stored open-ticket counts from the tickets (``tickets.workload``).

Needed after tickets were written past the services (a data import, a change made by hand in the database); the
nightly schedule runs the same recount."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from tickets import workload


class Command(BaseCommand):
    help = "Count each person's open tickets and correct the stored counts routing reads (safe while OpsDesk runs)."

    def handle(self, *args, **options):
        drifts = workload.recount()
        if not drifts:
            self.stdout.write("All open-ticket counts agree with the tickets.")
            return
        names = dict(get_user_model().objects.filter(pk__in=[d.user_id for d in drifts]).values_list("pk", "username"))
        for drift in drifts:
            self.stdout.write(f"{names.get(drift.user_id, drift.user_id)}: {drift.stored} stored, {drift.real} open")
        self.stdout.write(f"Corrected {len(drifts)} open-ticket counts.")
