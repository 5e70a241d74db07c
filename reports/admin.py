"""Admin: the state of the report rollups, to look at only (``reports.rollups`` writes it)."""

from __future__ import annotations

from django.contrib import admin

from reports.models import RollupState, RollupZone
from tickets.admin import ViewOnlyAdmin


@admin.register(RollupState)
class RollupStateAdmin(ViewOnlyAdmin):
    """How far the every-minute refresh got; ``manage.py rebuild_rollups`` starts again from the clocks."""

    list_display = ["__str__", "synced_to", "refreshed_at", "facts_built_at"]
    readonly_fields = ["synced_to", "refreshed_at", "facts_built_at"]
    actions = None


@admin.register(RollupZone)
class RollupZoneAdmin(ViewOnlyAdmin):
    """The time zones whose daily rollups are complete (the others read the clocks)."""

    list_display = ["zone", "built_at"]
    readonly_fields = ["zone", "built_at"]
    ordering = ["zone"]
    actions = None
