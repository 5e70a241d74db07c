"""SLA data: working calendars, SLA policies, and the clocks that run on tickets.

Business-time arithmetic lives in ``sla.businesstime`` (pure); every write to
a clock goes through the SLA write side (``sla.lifecycle`` and the engine in
``sla.clocks``, see docs/sla.md); reads and display helpers live in
``sla.selectors``. Models hold data and a few small derived things only.

A calendar's ``version`` changes on every edit of the calendar or of one of
its rows (window, holiday, override); its ``WorkCalendar`` is cached in-process
under ``(pk, version)``, so an edit anywhere is seen by every process at its
next read of the row, and the edit also enqueues a recomputation of the due
instants of the running clocks on that calendar (``sla.tasks``, which runs
``sla.calendars.calendar_recompute_due``). That edit rule lives here, in
:func:`calendar_changed` and :func:`calendar_enqueue_recompute`, because every
save of a calendar row must apply it.
"""

from __future__ import annotations

import functools
import re
import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sla.businesstime import WEEKDAYS, WorkCalendar
from tickets.models import AppendOnlyModel, BilingualLabel, Priority

_TIME_START = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$"
_TIME_END = r"^(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
start_time_validator = RegexValidator(_TIME_START, _("Enter a time as HH:MM (00:00-23:59)."))
end_time_validator = RegexValidator(_TIME_END, _("Enter a time as HH:MM (00:00-24:00)."))


def _hhmm(value: str) -> str:
    """Normalise ``9:00`` to ``09:00``; anything else is returned unchanged for the validators."""
    value = (value or "").strip()
    if re.fullmatch(r"[0-9]:[0-5][0-9]", value):
        return "0" + value
    return value


class Weekday(models.IntegerChoices):
    MON = 0, _("Monday")
    TUE = 1, _("Tuesday")
    WED = 2, _("Wednesday")
    THU = 3, _("Thursday")
    FRI = 4, _("Friday")
    SAT = 5, _("Saturday")
    SUN = 6, _("Sunday")


# --- Calendars ---------------------------------------------------------------------------

_WORK_CALENDARS: dict[int, tuple[uuid.UUID, WorkCalendar]] = {}
_WORK_CALENDARS_LOCK = threading.Lock()


def forget_work_calendars() -> None:
    """Drop the in-process cache (it is keyed by version, so this is never needed for correctness)."""
    with _WORK_CALENDARS_LOCK:
        _WORK_CALENDARS.clear()


class Calendar(BilingualLabel, models.Model):
    """Working time of a team: weekly windows, holidays and per-date overrides in one time zone."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=120, blank=True, help_text=_("Empty: same as the name."))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Almaty")
    holiday_country = models.CharField(
        _("holiday country"),
        max_length=8,
        blank=True,
        help_text=_("ISO code known to the holidays package, e.g. KZ. Used by “Generate holidays”."),
    )
    holiday_subdivision = models.CharField(
        _("holiday subdivision"), max_length=16, blank=True, help_text=_("Optional region code, e.g. BY for Bavaria.")
    )
    holiday_years_from = models.PositiveSmallIntegerField(
        _("holidays from year"), null=True, blank=True, help_text=_("Empty: last year.")
    )
    holiday_years_to = models.PositiveSmallIntegerField(
        _("holidays to year"), null=True, blank=True, help_text=_("Empty: next year.")
    )
    version = models.UUIDField(_("version"), default=uuid.uuid4, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("working calendar")
        verbose_name_plural = _("working calendars")

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs):
        adding = self._state.adding
        self.version = uuid.uuid4()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version", "updated_at"}
        super().save(*args, **kwargs)
        if not adding:
            calendar_enqueue_recompute(self.pk, self.version)

    # The spec and the engine ------------------------------------------------------------

    def holiday_years(self) -> range:
        this_year = timezone.localdate().year
        first = self.holiday_years_from or this_year - 1
        last = self.holiday_years_to or max(this_year + 1, first)
        return range(first, last + 1)

    def to_spec(self) -> dict:
        """The calendar as plain data (the ``sla.businesstime`` spec), read from the database."""
        week: dict[str, list[list[str]]] = {day: [] for day in WEEKDAYS}
        for weekday, start, end in self.windows.order_by("weekday", "start").values_list("weekday", "start", "end"):
            week[WEEKDAYS[weekday]].append([start, end])
        holidays = [d.isoformat() for d in self.holidays.order_by("date").values_list("date", flat=True)]
        overrides = {d.isoformat(): list(w) for d, w in self.overrides.order_by("date").values_list("date", "windows")}
        return {"tz": self.time_zone, "week": week, "holidays": holidays, "overrides": overrides}

    def work_calendar(self) -> WorkCalendar:
        """The engine for this calendar, built once per (pk, version) and shared in-process.

        Raises ``ValueError`` if the stored rows do not form a valid calendar.
        """
        cached = _WORK_CALENDARS.get(self.pk)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        built = WorkCalendar.from_spec(self.to_spec())
        with _WORK_CALENDARS_LOCK:
            _WORK_CALENDARS[self.pk] = (self.version, built)
        return built


class CalendarRow(models.Model):
    """A row that belongs to a calendar: any save or delete is an edit of the calendar."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        calendar_changed(self.calendar_id)

    def delete(self, *args, **kwargs):
        calendar_id = self.calendar_id
        result = super().delete(*args, **kwargs)
        calendar_changed(calendar_id)
        return result


def calendar_changed(calendar_id: int) -> uuid.UUID:
    """Record an edit of a calendar's rows: new version (drops cached engines) and a recompute after commit."""
    version = uuid.uuid4()
    Calendar.objects.filter(pk=calendar_id).update(version=version, updated_at=timezone.now())
    calendar_enqueue_recompute(calendar_id, version)
    return version


def calendar_enqueue_recompute(calendar_id: int, version: uuid.UUID) -> None:
    """After commit, enqueue ``sla.tasks.recompute_calendar`` (never inside the admin request)."""
    transaction.on_commit(functools.partial(_enqueue_recompute, calendar_id, version))


def _enqueue_recompute(calendar_id: int, version: uuid.UUID) -> None:
    # One admin save edits several rows and registers several callbacks; only the callback that
    # carries the committed version enqueues (a rolled-back savepoint's version never matches).
    if Calendar.objects.filter(pk=calendar_id, version=version).exists():
        # Not a cycle: django_q.tasks (broker, queues, django_q's models) loads only when a recompute is enqueued.
        from django_q.tasks import async_task

        async_task("sla.tasks.recompute_calendar", calendar_id, task_name=f"sla-recompute-{calendar_id}-{version}")


class CalendarWindow(CalendarRow):
    """One working window of a weekday, in local wall-clock time; several make a split day."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.CharField(_("from"), max_length=5, validators=[start_time_validator], help_text="HH:MM")
    end = models.CharField(_("to"), max_length=5, validators=[end_time_validator], help_text=_("HH:MM, 24:00 allowed"))

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name = _("working window")
        verbose_name_plural = _("weekly working windows")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start}–{self.end}"

    def clean(self) -> None:
        self.start, self.end = _hhmm(self.start), _hhmm(self.end)
        if re.fullmatch(_TIME_START, self.start) and re.fullmatch(_TIME_END, self.end) and self.end <= self.start:
            raise ValidationError({"end": _("The window must end after it starts.")})


class CalendarHoliday(BilingualLabel, CalendarRow):
    """A whole local date off. Generated rows come from the holidays package; others are manual."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True, help_text=_("Empty: same as the name."))
    generated = models.BooleanField(_("generated"), default=False, help_text=_("Created by “Generate holidays”."))

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="sla_holiday_once_per_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.label}".strip()


class CalendarOverride(CalendarRow):
    """Replaces one date's windows (shortened day, transferred working Saturday); no windows = day off.

    An override wins over the weekly windows and over a holiday on the same date.
    """

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="overrides")
    date = models.DateField(_("date"))
    windows = models.JSONField(_("windows"), default=list, blank=True, help_text=_("Empty: a day off."))
    note = models.CharField(_("note"), max_length=200, blank=True)
    generated = models.BooleanField(_("generated"), default=False, help_text=_("Created by “Generate holidays”."))

    class Meta:
        ordering = ["date"]
        verbose_name = _("date override")
        verbose_name_plural = _("date overrides")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="sla_override_once_per_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.windows_text or _('day off')}"

    @property
    def windows_text(self) -> str:
        return ", ".join(f"{s}–{e}" for s, e in self.windows or [])


# --- Policies ------------------------------------------------------------------------------


def _positive(value: timedelta) -> None:
    if value is not None and value <= timedelta(0):
        raise ValidationError(_("A target must be longer than zero."))


def _not_negative(value: timedelta) -> None:
    if value is not None and value < timedelta(0):
        raise ValidationError(_("A target cannot be negative."))


class TargetUnit(models.TextChoices):
    """How people agreed a target (docs/sla.md, "Targets people agree on")."""

    BUSINESS_TIME = "time", _("business hours and minutes")
    BUSINESS_DAYS = "days", _("business days")
    END_OF_DAY = "end_of_day", _("by the end of the business day")


_UNIT_HELP = _(
    "Business hours and minutes: the target is business time (2:00:00). Business days: the number of working "
    "days, entered as days (3 00:00:00 = 3 days, due at the same time on the third working day). By the end of "
    "the business day: 0 = the same day, 1 00:00:00 = the next business day."
)


def _unit_field(verbose_name):
    return models.CharField(
        verbose_name, max_length=12, choices=TargetUnit.choices, default=TargetUnit.BUSINESS_TIME, help_text=_UNIT_HELP
    )


class SLAPolicy(BilingualLabel, models.Model):
    """Targets for the tickets it matches; the active policy with the lowest precedence number wins."""

    class RetargetMode(models.TextChoices):
        RETROACTIVE = "retroactive", _("Retroactive from creation")
        CARRY_OVER = "carry_over", _("Carry consumed time over")

    name = models.CharField(_("name"), max_length=120)
    name_ru = models.CharField(_("name (Russian)"), max_length=120, blank=True, help_text=_("Empty: same as the name."))
    precedence = models.PositiveIntegerField(
        _("precedence"), unique=True, help_text=_("Lower numbers are tried first; the first match applies.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    queue = models.ForeignKey(
        "tickets.Queue", verbose_name=_("queue"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ticket_type = models.ForeignKey(
        "tickets.TicketType", verbose_name=_("type"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, null=True, blank=True)
    vip_tier = models.ForeignKey(
        "tickets.VipTier", verbose_name=_("VIP tier"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    calendar = models.ForeignKey(
        Calendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="policies"
    )
    first_response_target = models.DurationField(
        _("first response target"), validators=[_not_negative], help_text=_("Business time, e.g. 2:00:00.")
    )
    first_response_unit = _unit_field(_("first response unit"))
    resolution_target = models.DurationField(_("resolution target"), validators=[_not_negative])
    resolution_unit = _unit_field(_("resolution unit"))
    next_reply_target = models.DurationField(
        _("next reply target"),
        null=True,
        blank=True,
        validators=[_not_negative],
        help_text=_("Optional: time to answer each later customer message."),
    )
    next_reply_unit = _unit_field(_("next reply unit"))
    retarget_mode = models.CharField(
        _("when the policy changes"),
        max_length=20,
        choices=RetargetMode.choices,
        default=RetargetMode.RETROACTIVE,
        help_text=_(
            "Applies when a ticket moves to this policy: count its targets from the ticket's creation "
            "through this calendar (pauses kept), or keep the business time consumed so far."
        ),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["precedence"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.label

    def matches(self, *, queue_id, ticket_type_id, priority, vip_tier_id) -> bool:
        return (
            (self.queue_id is None or self.queue_id == queue_id)
            and (self.ticket_type_id is None or self.ticket_type_id == ticket_type_id)
            and (self.priority is None or self.priority == priority)
            and (self.vip_tier_id is None or self.vip_tier_id == vip_tier_id)
        )

    def target_for(self, kind: str) -> timedelta | None:
        """The stored target of ``kind``, read in its unit (``unit_for``); ``sla.policies.target_from`` turns it
        into the business time of a clock starting at a given instant."""
        return {
            SLAClock.Kind.FIRST_RESPONSE: self.first_response_target,
            SLAClock.Kind.RESOLUTION: self.resolution_target,
            SLAClock.Kind.NEXT_REPLY: self.next_reply_target,
        }[kind]

    def unit_for(self, kind: str) -> str:
        return {
            SLAClock.Kind.FIRST_RESPONSE: self.first_response_unit,
            SLAClock.Kind.RESOLUTION: self.resolution_unit,
            SLAClock.Kind.NEXT_REPLY: self.next_reply_unit,
        }[kind]

    def clean(self) -> None:
        """Each target fits its unit: business time longer than zero, whole business days (at least one), or
        whole days after the current business day for "by the end of the business day"."""
        errors = {}
        for kind in (SLAClock.Kind.FIRST_RESPONSE, SLAClock.Kind.RESOLUTION, SLAClock.Kind.NEXT_REPLY):
            target, unit = self.target_for(kind), self.unit_for(kind)
            if target is None:
                continue
            whole = target == timedelta(days=target.days)
            if unit == TargetUnit.BUSINESS_TIME and target <= timedelta(0):
                errors[f"{kind}_target"] = _("A target must be longer than zero.")
            elif unit == TargetUnit.BUSINESS_DAYS and not (whole and target.days >= 1):
                errors[f"{kind}_target"] = _("Business days: enter a whole number of days, at least 1 (3 00:00:00).")
            elif unit == TargetUnit.END_OF_DAY and not (whole and target.days >= 0):
                errors[f"{kind}_target"] = _("End of the business day: enter 0 (the same day) or whole days after it.")
        if errors:
            raise ValidationError(errors)


# --- Clocks ------------------------------------------------------------------------------------


class SLAClock(models.Model):
    """One SLA clock of a ticket. Changed only by ``sla.clocks``; every change is an ``SLAClockEvent``.

    ``consumed`` is the business time consumed up to ``state_changed_at`` (the
    last state change or retarget); while running, the live value adds the
    business time since then, and ``due_at`` is where it reaches ``target``.

    The ``deadline`` kind follows ``Ticket.deadline`` instead of a policy target
    (``sla.lifecycle.on_deadline_changed``, docs/sla.md): it never counts for
    compliance and only escalation levels bound to it watch it.
    """

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESOLUTION = "resolution", _("Resolution")
        NEXT_REPLY = "next_reply", _("Next reply")
        # Not an SLA clock: the internal deadline in force (``Ticket.deadline``), for escalation ladders only.
        DEADLINE = "deadline", _("Deadline in force")

    # The SLA clocks proper (what compliance, breaches and queue order are about); not the deadline clock.
    SLA_KINDS = ("first_response", "resolution", "next_reply")

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        STOPPED = "stopped", _("Stopped")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks")
    kind = models.CharField(_("clock"), max_length=20, choices=Kind.choices)
    policy = models.ForeignKey(
        SLAPolicy,
        verbose_name=_("SLA policy"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="clocks",
        help_text=_("Empty when no policy matches the ticket any more."),
    )
    calendar = models.ForeignKey(Calendar, verbose_name=_("calendar"), on_delete=models.PROTECT, related_name="clocks")
    target = models.DurationField(_("target"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.RUNNING)
    consumed = models.DurationField(_("consumed"), default=timedelta(0))
    state_changed_at = models.DateTimeField(_("state changed"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"))
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    counts_for_compliance = models.BooleanField(_("counts for compliance"), default=True)
    pause_reason = models.ForeignKey(
        "tickets.BlockingReason",
        verbose_name=_("pause reason"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    next_escalation_at = models.DateTimeField(_("next escalation"), null=True, blank=True)
    # The instant from which the clock is in the red zone (``sla.redzone``), stored by ``sla.clocks``;
    # empty when it is not and will not be while its state stays (stopped, not counting, paused below 80 %).
    red_at = models.DateTimeField(_("red zone from"), null=True, blank=True, editable=False)
    # Escalations: bumped by every retarget, so the escalation ladder re-arms for the new deadline.
    generation = models.PositiveIntegerField(_("deadline generation"), default=0)

    class Meta:
        ordering = ["ticket_id", "started_at", "id"]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "kind"],
                condition=Q(kind__in=["first_response", "resolution"]),
                name="sla_clock_one_per_kind",
            ),
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(kind="next_reply") & ~Q(state="stopped"),
                name="sla_clock_one_open_next_reply",
            ),
            models.UniqueConstraint(fields=["ticket"], condition=Q(kind="deadline"), name="sla_clock_one_deadline"),
            models.CheckConstraint(
                condition=Q(state="running", due_at__isnull=False) | (~Q(state="running") & Q(due_at__isnull=True)),
                name="sla_clock_due_only_when_running",
            ),
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="running"), name="sla_clock_running_due"),
            # The escalation sweep reads only clocks that can still fire.
            models.Index(
                fields=["next_escalation_at"],
                condition=Q(state="running", next_escalation_at__isnull=False),
                name="sla_clock_next_escalation",
            ),
            models.Index(fields=["calendar", "state"], name="sla_clock_calendar_state"),
            # The red zone ("red_at <= now") of the dashboard and the ticket list: only clocks that can be red.
            models.Index(fields=["red_at", "ticket"], condition=Q(red_at__isnull=False), name="sla_clock_red_at"),
            # "Without SLA" (``sla.selectors.under_sla_q``): the clocks in force only, not the stopped history.
            models.Index(
                fields=["ticket", "kind"],
                condition=Q(state__in=["running", "paused"], policy__isnull=False),
                name="sla_clock_in_force",
            ),
            # The queue order's "next SLA due" of a ticket (``routing.queue_order``): its running clocks in due
            # order, read off the index for each waiting ticket the intake board sorts.
            models.Index(
                fields=["ticket", "due_at", "kind"], condition=Q(state="running"), name="sla_clock_ticket_running_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.ticket_id}"

    @property
    def is_running(self) -> bool:
        return self.state == self.State.RUNNING


class SLAClockEvent(AppendOnlyModel):
    """One immutable step of a clock: what happened, when, and the clock's state right after it.

    Replaying a clock's events in order (``sla.clocks.replay``) rebuilds its
    stored state, which is how clocks are audited.
    """

    class Kind(models.TextChoices):
        START = "start", _("Started")
        PAUSE = "pause", _("Paused")
        RESUME = "resume", _("Resumed")
        STOP = "stop", _("Stopped")
        RETARGET = "retarget", _("Retargeted")
        BREACH = "breach", _("Breached")
        COMPLIANCE = "compliance", _("Compliance changed")

    clock = models.ForeignKey(SLAClock, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    state = models.CharField(_("state"), max_length=10, choices=SLAClock.State.choices)
    consumed = models.DurationField(_("consumed"))
    target = models.DurationField(_("target"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("who"), on_delete=models.PROTECT, null=True, blank=True
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # The clock's deadline generation when the event happened: a deadline clock can breach once per generation.
    generation = models.PositiveIntegerField(_("deadline generation"), default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("SLA clock event")
        verbose_name_plural = _("SLA clock events")
        indexes = [models.Index(fields=["clock", "id"], name="sla_event_clock")]
        constraints = [
            models.UniqueConstraint(
                fields=["clock", "generation"], condition=Q(kind="breach"), name="sla_event_one_breach_per_generation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.clock}"
