"""``manage.py seed_demo [--tickets N] [--seed S]``: fill a development database with demo data.

The work is done by ``tickets.demo.runner.seed_demo`` (see the ``tickets.demo`` package
docstring for what is written and how it stays idempotent and fast), followed by the
other apps' seeders listed in ``opsdesk/demo.py``. The demo passwords and intake
tokens are public, so the command refuses to run with DEBUG off unless
``--force`` says the database is a throwaway one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opsdesk import demo
from tickets.demo.customers import DEMO_TOKENS
from tickets.demo.people import DEMO_PASSWORD, DEMO_USERS
from tickets.demo.runner import DEFAULT_SEED, DEFAULT_TICKETS, seed_demo


class Command(BaseCommand):
    help = "Create demo users, catalogues, customers and tickets for development (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--tickets", type=int, default=DEFAULT_TICKETS, help="How many demo tickets (default 300)."
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed (default 42).")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (the demo passwords are public!)."
        )

    def handle(self, *args, tickets: int, seed: int, force: bool, **options):
        if tickets < 0:
            raise CommandError("--tickets must be zero or more.")
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates users with a published password and refuses to run with DEBUG off. "
                "Use --force only on a throwaway database."
            )
        result = seed_demo(tickets=tickets, seed=seed, seeders=demo.DEMO_SEEDERS)
        out = self.stdout
        out.write(
            f"Users: {result.users_created} created. Customers: {result.customers_created} created, "
            f"related objects: {result.related_created} created."
        )
        if result.tickets_created:
            out.write(
                self.style.SUCCESS(
                    f"Demo tickets (seed {seed}): {result.tickets_created} created, "
                    f"{result.tickets_present} were already there."
                )
            )
        else:
            out.write(f"Demo tickets (seed {seed}): 0 created, all {result.tickets_present} were already there.")
        out.write(f"Done in {result.seconds:.1f} s.")
        out.write("")
        out.write(f"Demo logins (development only), password for all: {DEMO_PASSWORD}")
        for spec in DEMO_USERS:
            out.write(f"  {spec.username:<11} {spec.display_name:<20} {spec.label}")
        out.write("")
        out.write("Intake API tokens (development only):")
        for name, token in DEMO_TOKENS.items():
            out.write(f"  {name:<13} {token}")
