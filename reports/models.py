"""Report data kept beside the tickets: sent weekly digests and the rollups of stopped clocks and ticket facts.

The waiting segments the delay report sums are ticket data (``tickets.models.WaitSegment``, written by
``sla.waits``, subscribed to the ticket lifecycle); reports only read them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


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


# --- Rollups of stopped SLA clocks (reports.rollups keeps them; docs/reports.md "Scale") -------------------

def _dimension(model: str, verbose_name):
    """A ticket attribute copied onto a fact or rollup row: an id, no constraint, no index of its own."""
    return models.ForeignKey(
        model, verbose_name=verbose_name, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False,
        null=True, blank=True, related_name="+",
    )


class ClockFact(models.Model):
    """One stopped first-response or resolution clock that counts for compliance, with its ticket's attributes.

    A copy kept by ``reports.rollups`` (never edited by hand): the clock's outcome in seconds of business
    time and the ticket's current queue, type, people, tier and channel, so report queries read one narrow
    table instead of joining clocks, tickets and customers. Rebuilt from the clocks by
    ``manage.py rebuild_rollups``.
    """

    clock = models.OneToOneField("sla.SLAClock", on_delete=models.CASCADE, primary_key=True, related_name="+")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("clock"), max_length=20)
    stopped_at = models.DateTimeField(_("stopped"))
    met = models.BooleanField(_("met"))
    consumed_s = models.FloatField(_("business time (s)"))
    target_s = models.FloatField(_("target (s)"))
    policy = _dimension("sla.SLAPolicy", _("SLA policy"))
    queue = _dimension("tickets.Queue", _("queue"))
    ticket_type = _dimension("tickets.TicketType", _("type"))
    performer = _dimension(settings.AUTH_USER_MODEL, _("performer"))
    owner = _dimension(settings.AUTH_USER_MODEL, _("owner"))
    approver = _dimension(settings.AUTH_USER_MODEL, _("approver"))
    tier = _dimension("tickets.VipTier", _("customer tier"))
    customer = _dimension("tickets.Customer", _("customer"))
    channel = models.CharField(_("channel"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("clock fact")
        verbose_name_plural = _("clock facts")
        indexes = [
            models.Index(fields=["stopped_at"], name="fact_stopped"),
            # Exact percentiles: the values of one histogram bin in a period (reports.clockfigures).
            models.Index(fields=["kind", "consumed_s"], include=["stopped_at"], name="fact_kind_consumed"),
            # Top violators and the SLA report's breaches: the most overdue first, read in index order.
            models.Index((F("consumed_s") - F("target_s")).desc(), F("stopped_at"), name="fact_overdue",
                         condition=Q(met=False)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.ticket_id} {self.stopped_at:%Y-%m-%d %H:%M}"


class ClockDay(models.Model):
    """Stopped clocks of one local day in one time zone, per ticket attributes: counts, sums and a histogram.

    ``bins`` maps the index of a business-time bin (``reports.rollups.BIN_EDGES``) to the number of clocks
    whose time falls in it; the dashboard's distribution and the exact percentiles start from it.
    """

    zone = models.CharField(_("time zone"), max_length=64)
    day = models.DateField(_("day"))
    kind = models.CharField(_("clock"), max_length=20)
    policy = _dimension("sla.SLAPolicy", _("SLA policy"))
    queue = _dimension("tickets.Queue", _("queue"))
    ticket_type = _dimension("tickets.TicketType", _("type"))
    performer = _dimension(settings.AUTH_USER_MODEL, _("performer"))
    owner = _dimension(settings.AUTH_USER_MODEL, _("owner"))
    approver = _dimension(settings.AUTH_USER_MODEL, _("approver"))
    tier = _dimension("tickets.VipTier", _("customer tier"))
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    total = models.PositiveIntegerField(_("clocks"))
    met = models.PositiveIntegerField(_("met"))
    consumed_s = models.FloatField(_("business time (s)"))
    bins = models.JSONField(_("histogram"), default=dict)

    class Meta:
        verbose_name = _("daily clock rollup")
        verbose_name_plural = _("daily clock rollups")
        indexes = [models.Index(fields=["zone", "day"], name="clockday_zone_day")]

    def __str__(self) -> str:
        return f"{self.zone} {self.day} {self.kind}: {self.met}/{self.total}"


class TicketFact(models.Model):
    """One thing that happened to a ticket which the workload and closed-on-time figures count.

    ``created`` (at ``created_at``), ``done`` (at ``done_at``, ``on_time`` when done by the deadline in
    force or without one; ``person`` the performer) and ``taken`` (a ``ticket.assigned`` event; ``person``
    the one it went to). Each carries the ticket's current queue, type and people for visibility. A copy
    kept by ``reports.rollups``, replaced whole for a ticket that changed.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        DONE = "done", _("done")
        TAKEN = "taken", _("taken")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    on_time = models.BooleanField(_("on time"), default=False)
    person = _dimension(settings.AUTH_USER_MODEL, _("person"))
    queue = _dimension("tickets.Queue", _("queue"))
    ticket_type = _dimension("tickets.TicketType", _("type"))
    performer = _dimension(settings.AUTH_USER_MODEL, _("performer"))
    owner = _dimension(settings.AUTH_USER_MODEL, _("owner"))
    approver = _dimension(settings.AUTH_USER_MODEL, _("approver"))

    class Meta:
        verbose_name = _("ticket fact")
        verbose_name_plural = _("ticket facts")
        indexes = [models.Index(fields=["at"], name="ticketfact_at")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.ticket_id} {self.at:%Y-%m-%d %H:%M}"


class TicketDay(models.Model):
    """Ticket facts of one local day in one time zone, per kind, person and ticket attributes: how many."""

    zone = models.CharField(_("time zone"), max_length=64)
    day = models.DateField(_("day"))
    kind = models.CharField(_("kind"), max_length=10, choices=TicketFact.Kind.choices)
    person = _dimension(settings.AUTH_USER_MODEL, _("person"))
    queue = _dimension("tickets.Queue", _("queue"))
    ticket_type = _dimension("tickets.TicketType", _("type"))
    performer = _dimension(settings.AUTH_USER_MODEL, _("performer"))
    owner = _dimension(settings.AUTH_USER_MODEL, _("owner"))
    approver = _dimension(settings.AUTH_USER_MODEL, _("approver"))
    total = models.PositiveIntegerField(_("tickets"))
    on_time = models.PositiveIntegerField(_("on time"))

    class Meta:
        verbose_name = _("daily ticket rollup")
        verbose_name_plural = _("daily ticket rollups")
        indexes = [models.Index(fields=["zone", "day"], name="ticketday_zone_day")]

    def __str__(self) -> str:
        return f"{self.zone} {self.day} {self.kind}: {self.total}"


class RollupZone(models.Model):
    """A time zone whose daily rollups are complete (built once in full, then kept up to date)."""

    zone = models.CharField(_("time zone"), max_length=64, primary_key=True)
    built_at = models.DateTimeField(_("built"))

    class Meta:
        verbose_name = _("rollup time zone")
        verbose_name_plural = _("rollup time zones")

    def __str__(self) -> str:
        return self.zone


class RollupState(models.Model):
    """The one row the rollup upkeep locks (one refresh at a time) and where it records how far it got."""

    synced_to = models.DateTimeField(_("changes applied up to"), null=True, blank=True)
    facts_built_at = models.DateTimeField(_("facts built"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("last refresh"), null=True, blank=True)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup state")

    def __str__(self) -> str:
        return f"rollups synced to {self.synced_to}"
