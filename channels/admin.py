from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from channels import outbox
from channels.inbound import admin as inbound_admin  # noqa: F401 - mailboxes and received emails
from channels.models import OutboundMessage


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    """The customer outbox: what left, what waits for a retry, what failed and why (docs/channels.md)."""

    list_display = [
        "message",
        "survey",
        "route",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "created_at",
    ]
    list_filter = ["status", "route"]
    list_select_related = ["message", "survey"]
    search_fields = ["message__ticket__id", "last_error", "mail_message_id"]
    readonly_fields = [f.name for f in OutboundMessage._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Send again (failed replies)"), permissions=["change"])
    def send_again(self, request, queryset):
        count = 0
        for row in queryset.filter(status=OutboundMessage.Status.FAILED, message__isnull=False).select_related(
            "message__ticket"
        ):
            try:
                outbox.retry(row.message, actor=request.user)
                count += 1
            except outbox.OutboxError as exc:
                self.message_user(request, f"#{row.message.ticket_id}: {exc}", messages.WARNING)
        self.message_user(
            request,
            ngettext("%(count)d reply queued again.", "%(count)d replies queued again.", count) % {"count": count},
            messages.SUCCESS,
        )
