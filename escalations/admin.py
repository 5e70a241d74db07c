"""Admin for notifications (delivery status, a retry action, webhook endpoints, settings) and escalation ladders."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from escalations.models import (
    AffectedService,
    CaseRule,
    CaseSeverityPolicy,
    Delivery,
    Digest,
    EscalationLevel,
    EscalationPolicy,
    Firing,
    ManualEscalation,
    Notification,
    NotificationSettings,
    QueueEscalationContact,
    WebhookEndpoint,
)
from notifications import delivery as outbox


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "status", "attempts", "next_attempt_at", "sent_at", "last_error", "result", "digest"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "urgency", "kind", "ticket", "created_at", "read_at", "in_app"]
    list_filter = ["urgency", "in_app", ("read_at", admin.EmptyFieldListFilter), "kind", "created_at"]
    search_fields = ["title", "kind", "recipient__username", "recipient__email", "dedupe_key"]
    list_select_related = ["recipient", "ticket"]
    date_hierarchy = "created_at"
    raw_id_fields = ["recipient", "ticket", "actor"]
    readonly_fields = ["created_at", "read_at", "dedupe_key"]
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False  # notices come from the service, never typed in by hand


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "notification_title",
        "recipient",
        "channel",
        "status_label",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "error_summary",
        "digest",
    ]
    list_filter = ["status", "channel", "notification__urgency", "digestible", "created_at"]
    search_fields = ["recipient__username", "recipient__email", "notification__title", "last_error", "result"]
    list_select_related = ["notification", "recipient", "digest"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["retry"]
    fields = [
        "notification",
        "recipient",
        "channel",
        "status",
        "digestible",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
        "last_error",
        "result",
        "digest",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("notification"), ordering="notification__title")
    def notification_title(self, obj: Delivery) -> str:
        return Truncator(obj.notification.title).chars(60)

    @admin.display(description=_("status"), ordering="status")
    def status_label(self, obj: Delivery):
        return format_html('<span class="delivery-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description=_("last error"))
    def error_summary(self, obj: Delivery) -> str:
        return Truncator(obj.last_error).chars(90)

    @admin.action(description=_("Retry the selected deliveries now"), permissions=["change"])
    def retry(self, request, queryset):
        retryable = [Delivery.Status.FAILED, Delivery.Status.SKIPPED, Delivery.Status.PENDING]
        count = queryset.filter(status__in=retryable).update(
            status=Delivery.Status.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            claim_token=None,
        )
        if count:
            outbox.enqueue_on_commit()
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", count)
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["id", "recipient", "channel", "size", "sent_at"]
    list_filter = ["channel", "sent_at"]
    search_fields = ["recipient__username"]
    list_select_related = ["recipient"]
    readonly_fields = ["recipient", "channel", "size", "sent_at"]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "timeout", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "routine_channels",
        "important_channels",
        "critical_channels",
        "digest_window_minutes",
        "quiet_hours",
    ]
    list_filter = ["quiet_hours"]
    search_fields = ["user__username", "messenger_handle", "phone"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


# --- Escalation ladders ---------------------------------------------------------------------


class EscalationLevelInline(admin.StackedInline):
    model = EscalationLevel
    extra = 0
    autocomplete_fields = ["reassign_user", "users"]
    filter_horizontal = ["groups"]
    fieldsets = [
        (None, {"fields": [("order", "name"), ("clock", "urgency"), ("trigger_percent", "trigger_offset")]}),
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
        from django.db.models import Count

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
    list_display = ["fired_at", "ticket", "level", "generation", "due_at"]
    list_filter = ["level__policy", "fired_at"]
    search_fields = ["ticket__id", "level__name"]
    list_select_related = ["ticket", "level__policy"]
    date_hierarchy = "fired_at"
    readonly_fields = ["clock", "level", "generation", "ticket", "due_at", "fired_at", "data"]

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
