"""Receiving email: the mailboxes OpsDesk reads over IMAP and the log of every email received.

Imported by ``channels.models`` (Django finds models there); the outbound models live beside them.
"""

from __future__ import annotations

import os

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Channel, IntakeChannel, Message


class Mailbox(models.Model):
    """An IMAP mailbox read every minute; its mail enters through ``intake_channel`` like an intake API message."""

    class Security(models.TextChoices):
        TLS = "tls", _("TLS from the start (port 993)")
        STARTTLS = "starttls", _("STARTTLS (port 143)")
        NONE = "none", _("None: plain text, for tests only")

    class AfterRead(models.TextChoices):
        SEEN = "seen", _("Mark as read")
        MOVE = "move", _("Move to a folder")

    intake_channel = models.OneToOneField(
        IntakeChannel,
        verbose_name=_("intake channel"),
        on_delete=models.CASCADE,
        related_name="mailbox",
        limit_choices_to={"channel": Channel.EMAIL},
        help_text=_("Its name is the mailbox's name; its queue and type apply to new tickets."),
    )
    address = models.EmailField(
        _("address"), blank=True, help_text=_("The address customers write to; mail from it is never taken.")
    )
    host = models.CharField(_("IMAP host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(_("encryption"), max_length=10, choices=Security.choices, default=Security.TLS)
    username = models.CharField(_("user name"), max_length=255)
    password_env = models.CharField(
        _("password variable"),
        max_length=100,
        help_text=_("The name of the environment variable that holds the password; the password is never stored."),
    )
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    after_read = models.CharField(_("after reading"), max_length=10, choices=AfterRead.choices, default=AfterRead.SEEN)
    move_to = models.CharField(_("move to folder"), max_length=255, blank=True, default="OpsDesk")
    is_active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last poll"), null=True, blank=True, editable=False)
    last_result = models.JSONField(_("last poll result"), default=dict, blank=True, editable=False)
    last_error = models.TextField(_("last poll error"), blank=True, editable=False)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")
        constraints = [
            models.CheckConstraint(condition=~Q(after_read="move") | ~Q(move_to=""), name="mailbox_move_needs_folder")
        ]

    def __str__(self) -> str:
        return self.intake_channel.name if self.intake_channel_id else self.host

    @property
    def name(self) -> str:
        return str(self)

    def password(self) -> str:
        """The password from the environment variable named in ``password_env`` ("" when unset)."""
        return os.environ.get(self.password_env.strip(), "") if self.password_env.strip() else ""


class InboundEmail(models.Model):
    """One email that reached OpsDesk (IMAP or MTA pipe) and what became of it. Nothing is received unseen."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("New ticket")
        APPENDED = "appended", _("Added to a ticket")
        DUPLICATE = "duplicate", _("Already received")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    class Reason(models.TextChoices):
        AUTO_SUBMITTED = "auto_submitted", _("Automatic message (Auto-Submitted)")
        AUTO_REPLY = "auto_reply", _("Automatic reply (X-Autoreply)")
        BULK = "bulk", _("Bulk or list mail (Precedence)")
        BOUNCE = "bounce", _("Delivery failure report (bounce)")
        NULL_SENDER = "null_sender", _("Sent from the null return path")
        OWN_ADDRESS = "own_address", _("Sent from OpsDesk's own address")
        NO_SENDER = "no_sender", _("No sender address")
        RATE_LIMITED = "rate_limited", _("Too many emails from this sender")
        REFUSED = "refused", _("Refused by the intake rules")
        UNPARSEABLE = "unparseable", _("Not an email (no headers)")
        ERROR = "error", _("Processing error")

    intake_channel = models.ForeignKey(
        IntakeChannel, verbose_name=_("intake channel"), on_delete=models.CASCADE, related_name="inbound_emails"
    )
    mailbox = models.ForeignKey(
        Mailbox, verbose_name=_("mailbox"), on_delete=models.SET_NULL, null=True, blank=True, related_name="emails"
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    mail_message_id = models.CharField(_("Message-ID"), max_length=255, blank=True)
    sender = models.CharField(_("sender"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    reply_to = models.TextField(_("Reply-To"), blank=True)
    cc = models.TextField(_("Cc"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    raw = models.FileField(
        _("original email"),
        upload_to="mail/%Y/%m/",
        max_length=255,
        blank=True,
        help_text=_("Kept for ignored and failed emails; a taken email's original is an attachment of its message."),
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("received email")
        verbose_name_plural = _("received emails")
        indexes = [
            models.Index(fields=["intake_channel", "sender", "received_at"], name="inbound_sender_received"),
            models.Index(fields=["outcome", "-received_at"], name="inbound_outcome_received"),
        ]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or self.mail_message_id}"
