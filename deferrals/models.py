"""Deadline deferrals: the cause catalogue and the requests a manager rules objective or subjective.

Data only: the workflow lives in ``deferrals.services`` (docs/deferrals.md). The tables were
created by the tickets app and keep their names (``tickets_deferral*``): the models moved here
without their rows moving (docs/operations.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import BilingualName, Ticket


class DeferralCause(BilingualName):
    """Why a performer asks for more time: a catalogue so reports can group by it ("other" always exists)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        db_table = "tickets_deferralcause"  # moved from tickets with its rows
        ordering = ["position", "name"]
        verbose_name = _("deferral cause")
        verbose_name_plural = _("deferral causes")


class DeferralQuerySet(models.QuerySet):
    def update(self, **kwargs):
        # Decisions are final: a bulk update only ever touches requests that are still pending.
        return models.QuerySet.update(self.filter(status=DeferralRequest.Status.PENDING), **kwargs)

    def pending(self):
        return self.filter(status=DeferralRequest.Status.PENDING)

    def decided(self):
        """Requests a manager ruled on (objective, subjective, declined); withdrawn ones were never decided."""
        return self.exclude(status__in=[DeferralRequest.Status.PENDING, DeferralRequest.Status.WITHDRAWN])


class DeferralRequest(models.Model):
    """A performer asks the manager to move a ticket's deadline; the manager rules objective or subjective."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        OBJECTIVE = "objective", _("Objective")
        SUBJECTIVE = "subjective", _("Subjective")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="deferrals")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="deferral_requests",
    )
    addressed_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("addressed to"),
        on_delete=models.PROTECT,
        related_name="deferrals_to_decide",
    )
    automatic = models.BooleanField(_("started automatically"), default=False)
    cause = models.ForeignKey(
        DeferralCause, verbose_name=_("cause"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    explanation = models.TextField(_("explanation"), blank=True)
    old_deadline = models.DateTimeField(_("deadline when requested"))
    proposed_deadline = models.DateTimeField(_("proposed deadline"), null=True, blank=True)
    status = models.CharField(_("decision"), max_length=12, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deferrals_decided",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    new_deadline = models.DateTimeField(_("new deadline"), null=True, blank=True)
    comment = models.TextField(_("manager's comment"), blank=True)
    withdrawn_at = models.DateTimeField(
        _("withdrawn"), null=True, blank=True,
        help_text=_("When the ticket was closed while the request was still pending."),
    )
    created_at = models.DateTimeField(_("requested"), default=timezone.now)

    objects = DeferralQuerySet.as_manager()

    class Meta:
        db_table = "tickets_deferralrequest"  # moved from tickets with its rows
        ordering = ["-created_at", "-id"]
        verbose_name = _("deferral request")
        verbose_name_plural = _("deferral requests")
        indexes = [
            models.Index(fields=["addressed_to", "status"], name="deferral_addressed_status"),
            models.Index(fields=["requested_by", "decided_at"], name="deferral_requester_decided"),
            models.Index(fields=["status", "decided_at"], name="deferral_status_decided"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="pending"), name="deferral_one_pending_per_ticket"
            ),
            models.UniqueConstraint(
                fields=["ticket", "old_deadline"], condition=Q(automatic=True), name="deferral_automatic_once"
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True, decided_at__isnull=True,
                            new_deadline__isnull=True)
                | Q(status="declined", decided_by__isnull=False, decided_at__isnull=False, new_deadline__isnull=True)
                | Q(status__in=["objective", "subjective"], decided_by__isnull=False, decided_at__isnull=False,
                    new_deadline__isnull=False)
                | Q(status="withdrawn", decided_by__isnull=True, decided_at__isnull=True, new_deadline__isnull=True,
                    withdrawn_at__isnull=False),
                name="deferral_decision_complete",
            ),
            models.CheckConstraint(
                condition=~Q(decided_by=models.F("requested_by")), name="deferral_not_self_decided"
            ),
        ]

    def __str__(self) -> str:
        return _("Deferral of %(ticket)s (%(status)s)") % {"ticket": self.ticket.reference if self.ticket_id else "—",
                                                             "status": self.get_status_display()}

    def save(self, *args, **kwargs):
        decided = DeferralRequest.objects.filter(pk=self.pk).exclude(status=self.Status.PENDING)
        if not self._state.adding and self.pk is not None and decided.exists():
            raise TypeError("A decided deferral request is final.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status != self.Status.PENDING:
            raise TypeError("A decided deferral request is final.")
        return super().delete(*args, **kwargs)

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_granted(self) -> bool:
        return self.status in (self.Status.OBJECTIVE, self.Status.SUBJECTIVE)
