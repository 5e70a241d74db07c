"""People: portal preferences and reporting line (``Profile``), the name a person is shown under, how many open
tickets each performs (``Workload``) and absences (who is away and who substitutes; read by routing and deferrals)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.people import display_name
from tickets.models.base import Language


class Profile(models.Model):
    """Portal preferences and the reporting line of a user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Almaty")
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.RU)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("direct manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="team_profiles",
    )
    work_calendar = models.ForeignKey(
        "sla.Calendar",
        verbose_name=_("working calendar"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("When this person is on shift; empty means always available."),
    )
    # Routing (routing.assignment): an agent marked away receives no work (the last automatic assignment, which tells
    # least-loaded routing who has been idle longest, is kept with the open-ticket count: ``Workload``).
    is_away = models.BooleanField(
        _("away"), default=False, help_text=_("Marked away: routing gives this person no new tickets.")
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()

    def clean(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from None
        if self.manager_id and self.manager_id == self.user_id:
            raise ValidationError({"manager": _("A user cannot be their own manager.")})


class Workload(models.Model):
    """How many open tickets a person performs now, and when routing last gave them one: kept by the ticket services
    and routing in the transaction of each change (``tickets.workload``), so routing reads one row instead of
    counting the person's open tickets."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="workload"
    )
    open_tickets = models.IntegerField(_("open tickets"), default=0)
    # Set by routing in the statement that moves the count (``tickets.workload.routed``): who has been idle longest.
    last_assigned_at = models.DateTimeField(_("last routed a ticket"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("workload")
        verbose_name_plural = _("workloads")

    def __str__(self) -> str:
        return f"{display_name(self.user)}: {self.open_tickets}"


class Absence(models.Model):
    """A person is away for a range of dates (both inclusive); the substitute decides for them meanwhile."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who is away"), on_delete=models.CASCADE, related_name="absences"
    )
    starts_on = models.DateField(_("first day away"))
    ends_on = models.DateField(_("last day away"))
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("substitute"),
        on_delete=models.CASCADE,
        related_name="substitutions",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-starts_on", "pk"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        indexes = [models.Index(fields=["user", "starts_on", "ends_on"], name="absence_user_dates")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="absence_ends_after_start"),
            models.CheckConstraint(condition=~Q(substitute=models.F("user")), name="absence_substitute_not_self"),
        ]

    def __str__(self) -> str:
        return f"{display_name(self.user)}: {self.starts_on} – {self.ends_on}"

    def clean(self) -> None:
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The last day cannot be before the first day.")
        if self.user_id and self.substitute_id and self.user_id == self.substitute_id:
            errors["substitute"] = _("A person cannot substitute for themselves.")
        if errors:
            raise ValidationError(errors)
