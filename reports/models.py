"""Report data kept beside the tickets: waiting segments (for delay causes) and sent weekly digests.

A ``WaitSegment`` is opened when a ticket enters "waiting for external action" and closed when
it leaves it or its blocking reason changes (``reports.waits``, called from the ticket
lifecycle service). Its business time is measured once, at closing, on the calendar of the
ticket's resolution clock (calendar time for a ticket without SLA), so the delay report sums
a stored column instead of re-measuring history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class WaitSegment(models.Model):
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="wait_segments")
    reason = models.ForeignKey(
        "tickets.BlockingReason", verbose_name=_("blocking reason"), on_delete=models.PROTECT, related_name="+"
    )
    queue = models.ForeignKey("tickets.Queue", verbose_name=_("queue"), on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        "tickets.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    business_seconds = models.FloatField(_("business time (s)"), null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        verbose_name = _("waiting segment")
        verbose_name_plural = _("waiting segments")
        indexes = [
            models.Index(fields=["ended_at", "reason"], name="wait_ended_reason"),
            models.Index(fields=["ticket", "started_at"], name="wait_ticket"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["ticket"], condition=Q(ended_at__isnull=True), name="wait_one_open"),
        ]

    def __str__(self) -> str:
        return f"#{self.ticket_id} {self.reason_id} {self.started_at:%Y-%m-%d %H:%M}"


class DigestSent(models.Model):
    """The weekly digest of one week went to one manager: at most once (the unique constraint)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week_start = models.DateField(_("week from"))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        verbose_name = _("weekly digest sent")
        verbose_name_plural = _("weekly digests sent")
        constraints = [models.UniqueConstraint(fields=["user", "week_start"], name="digest_once_per_week")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.week_start}"
