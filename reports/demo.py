"""Demo data for the reports: the rollups of the seeded clocks (an ``opsdesk.demo.DEMO_SEEDERS`` hook)."""

from __future__ import annotations

from reports import rollups


def seed_demo_reports(ctx=None) -> dict:
    """Build the report rollups from the demo's clocks, so the dashboard reads them at once (idempotent)."""
    return rollups.rebuild()
