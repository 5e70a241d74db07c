"""Django admin for the agent tools: canned replies (edited here or in the portal) and bulk jobs (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tickets.canned import PLACEHOLDERS
from tickets.models import BulkJob, CannedReply


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["name", "name_ru", "queue", "is_active", "usage_count", "last_used_at"]
    list_filter = ["is_active", "queue"]
    search_fields = ["name", "name_ru", "body", "body_ru"]
    readonly_fields = ["usage_count", "last_used_at", "created_by", "created_at"]
    fields = ["name", "name_ru", "queue", "body", "body_ru", "is_active", *readonly_fields]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        hint = _("Placeholders: %(list)s. Anything else stays as written.") % {
            "list": ", ".join(f"{{{{{name}}}}}" for name in PLACEHOLDERS)
        }
        for name in ("body", "body_ru"):
            if name in form.base_fields:
                form.base_fields[name].help_text = hint
        return form

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "total", "done", "skipped", "failed", "state"]
    list_filter = ["action", "state"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
