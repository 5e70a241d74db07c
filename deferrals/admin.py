"""Admin for deadline deferrals: the cause catalogue, and the requests to look at only (``deferrals.services``
writes them; decisions are final). Absences stay with the people, in ``tickets.admin``."""

from __future__ import annotations

from django.contrib import admin

from deferrals.models import DeferralCause, DeferralRequest
from tickets.admin import ViewOnlyAdmin


@admin.register(DeferralCause)
class DeferralCauseAdmin(admin.ModelAdmin):
    list_display = ["name", "name_ru", "code", "is_active", "position"]
    list_filter = ["is_active"]
    list_editable = ["position"]
    search_fields = ["name", "name_ru", "code"]


@admin.register(DeferralRequest)
class DeferralRequestAdmin(ViewOnlyAdmin):
    """Requests are written by the deferral workflow only; decisions are final, so admin only looks."""

    list_display = ["created_at", "ticket", "requested_by", "addressed_to", "automatic", "cause", "status",
                    "decided_by", "decided_at", "old_deadline", "new_deadline"]
    list_filter = ["status", "automatic", "cause", ("decided_at", admin.DateFieldListFilter)]
    search_fields = ["ticket__title", "requested_by__username", "addressed_to__username", "explanation"]
    list_select_related = ["ticket", "requested_by", "addressed_to", "decided_by", "cause"]
    ordering = ["-id"]
