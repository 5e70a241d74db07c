"""Channels: the outbox of messages to customers and the mailboxes OpsDesk reads (docs/channels.md)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels.inbound.models import InboundEmail, Mailbox  # noqa: F401 - receiving email


class Route(models.TextChoices):
    """How a public message leaves OpsDesk (``channels.routes.route_for``)."""

    EMAIL = "email", _("Email")
    GATEWAY = "gateway", _("Gateway callback")
    PHONE = "phone", _("Logged call")
    NONE = "none", _("No channel")


class OutboundMessage(models.Model):
    """The customer outbox: one row per public message or satisfaction survey, sent after commit, retried.

    Claimed by one worker at a time (``core.outbox``: pending → sending → sent | failed); the
    message's ``delivery_status`` / ``sent_at`` / ``delivery_error`` mirror it (``tickets.delivery``).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    message = models.OneToOneField(
        "tickets.Message",
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        related_name="outbound",
        null=True,
        blank=True,
    )
    survey = models.OneToOneField(
        "tickets.SatisfactionSurvey",
        verbose_name=_("satisfaction survey"),
        on_delete=models.CASCADE,
        related_name="outbound",
        null=True,
        blank=True,
    )
    route = models.CharField(_("route"), max_length=10, choices=Route.choices)
    counts_as_response = models.BooleanField(
        _("counts as a response"), default=True, help_text=_("Off for automatic apologies: they stop no clock.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claim_token = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    result = models.CharField(_("result"), max_length=300, blank=True)
    mail_message_id = models.CharField(
        _("email Message-ID"),
        max_length=255,
        blank=True,
        help_text=_("Made once when queued, so a retried email keeps it."),
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbound_pending_due"),
            models.Index(fields=["claimed_at"], condition=Q(status="sending"), name="outbound_sending"),
            models.Index(fields=["claim_token"], condition=Q(claim_token__isnull=False), name="outbound_claim"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(message__isnull=False, survey__isnull=True) | Q(message__isnull=True, survey__isnull=False),
                name="outbound_message_or_survey",
            )
        ]

    def __str__(self) -> str:
        what = f"#{self.message_id}" if self.message_id else f"survey #{self.survey_id}"
        return f"{self.get_route_display()} → {what}: {self.get_status_display()}"

    @property
    def ticket(self):
        """The ticket the message or the survey belongs to."""
        return self.message.ticket if self.message_id else self.survey.ticket
