"""``seed_demo``: the base seed (people, catalogue, customers, intake channels, tickets), then the extra seeders.

The extra seeders are dotted paths of ``seeder(ctx: DemoContext)`` that the caller passes in
(``opsdesk/demo.py`` lists them for the ``seed_demo`` command); tickets knows none of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from tickets.demo.catalogue import seed_catalogue
from tickets.demo.context import DemoContext
from tickets.demo.customers import seed_customers, seed_intake_channels
from tickets.demo.generation import seed_tickets
from tickets.demo.people import seed_people

DEFAULT_TICKETS = 300
DEFAULT_SEED = 42


@dataclass
class SeedResult:
    users_created: int = 0
    customers_created: int = 0
    related_created: int = 0
    tickets_created: int = 0
    tickets_present: int = 0
    seconds: float = 0.0
    context: DemoContext | None = None


def run_extra_seeders(ctx: DemoContext, paths: Iterable[str]) -> None:
    """Run each seeder ``paths`` names (dotted paths of ``seeder(ctx)``), in order."""
    for path in paths:
        import_string(path)(ctx)


def seed_demo(
    *, tickets: int = DEFAULT_TICKETS, seed: int = DEFAULT_SEED, now: datetime | None = None,
    seeders: Iterable[str] = (),
) -> SeedResult:
    """Seed (or top up) the demo data, then run ``seeders`` (dotted paths of ``seeder(ctx)``); safe to run again."""
    started = time.monotonic()
    ctx = DemoContext(seed=seed, now=(now or timezone.now()).replace(second=0, microsecond=0))
    result = SeedResult(context=ctx)
    with transaction.atomic():
        result.users_created = seed_people(ctx)
        seed_catalogue(ctx)
        result.customers_created, result.related_created = seed_customers(ctx)
        seed_intake_channels(ctx)
        result.tickets_created, result.tickets_present = seed_tickets(ctx, count=tickets, seed=seed)
        run_extra_seeders(ctx, seeders)
    result.seconds = time.monotonic() - started
    return result
