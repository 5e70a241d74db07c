"""Admin for escalation ladders (policies, levels, contacts, firings, manual escalations) and case catalogues.

Notifications (deliveries, digests, webhook endpoints, settings) have their admin in ``notifications.admin``.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.dateparse import parse_duration
from django.utils.duration import duration_string
from django.utils.translation import gettext, ngettext
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
    Reassign,
)

# --- Escalation ladders ---------------------------------------------------------------------


LEVEL_FIELDSETS = [
    (None, {"fields": ["policy", ("order", "name", "name_ru"), ("clock", "urgency"),
                       ("trigger_percent", "trigger_offset")]}),
    (_("Audience"), {"fields": [
        ("to_performer", "to_owner", "to_approver", "to_manager"),
        ("to_shift_lead", "to_head", "to_director", "to_account_manager"),
        "users", "groups",
    ]}),
    (_("Actions"), {"fields": [
        ("notify", "mark_urgent", "raise_priority_to"),
        ("reassign", "reassign_user"),
        "auto_reply", "auto_reply_en", "auto_reply_ru",
        "create_follow_up",
    ]}),
]


def audience_summary(level: EscalationLevel) -> str:
    """"performer, shift lead, 2 named users, 1 group" (users and groups prefetched by the caller)."""
    parts = [str(EscalationLevel._meta.get_field(flag).verbose_name) for flag in level.audience_flags]
    if level.pk:
        if users := len(level.users.all()):
            parts.append(ngettext("%(count)d named user", "%(count)d named users", users) % {"count": users})
        if groups := len(level.groups.all()):
            parts.append(ngettext("%(count)d group", "%(count)d groups", groups) % {"count": groups})
    return ", ".join(parts) or "—"


def actions_summary(level: EscalationLevel) -> str:
    """"notify, mark urgent, priority → High, reassign: to the queue's shift lead, auto-reply, root-cause review"."""
    parts = []
    if level.notify:
        parts.append(gettext("notify"))
    if level.mark_urgent:
        parts.append(gettext("mark urgent"))
    if level.raise_priority_to:
        parts.append(gettext("priority → %(priority)s") % {"priority": level.get_raise_priority_to_display()})
    if level.reassign:
        target = level.reassign_user if level.reassign == Reassign.USER and level.reassign_user_id else None
        parts.append(gettext("reassign: %(to)s") % {"to": target or level.get_reassign_display()})
    if level.auto_reply:
        parts.append(gettext("auto-reply"))
    if level.create_follow_up:
        parts.append(gettext("root-cause review"))
    return ", ".join(parts) or "—"


class OffsetInput(forms.TextInput):
    """A negative offset as "-0:30:00" (Django would show "-1 23:30:00"); both parse back the same."""

    def format_value(self, value):
        duration = parse_duration(value) if isinstance(value, str) else value  # the field hands a string over
        if isinstance(duration, timedelta):
            value = "-" + duration_string(-duration) if duration < timedelta(0) else duration_string(duration)
        return super().format_value(value)


class EscalationLevelForm(forms.ModelForm):
    """The name box shows the derived name as its placeholder; a negative offset reads "-0:30:00"."""

    class Meta:
        model = EscalationLevel
        fields = [field for fieldset in LEVEL_FIELDSETS for row in fieldset[1]["fields"]
                  for field in (row if isinstance(row, tuple) else (row,))]
        widgets = {"trigger_offset": OffsetInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and "name" in self.fields:
            self.fields["name"].widget.attrs["placeholder"] = self.instance.default_name()


class EscalationLevelRowForm(EscalationLevelForm):
    """One compact row of the ladder page."""

    class Meta(EscalationLevelForm.Meta):
        fields = ["order", "clock", "trigger_percent", "trigger_offset", "urgency", "name"]


class EscalationLevelInline(admin.TabularInline):
    """One row per level: when, who, what, how loud and the name shown; the rest on the level's own page."""

    model = EscalationLevel
    form = EscalationLevelRowForm
    extra = 0
    show_change_link = True
    fields = ["order", "clock", "trigger_percent", "trigger_offset", "urgency", "audience", "actions", "name"]
    readonly_fields = ["audience", "actions"]

    class Media:
        css = {"all": ["escalations/ladder_admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reassign_user").prefetch_related("users", "groups")

    @admin.display(description=_("audience"))
    def audience(self, obj) -> str:
        return audience_summary(obj)

    @admin.display(description=_("actions"))
    def actions(self, obj) -> str:
        return actions_summary(obj)


@admin.register(EscalationLevel)
class EscalationLevelAdmin(admin.ModelAdmin):
    """A level on its own page: named users, groups, reassignment and the auto-reply texts."""

    list_display = ["shown_name", "policy", "order", "clock", "urgency"]
    form = EscalationLevelForm
    list_filter = ["policy"]
    list_select_related = ["policy"]
    search_fields = ["name", "policy__name"]
    ordering = ["policy__name", "order"]
    autocomplete_fields = ["reassign_user", "users", "policy"]
    filter_horizontal = ["groups"]
    fieldsets = LEVEL_FIELDSETS

    @admin.display(description=_("name"), ordering="name")
    def shown_name(self, obj) -> str:
        return obj.display_name

    def response_post_save_change(self, request, obj):
        """Back to the ladder the level belongs to."""
        return HttpResponseRedirect(reverse("admin:escalations_escalationpolicy_change", args=[obj.policy_id]))


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
