"""Admin for escalation ladders (policies, levels, contacts, firings, manual escalations) and case catalogues.

Notifications (deliveries, digests, webhook endpoints, settings) have their admin in ``notifications.admin``.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from escalations.models import (
    AffectedService,
    CaseRule,
    CaseSeverityPolicy,
    EscalationLevel,
    EscalationPolicy,
    Firing,
    ManualEscalation,
    QueueEscalationContact,
)

# --- Escalation ladders ---------------------------------------------------------------------


class EscalationLevelInline(admin.StackedInline):
    model = EscalationLevel
    extra = 0
    autocomplete_fields = ["reassign_user", "users"]
    filter_horizontal = ["groups"]
    fieldsets = [
        (None, {"fields": [("order", "name", "name_ru"), ("clock", "urgency"), ("trigger_percent", "trigger_offset")]}),
        (_("Audience"), {"fields": [
            ("to_performer", "to_owner", "to_approver", "to_manager"),
            ("to_shift_lead", "to_head", "to_director"),
            "users", "groups",
        ]}),
        (_("Actions"), {"fields": [
            ("notify", "mark_urgent", "raise_priority_to"),
            ("reassign", "reassign_user"),
            "auto_reply", "auto_reply_en", "auto_reply_ru",
            "create_follow_up",
        ]}),
    ]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "level_count", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    filter_horizontal = ["sla_policies", "vip_tiers"]
    inlines = [EscalationLevelInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_levels=Count("levels"))

    @admin.display(description=_("levels"), ordering="_levels")
    def level_count(self, obj) -> int:
        return obj._levels


@admin.register(QueueEscalationContact)
class QueueEscalationContactAdmin(admin.ModelAdmin):
    list_display = ["role", "queue", "user"]
    list_filter = ["role", "queue"]
    autocomplete_fields = ["user"]


@admin.register(Firing)
class FiringAdmin(admin.ModelAdmin):
    list_display = ["fired_at", "ticket", "level", "generation", "due_at", "actions_due_at"]
    list_filter = ["level__policy", "fired_at"]
    search_fields = ["ticket__id", "level__name"]
    list_select_related = ["ticket", "level__policy"]
    date_hierarchy = "fired_at"
    readonly_fields = ["clock", "level", "generation", "ticket", "due_at", "fired_at", "actions_due_at", "data"]

    def has_add_permission(self, request):
        return False  # firings come from the sweep only

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ManualEscalation)
class ManualEscalationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "ticket", "actor", "to_queue", "to_user"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["ticket", "actor", "to_queue", "to_user"]
    date_hierarchy = "created_at"
    readonly_fields = ["ticket", "kind", "actor", "reason", "from_queue", "to_queue", "to_user", "created_at"]

    def has_add_permission(self, request):
        return False  # recorded from the ticket page

    def has_change_permission(self, request, obj=None):
        return False


# --- Escalation cases (escalations.cases): the catalogues admins keep -----------------------------------------


@admin.register(CaseSeverityPolicy)
class CaseSeverityPolicyAdmin(admin.ModelAdmin):
    list_display = ["severity", "update_every", "escalate_after"]


@admin.register(AffectedService)
class AffectedServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "name_ru", "code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "name_ru", "code"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(CaseRule)
class CaseRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "min_level_order", "max_breaches", "ticket_type", "severity", "owner",
                    "is_active"]
    list_filter = ["kind", "is_active", "severity"]
    raw_id_fields = ["owner"]
    readonly_fields = ["created_at"]
