"""The demo seeders of the apps above tickets, in the order ``manage.py seed_demo`` runs them.

``tickets.demo`` writes the base seed (people, catalogue, customers, tickets) and knows no
app above it; the ``seed_demo`` command hands this list to ``tickets.demo.runner.seed_demo``.
Each entry is the dotted path of a ``seeder(ctx: tickets.demo.context.DemoContext) -> None``;
they run after the base seed, inside the same transaction, and are idempotent themselves.
"""

from __future__ import annotations

DEMO_SEEDERS: list[str] = [
    "sla.demo.seed_demo_sla",
    "sla.demo_people.seed_demo_work_calendars",  # the people's working calendars (quiet hours, on shift)
    "sla.demo_people.seed_demo_waits",  # waiting segments from the tickets' history (the delay report)
    "escalations.demo.seed_demo_escalations",
    "routing.demo.seed_demo_routing",
    "deferrals.demo.seed_demo_deferrals",  # pending and decided requests, through the services
    "reports.demo.seed_demo_reports",  # last: the report rollups of every clock seeded above
]
