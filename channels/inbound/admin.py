"""Admin for receiving email: the mailboxes (with their last poll) and every received email with its outcome."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from channels.inbound.imap import mailbox_poll
from channels.inbound.models import InboundEmail, Mailbox
from channels.inbound.parse import Unparseable
from channels.inbound.receive import email_receive

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


class MailboxForm(forms.ModelForm):
    class Meta:
        model = Mailbox
        fields = [
            "intake_channel",
            "address",
            "is_active",
            "host",
            "port",
            "security",
            "username",
            "password_env",
            "folder",
            "after_read",
            "move_to",
        ]

    def clean_password_env(self):
        value = self.cleaned_data["password_env"].strip()
        if not _ENV_NAME.fullmatch(value):
            raise forms.ValidationError(
                _("Give the name of an environment variable (letters, digits and “_”), not the password itself.")
            )
        return value

    def clean(self):
        data = super().clean()
        if data.get("after_read") == Mailbox.AfterRead.MOVE and not (data.get("move_to") or "").strip():
            self.add_error("move_to", _("Name the folder read emails are moved to."))
        if data.get("after_read") == Mailbox.AfterRead.MOVE and data.get("move_to") == data.get("folder"):
            self.add_error("move_to", _("Read emails must go to another folder than the one that is read."))
        return data


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ["__str__", "address", "host", "folder", "after_read", "is_active", "last_polled_at", "last_poll"]
    list_filter = ["is_active", "after_read"]
    list_select_related = ["intake_channel"]
    search_fields = ["intake_channel__name", "address", "host", "username"]
    readonly_fields = ["password_is_set", "last_polled_at", "last_poll", "last_error"]
    fieldsets = [
        (None, {"fields": ["intake_channel", "address", "is_active"]}),
        (_("Server"), {"fields": ["host", "port", "security", "username", "password_env", "password_is_set"]}),
        (_("Reading"), {"fields": ["folder", "after_read", "move_to"]}),
        (_("Last poll"), {"fields": ["last_polled_at", "last_poll", "last_error"]}),
    ]
    actions = ["poll_now"]

    @admin.display(description=_("password variable set"), boolean=True)
    def password_is_set(self, obj):
        return bool(obj and obj.pk and obj.password())

    @admin.display(description=_("last poll result"))
    def last_poll(self, obj):
        result = obj.last_result or {}
        if not result:
            return "—"
        return _(
            "fetched %(fetched)s, new tickets %(created)s, added %(appended)s, ignored %(ignored)s, failed %(failed)s"
        ) % {key: result.get(key, 0) for key in ("fetched", "created", "appended", "ignored", "failed")}

    @admin.action(description=_("Read the selected mailboxes now"))
    def poll_now(self, request, queryset):
        for mailbox in queryset.select_related("intake_channel"):
            result = mailbox_poll(mailbox)
            level = messages.ERROR if "error" in result else messages.INFO
            self.message_user(
                request,
                f"{mailbox}: {self.last_poll(Mailbox(last_result=result))}"
                + (f" — {result['error']}" if "error" in result else ""),
                level,
            )


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    """Read-only: every email received and what became of it; ignored and failed ones keep their bytes."""

    list_display = ["received_at", "intake_channel", "sender", "subject", "outcome", "reason", "ticket_link"]
    list_filter = ["outcome", "reason", "intake_channel"]
    list_select_related = ["intake_channel", "message"]
    search_fields = ["sender", "subject", "mail_message_id"]
    date_hierarchy = "received_at"
    fields = [
        "received_at",
        "intake_channel",
        "mailbox",
        "mail_message_id",
        "sender",
        "subject",
        "reply_to",
        "cc",
        "outcome",
        "reason",
        "detail",
        "ticket_link",
        "original",
    ]
    readonly_fields = fields

    actions = ["take_again"]

    def has_add_permission(self, request):
        return False

    def has_take_again_permission(self, request):
        return request.user.has_perm("channels.add_inboundemail") or request.user.is_superuser

    @admin.action(description=_("Take the selected emails again"), permissions=["take_again"])
    def take_again(self, request, queryset):
        """Feed the kept original of failed or ignored emails (a rate limit lifted, a cause fixed) once more."""
        for record in queryset.exclude(raw="").select_related("intake_channel", "mailbox"):
            with record.raw.open("rb") as raw:
                try:
                    received = email_receive(record.intake_channel, raw.read(), mailbox=record.mailbox)
                except Unparseable:
                    self.message_user(request, _("%(email)s: not an email.") % {"email": record}, messages.ERROR)
                    continue
            self.message_user(
                request,
                _("%(email)s: %(outcome)s %(reason)s")
                % {
                    "email": record,
                    "outcome": received.record.get_outcome_display(),
                    "reason": received.record.get_reason_display() if received.reason else "",
                },
            )

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("ticket"))
    def ticket_link(self, obj):
        if obj.message is not None:
            return format_html(
                '<a href="{}">#{}</a>', reverse("tickets:detail", args=[obj.message.ticket_id]), obj.message.ticket_id
            )
        return "—"

    @admin.display(description=_("original email"))
    def original(self, obj):
        if not obj.raw:
            return "—"
        url = reverse("admin:channels_inboundemail_raw", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download .eml"))

    def get_urls(self):
        view = self.admin_site.admin_view(self.raw_view)
        return [path("<int:pk>/raw/", view, name="channels_inboundemail_raw"), *super().get_urls()]

    def raw_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        record = get_object_or_404(InboundEmail, pk=pk)
        if not record.raw:
            raise Http404
        return FileResponse(
            record.raw.open("rb"), as_attachment=True, filename=f"email-{record.pk}.eml", content_type="message/rfc822"
        )
