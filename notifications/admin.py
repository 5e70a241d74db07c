"""Admin for notifications: the inbox rows with their deliveries, delivery status with a retry action,
digests, webhook endpoints and people's notification settings."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications import delivery as outbox
from notifications.models import Delivery, Digest, Notification, NotificationSettings, WebhookEndpoint


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
