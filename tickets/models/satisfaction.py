"""Customer satisfaction: the one-question survey a done ticket sends, and the customer's answer (docs/satisfaction.md).

``SatisfactionSurvey`` is the ticket's one survey: sent through the customer's channel (``channels``'
outbox carries it; its delivery state is mirrored here by ``tickets.satisfaction``), or skipped with a
recorded reason. ``SatisfactionRating`` is the answer: written once, never changed, with the performer,
queue and type the ticket had when the customer answered (the reports group by them).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.base import AppendOnlyModel
from tickets.models.catalogue import Queue, TicketType


class Rating(models.TextChoices):
    GOOD = "good", _("Good")
    NEUTRAL = "neutral", _("Neutral")
    BAD = "bad", _("Bad")


class SatisfactionSurvey(models.Model):
    """The survey of one ticket: where it stands on its way to the customer, or why none was sent."""

    class State(models.TextChoices):
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Not delivered")
        SKIPPED = "skipped", _("Not sent")

    class SkipReason(models.TextChoices):
        INTERNAL = "internal", _("Internal task: there is no customer to ask")
        NO_ROUTE = "no_route", _("No channel reaches the customer (no email address, no reply URL)")

    ticket = models.OneToOneField(
        "tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="satisfaction_survey"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SENDING)
    skip_reason = models.CharField(_("why not sent"), max_length=10, choices=SkipReason.choices, blank=True)
    route = models.CharField(_("route"), max_length=10, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    delivery_error = models.TextField(_("delivery error"), blank=True)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")

    def __str__(self) -> str:
        return f"survey #{self.ticket_id}: {self.get_state_display()}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class SatisfactionRating(AppendOnlyModel):
    """The customer's answer to a survey: written once (a second answer is refused), never changed."""

    survey = models.OneToOneField(
        SatisfactionSurvey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="rating"
    )
    ticket = models.OneToOneField(
        "tickets.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="satisfaction"
    )
    rating = models.CharField(_("rating"), max_length=10, choices=Rating.choices)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now, db_index=True)
    performer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("performer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The ticket's performer when the customer answered."),
    )
    queue = models.ForeignKey(Queue, verbose_name=_("queue"), on_delete=models.PROTECT, related_name="+")
    ticket_type = models.ForeignKey(
        TicketType, verbose_name=_("type"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reopened = models.BooleanField(_("reopened the ticket"), default=False)

    class Meta:
        ordering = ["-answered_at", "-id"]
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")

    def __str__(self) -> str:
        return f"#{self.ticket_id}: {self.rating}"
