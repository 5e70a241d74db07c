"""SLA writes: calendars, policy matching, and every change of a ticket's clocks.

``tickets.services`` calls the lifecycle hooks below at the points of the
ticket lifecycle (creation, public reply, status change, customer message,
triage change); admin, tasks and the demo seed call the calendar functions.
Nothing else writes ``SLAClock`` or ``SLAClockEvent`` rows.

Clock arithmetic
----------------
A clock keeps ``consumed`` (business time) up to ``state_changed_at``. Each
operation (``_op_*``) first *advances* the clock to its instant (a running
clock adds the business time of the elapsed segment through its calendar),
then changes the state, re-projects ``due_at`` and returns the event rows that
describe it. The same operations rebuild a clock from its events in
:func:`replay`, so the log is complete by construction and checked by tests.

Time is always ``timezone.now()`` or an instant passed in (never counted
ticks); business time always comes from the clock calendar's ``WorkCalendar``.

The deadline clock
------------------
A ticket with a deadline (``Ticket.deadline``, the internal deadline in force)
and an SLA has one more clock, of kind ``deadline``: it runs from the
resolution clock's start on the resolution calendar, pauses and stops exactly
like resolution, never counts for compliance, and its target is the business
time from its start to the deadline. Whatever moves the deadline calls
:func:`on_deadline_changed`, which retargets it (a ``retarget`` event of mode
``deadline``, a new generation, the breach recomputed), so the escalation
levels bound to it fire again for the new deadline. See docs/sla.md.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bulk import insert_instances, reserve_ids
from sla import ports
from sla.businesstime import WEEKDAYS, WorkCalendar
from sla.models import Calendar, CalendarHoliday, CalendarOverride, CalendarWindow, SLAClock, SLAClockEvent, SLAPolicy
from tickets import history
from tickets.models import CLOSED_STATUSES, BlockingReason, Customer, Status, Ticket, TicketEvent

Kind = SLAClock.Kind
State = SLAClock.State
Ev = SLAClockEvent.Kind
Mode = SLAPolicy.RetargetMode
DETACH = "detach"  # retarget "mode" of a clock whose ticket no longer matches any policy
DEADLINE_MODE = "deadline"  # retarget "mode" of a deadline clock that follows the ticket's deadline
ZERO = timedelta(0)


class SLAError(Exception):
    """An SLA configuration rule was broken; the message is shown to the user as is."""


# =============================================================================== calendars


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
        from django_q.tasks import async_task

        async_task("sla.tasks.recompute_calendar", calendar_id, task_name=f"sla-recompute-{calendar_id}-{version}")


def calendar_recompute_due(calendar_id: int, *, batch_size: int = 500) -> int:
    """Re-project ``due_at`` of every running clock on the calendar, in locked batches; returns rows changed."""
    calendar = Calendar.objects.filter(pk=calendar_id).first()
    if calendar is None:
        return 0
    work = calendar.work_calendar()
    planner = ports.planner()
    ids = list(
        SLAClock.objects.filter(calendar_id=calendar_id, state=State.RUNNING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    updated = 0
    for offset in range(0, len(ids), batch_size):
        with transaction.atomic():
            rows = list(
                SLAClock.objects.select_for_update()
                .filter(pk__in=ids[offset : offset + batch_size], calendar_id=calendar_id, state=State.RUNNING)
                .select_related("calendar")
                .only(
                    "pk", "ticket_id", "kind", "policy_id", "calendar", "state", "state_changed_at", "consumed",
                    "target", "due_at", "breached_at", "generation", "next_escalation_at",
                )
            )
            changed = {}
            for clock in rows:
                due = _projected_due(clock, work)
                if due != clock.due_at:
                    clock.due_at = due
                    changed[clock.pk] = clock
            # Escalations: the ladder's instants move with the calendar too.
            changed.update({clock.pk: clock for clock in planner.plan(rows)})
            SLAClock.objects.bulk_update(list(changed.values()), ["due_at", "next_escalation_at"],
                                         batch_size=batch_size)
            updated += len(changed)
    return updated


def _holiday_source(country: str, subdivision: str, years: list[int]):
    import holidays as holidays_lib

    try:
        source = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=years)
        if "en_US" in (source.supported_languages or ()):
            source = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=years, language="en_US")
    except NotImplementedError as exc:
        raise SLAError(
            _("The holidays package does not know “%(country)s” / “%(subdivision)s”: %(error)s")
            % {"country": country, "subdivision": subdivision or "-", "error": exc}
        ) from None
    return source


@transaction.atomic
def calendar_generate_holidays(calendar: Calendar, *, years: Iterable[int] | None = None) -> tuple[int, int]:
    """(Re)generate the calendar's holidays from the holidays package for its country and years.

    Generated rows of those years are replaced; manual holidays and manual overrides win. A weekend
    day the country declares a working day (a transferred working Saturday) becomes a generated
    override with Monday's windows. Returns (holidays, working-day overrides) created.
    """
    country = (calendar.holiday_country or "").strip().upper()
    if not country:
        raise SLAError(_("Set the holiday country of “%(name)s” first.") % {"name": calendar.name})
    years = sorted(set(years or calendar.holiday_years()))
    source = _holiday_source(country, calendar.holiday_subdivision.strip(), years)

    CalendarHoliday.objects.filter(calendar=calendar, generated=True, date__year__in=years).delete()
    manual = set(calendar.holidays.filter(date__year__in=years).values_list("date", flat=True))
    holiday_rows = [
        CalendarHoliday(calendar=calendar, date=day, name=str(name)[:200], generated=True)
        for day, name in sorted(source.items())
        if day.year in years and day not in manual
    ]
    CalendarHoliday.objects.bulk_create(holiday_rows)

    CalendarOverride.objects.filter(calendar=calendar, generated=True, date__year__in=years).delete()
    manual_overrides = set(calendar.overrides.filter(date__year__in=years).values_list("date", flat=True))
    monday = [[s, e] for s, e in calendar.windows.filter(weekday=0).order_by("start").values_list("start", "end")]
    override_rows = []
    if monday:
        override_rows = [
            CalendarOverride(
                calendar=calendar, date=day, windows=monday, note=_("Transferred working day"), generated=True
            )
            for day in sorted(getattr(source, "weekend_workdays", ()) or ())
            if day.year in years and day not in manual_overrides
        ]
        CalendarOverride.objects.bulk_create(override_rows)
    calendar_changed(calendar.pk)
    return len(holiday_rows), len(override_rows)


def _validated_spec(spec) -> dict:
    try:
        return WorkCalendar.from_spec(spec).spec()
    except ValueError as exc:
        raise SLAError(_("Invalid calendar: %(error)s") % {"error": exc}) from None


@transaction.atomic
def calendar_import_spec(calendar: Calendar, spec: dict) -> Calendar:
    """Replace the calendar's time zone, windows, holidays and overrides with ``spec``.

    The spec is validated first; an invalid one raises ``SLAError`` naming the field and changes
    nothing. Names and the generated flag of holidays/overrides on dates that stay are kept.
    """
    spec = _validated_spec(spec)
    holiday_meta = {d: (n, g) for d, n, g in calendar.holidays.values_list("date", "name", "generated")}
    override_meta = {d: (n, g) for d, n, g in calendar.overrides.values_list("date", "note", "generated")}
    calendar.windows.all().delete()
    calendar.holidays.all().delete()
    calendar.overrides.all().delete()
    CalendarWindow.objects.bulk_create(
        CalendarWindow(calendar=calendar, weekday=WEEKDAYS.index(day), start=start, end=end)
        for day, windows in spec["week"].items()
        for start, end in windows
    )
    holiday_rows = []
    for text in spec["holidays"]:
        day = datetime.fromisoformat(text).date()
        name, generated = holiday_meta.get(day, ("", False))
        holiday_rows.append(CalendarHoliday(calendar=calendar, date=day, name=name, generated=generated))
    CalendarHoliday.objects.bulk_create(holiday_rows)
    override_rows = []
    for text, windows in spec["overrides"].items():
        day = datetime.fromisoformat(text).date()
        note, generated = override_meta.get(day, ("", False))
        override_rows.append(
            CalendarOverride(calendar=calendar, date=day, windows=windows, note=note, generated=generated)
        )
    CalendarOverride.objects.bulk_create(override_rows)
    calendar.time_zone = spec["tz"]
    calendar.save()
    return calendar


@transaction.atomic
def calendar_create_from_spec(*, name: str, spec: dict) -> Calendar:
    """A new calendar called ``name`` holding ``spec``."""
    name = (name or "").strip()
    if not name:
        raise SLAError(_("A calendar needs a name."))
    if Calendar.objects.filter(name=name).exists():
        raise SLAError(_("A calendar called “%(name)s” already exists.") % {"name": name})
    spec = _validated_spec(spec)
    calendar = Calendar.objects.create(name=name, time_zone=spec["tz"])
    return calendar_import_spec(calendar, spec)


def calendar_export_spec(calendar: Calendar) -> dict:
    """The normalised spec (every weekday present, sorted dates)."""
    return calendar.work_calendar().spec()


# ================================================================================ policies


def active_policies() -> list[SLAPolicy]:
    return list(SLAPolicy.objects.filter(is_active=True).select_related("calendar").order_by("precedence"))


def policy_match(ticket: Ticket, policies: list[SLAPolicy] | None = None) -> SLAPolicy | None:
    """The first active policy, by precedence, whose non-empty conditions all hold; ``None``: no SLA."""
    if policies is None:
        policies = active_policies()
    if not policies:
        return None
    customer = ticket.customer if Ticket.customer.is_cached(ticket) else None
    vip_tier_id = (
        customer.vip_tier_id
        if customer is not None
        else Customer.objects.filter(pk=ticket.customer_id).values_list("vip_tier_id", flat=True).first()
    )
    for policy in policies:
        if policy.matches(
            queue_id=ticket.queue_id,
            ticket_type_id=ticket.ticket_type_id,
            priority=ticket.priority,
            vip_tier_id=vip_tier_id,
        ):
            return policy
    return None


# ======================================================================= clock operations


def _wc(clock: SLAClock) -> WorkCalendar:
    return clock.calendar.work_calendar()


def _projected_due(clock: SLAClock, work: WorkCalendar) -> datetime | None:
    """Where a running clock reaches its target (its last checkpoint if it already has)."""
    if clock.state != State.RUNNING:
        return None
    return work.add(clock.state_changed_at, max(clock.target - clock.consumed, ZERO))


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _event(clock: SLAClock, kind: str, at: datetime, actor=None, **data) -> SLAClockEvent:
    return SLAClockEvent(
        clock=clock,
        kind=kind,
        at=at,
        state=clock.state,
        consumed=clock.consumed,
        target=clock.target,
        due_at=clock.due_at,
        actor=actor,
        data=data,
        generation=clock.generation,
    )


def _breach(clock: SLAClock, at: datetime, consumed: timedelta) -> SLAClockEvent:
    """Write ``breached_at`` (once) and the event saying when the target was passed."""
    clock.breached_at = at
    return SLAClockEvent(
        clock=clock, kind=Ev.BREACH, at=at, state=State.RUNNING, consumed=consumed, target=clock.target, due_at=at,
        generation=clock.generation,
    )


def _advance(clock: SLAClock, at: datetime, work: WorkCalendar) -> tuple[datetime, list[SLAClockEvent]]:
    """Bring ``consumed`` up to ``at`` (never backwards) and note a breach inside the elapsed segment."""
    at = max(at, clock.state_changed_at)
    events: list[SLAClockEvent] = []
    if clock.state == State.RUNNING and at > clock.state_changed_at:
        before = clock.consumed
        start = clock.state_changed_at
        clock.consumed = before + work.between(start, at)
        if clock.breached_at is None and clock.consumed > clock.target:
            events.append(_breach(clock, work.add(start, max(clock.target - before, ZERO)), clock.target))
    clock.state_changed_at = at
    return at, events


def _op_start(clock, *, at, policy, calendar, target, actor=None, cause="", **details) -> list[SLAClockEvent]:
    clock.policy = policy
    clock.calendar = calendar
    clock.target = target
    clock.state = State.RUNNING
    clock.consumed = ZERO
    clock.started_at = at
    clock.state_changed_at = at
    clock.stopped_at = None
    clock.breached_at = None
    clock.pause_reason = None
    clock.counts_for_compliance = clock.kind != Kind.DEADLINE  # the deadline clock never counts
    clock.due_at = _projected_due(clock, calendar.work_calendar())
    return [
        _event(
            clock, Ev.START, at, actor, policy=policy.pk if policy else None, calendar=calendar.pk, cause=cause,
            **details,
        )
    ]


def _op_pause(clock, *, at, reason: BlockingReason | None, actor=None, cause="") -> list[SLAClockEvent]:
    at, events = _advance(clock, at, _wc(clock))
    clock.state = State.PAUSED
    clock.due_at = None
    clock.pause_reason = reason
    events.append(
        _event(
            clock,
            Ev.PAUSE,
            at,
            actor,
            reason=reason.code if reason else None,
            reason_id=reason.pk if reason else None,
            cause=cause,
        )
    )
    return events


def _op_resume(clock, *, at, actor=None, cause="") -> list[SLAClockEvent]:
    work = _wc(clock)
    at, events = _advance(clock, at, work)
    clock.state = State.RUNNING
    clock.pause_reason = None
    clock.stopped_at = None
    clock.due_at = _projected_due(clock, work)
    events.append(_event(clock, Ev.RESUME, at, actor, cause=cause))
    return events


def _op_stop(clock, *, at, actor=None, cause="") -> list[SLAClockEvent]:
    at, events = _advance(clock, at, _wc(clock))
    clock.state = State.STOPPED
    clock.stopped_at = at
    clock.due_at = None
    clock.pause_reason = None
    events.append(_event(clock, Ev.STOP, at, actor, cause=cause))
    return events


def _op_compliance(clock, *, at, counts: bool, actor=None, cause="") -> list[SLAClockEvent]:
    clock.counts_for_compliance = counts
    return [_event(clock, Ev.COMPLIANCE, max(at, clock.state_changed_at), actor, counts=counts, cause=cause)]


def _op_retarget(
    clock, *, at, policy, calendar, target, mode, segments: list[tuple[datetime, datetime]], actor=None, **details
) -> list[SLAClockEvent]:
    """Apply another policy's target and calendar.

    ``retroactive``: consumed = the clock's running segments (``segments``, from the event log, so
    pauses stay pauses) measured through the new calendar. ``carry_over``: the business time
    consumed so far is kept and the new target and calendar apply from ``at``. ``detach``: the
    ticket has no policy any more (the caller stops the clock first). ``deadline``: a deadline
    clock follows a moved deadline (``_op_follow_deadline``): retroactive, and its breach is
    recomputed for the new generation (the old one stays in the log, ``from_breached_at`` here).
    ``details`` go to the event.
    """
    at, events = _advance(clock, at, _wc(clock))
    clock.generation += 1  # escalations: a new deadline generation re-arms the ladder
    data = {
        "mode": mode,
        "from_policy": clock.policy_id,
        "policy": policy.pk if policy else None,
        "from_calendar": clock.calendar_id,
        "calendar": calendar.pk,
        "from_target": _seconds(clock.target),
        "from_consumed": _seconds(clock.consumed),
        **details,
    }
    if mode == DEADLINE_MODE:
        data["from_breached_at"] = _iso(clock.breached_at)
        clock.breached_at = None
    retroactive = mode in (Mode.RETROACTIVE, DEADLINE_MODE)
    work = calendar.work_calendar()
    if retroactive:
        clock.consumed = sum((work.between(s, e) for s, e in segments), ZERO)
    clock.policy = policy
    clock.calendar = calendar
    clock.target = target
    clock.due_at = _projected_due(clock, work)
    events.append(_event(clock, Ev.RETARGET, at, actor, **data))
    if clock.breached_at is None and clock.consumed > clock.target:
        crossing = _crossing(segments, clock.target, work) if retroactive else at
        events.append(_breach(clock, crossing or at, clock.target if retroactive else clock.consumed))
    return events


def _segments(events: Iterable[SLAClockEvent], until: datetime) -> list[tuple[datetime, datetime]]:
    """The wall-clock intervals in which the clock ran, from its event log (the open one ends at ``until``)."""
    segments = []
    opened = None
    for event in events:
        if event.kind == Ev.BREACH:  # informational, and dated at the crossing rather than in log order
            continue
        if event.kind == Ev.START:  # a deadline clock started again (its deadline was set again) begins anew
            segments, opened = [], None
        running = event.state == State.RUNNING
        if running and opened is None:
            opened = event.at
        elif not running and opened is not None:
            segments.append((opened, event.at))
            opened = None
    if opened is not None and until > opened:
        segments.append((opened, until))
    return segments


def _crossing(segments, target: timedelta, work: WorkCalendar) -> datetime | None:
    """The instant at which the running segments accumulate ``target`` of business time."""
    total = ZERO
    for start, end in segments:
        part = work.between(start, end)
        if total + part >= target:
            return work.add(start, target - total)
        total += part
    return None


def _deadline_target(work: WorkCalendar, start: datetime, deadline: datetime) -> timedelta:
    """A deadline clock's target: the business time from its start to the deadline (zero if not later)."""
    return max(work.between(start, deadline), ZERO) if deadline > start else ZERO


def _op_follow_deadline(
    clock, *, at, deadline, policy, calendar, segments, from_deadline=None, actor=None, cause="", **details
) -> list[SLAClockEvent]:
    """Retarget a deadline clock on ``deadline`` (and on ``policy``/``calendar``, the resolution clock's).

    A retarget of mode ``deadline`` (``_op_retarget``): consumed = the running segments measured
    through ``calendar``, target = business time from the clock's start to ``deadline``, a new
    generation (the ladder re-arms) whose breach is recomputed.
    """
    target = _deadline_target(calendar.work_calendar(), clock.started_at, deadline)
    return _op_retarget(
        clock, at=at, policy=policy, calendar=calendar, target=target, mode=DEADLINE_MODE, segments=segments,
        actor=actor, from_deadline=_iso(from_deadline), deadline=_iso(deadline), cause=cause, **details,
    )


def _mirror_resolution(
    clock: SLAClock, resolution: SLAClock, resolution_events, deadline: datetime, *, reasons=None, actor=None,
    cause="", **details,
) -> list[SLAClockEvent]:
    """(Re)start the deadline ``clock`` at the resolution clock's start and repeat its pauses, resumes and stops.

    ``resolution_events`` is the resolution clock's log (saved or just built); ``reasons`` maps the
    pause reasons' ids to rows (read when not given). The result runs on the resolution clock's
    policy and calendar, in the state the resolution clock is in.
    """
    if reasons is None:
        ids = {e.data.get("reason_id") for e in resolution_events if e.kind == Ev.PAUSE and e.data.get("reason_id")}
        reasons = BlockingReason.objects.in_bulk(ids) if ids else {}
    calendar = resolution.calendar
    start = resolution.started_at
    events = _op_start(
        clock, at=start, policy=resolution.policy, calendar=calendar,
        target=_deadline_target(calendar.work_calendar(), start, deadline), actor=actor, cause=cause,
        deadline=_iso(deadline), **details,
    )
    for event in resolution_events:
        data = event.data or {}
        if event.kind == Ev.PAUSE:
            reason = reasons.get(data.get("reason_id"))
            events += _op_pause(clock, at=event.at, reason=reason, cause=data.get("cause", ""))
        elif event.kind == Ev.RESUME:
            events += _op_resume(clock, at=event.at, cause=data.get("cause", ""))
        elif event.kind == Ev.STOP:
            events += _op_stop(clock, at=event.at, cause=data.get("cause", ""))
    return events


def _save(clock: SLAClock, events: list[SLAClockEvent]) -> None:
    clock.next_escalation_at = _next_escalation(clock)
    clock.save()
    if events:
        SLAClockEvent.objects.bulk_create(events)


def _next_escalation(clock: SLAClock) -> datetime | None:
    """Escalations: when the sweep must look at this clock next (None unless it runs; see escalations.ladder)."""
    if clock.state != State.RUNNING:
        return None
    return ports.planner().next_escalation(clock)


def _locked_clocks(ticket: Ticket) -> list[SLAClock]:
    return list(
        SLAClock.objects.select_for_update(of=("self",))
        .filter(ticket_id=ticket.pk)
        .select_related("calendar", "policy__calendar", "pause_reason")
        .order_by("pk")
    )


# ================================================================================ lifecycle


def _build_clocks(
    ticket: Ticket, policy: SLAPolicy, *, start_at: datetime, actor=None, cause="created", deadline_clock: bool = True
):
    """First-response and resolution clocks started at ``start_at`` and brought to the ticket's present.

    For a new ticket this is just two starts. For an existing ticket (backfill, a ticket that
    gains a policy) the facts on the ticket are applied: the first public reply stops first
    response, done/canceled stop both, a current pausing wait pauses resolution. Earlier pauses are
    not on the ticket and are not reconstructed. A ticket with a deadline also gets its deadline
    clock, which mirrors resolution (unless ``deadline_clock`` is false).
    """
    calendar = policy.calendar
    built = []
    for kind in (Kind.FIRST_RESPONSE, Kind.RESOLUTION):
        clock = SLAClock(ticket=ticket, kind=kind)
        target = policy.target_for(kind)
        events = _op_start(
            clock, at=start_at, policy=policy, calendar=calendar, target=target, actor=actor, cause=cause
        )
        built.append((clock, events))
    (fr, fr_events), (res, res_events) = built
    if ticket.first_public_reply_at is not None:
        fr_events += _op_stop(fr, at=max(ticket.first_public_reply_at, start_at), cause="reply")
    if ticket.status == Status.DONE:
        end = max(ticket.done_at or ticket.status_changed_at, start_at)
        if fr.state != State.STOPPED:
            fr_events += _op_stop(fr, at=end, cause=Status.DONE)
        res_events += _op_stop(res, at=end, cause=Status.DONE)
    elif ticket.status == Status.CANCELED:
        end = max(ticket.canceled_at or ticket.status_changed_at, start_at)
        for clock, events in built:
            if clock.state != State.STOPPED:
                events += _op_stop(clock, at=end, cause=Status.CANCELED)
            events += _op_compliance(clock, at=end, counts=False, cause=Status.CANCELED)
    elif ticket.status == Status.WAITING and ticket.blocking_reason and ticket.blocking_reason.pauses_resolution:
        res_events += _op_pause(res, at=max(ticket.status_changed_at, start_at), reason=ticket.blocking_reason)
    if deadline_clock and ticket.deadline is not None:
        built.append(_built_deadline_clock(ticket, res, res_events, actor=actor, cause=cause))
    return built


def _built_deadline_clock(ticket: Ticket, res: SLAClock, res_events, *, actor=None, cause=""):
    """A new (unsaved) deadline clock mirroring the just-built resolution clock: ``(clock, events)``."""
    clock = SLAClock(ticket=ticket, kind=Kind.DEADLINE)
    reasons = {res.pause_reason.pk: res.pause_reason} if res.pause_reason is not None else {}
    events = _mirror_resolution(clock, res, res_events, ticket.deadline, reasons=reasons, actor=actor, cause=cause)
    return clock, events


@transaction.atomic
def start_clocks(ticket: Ticket, *, at: datetime | None = None, actor=None) -> list[SLAClock]:
    """Match the ticket's policy and start its clocks at ``at`` (default: the ticket's creation).

    Idempotent: a ticket that already has clocks keeps them. No matching policy → no clocks (no SLA).
    """
    existing = list(ticket.sla_clocks.all())
    if existing:
        return existing
    policy = policy_match(ticket)
    if policy is None:
        return []
    built = _build_clocks(ticket, policy, start_at=at or ticket.created_at, actor=actor)
    for clock, events in built:
        _save(clock, events)
    return [clock for clock, _events in built]


def default_deadline(clocks: Iterable[SLAClock]) -> datetime | None:
    """The due instant of the running resolution clock among ``clocks`` (the ticket's default deadline)."""
    return next((c.due_at for c in clocks if c.kind == Kind.RESOLUTION and c.state == State.RUNNING), None)


@transaction.atomic
def on_deadline_changed(
    ticket: Ticket, *, previous: datetime | None, at: datetime | None = None, actor=None, cause: str = "", **details
) -> SLAClock | None:
    """``Ticket.deadline`` moved from ``previous`` to ``ticket.deadline``: the deadline clock follows.

    Every service that sets the deadline calls this after saving it (``cause``: ``sla_default``,
    ``deferral``, ``override``…; ``details`` go to the event, e.g. the deferral's verdict):

    * first deadline (or set again after being cleared): the deadline clock starts at the
      resolution clock's start and repeats its pauses and stops (no SLA: no deadline clock);
    * moved: a ``retarget`` event of mode ``deadline`` (who, when, old and new deadline), a new
      generation, ``due_at`` and ``next_escalation_at`` recomputed, the breach recomputed;
    * cleared: the deadline clock stops.

    Returns the ticket's deadline clock, if it has one.
    """
    deadline = ticket.deadline
    at = at or timezone.now()
    clocks = _locked_clocks(ticket)
    res = next((c for c in clocks if c.kind == Kind.RESOLUTION), None)
    clock = next((c for c in clocks if c.kind == Kind.DEADLINE), None)
    if deadline == previous:
        return clock
    moved = {"from_deadline": _iso(previous), "deadline": _iso(deadline), **details}
    if deadline is None:
        if clock is not None and clock.state != State.STOPPED:
            events = _op_stop(clock, at=at, actor=actor, cause="deadline_cleared")
            events[-1].data.update(moved, via=cause)
            _save(clock, events)
        return clock
    if res is None or res.policy_id is None:
        return clock  # no SLA: no resolution calendar to measure the deadline on
    stopped_with_resolution = (
        clock is not None and res.state == State.STOPPED and clock.stopped_at == res.stopped_at
    )
    if clock is None or (clock.state == State.STOPPED and not stopped_with_resolution):
        if clock is None:
            clock = SLAClock(ticket=ticket, kind=Kind.DEADLINE)
        else:
            clock.generation += 1  # started again after the deadline was cleared: a new generation
        res_events = list(SLAClockEvent.objects.filter(clock=res).order_by("id"))
        events = _mirror_resolution(
            clock, res, res_events, deadline, actor=actor, cause=cause, from_deadline=_iso(previous), **details
        )
        _save(clock, events)
        return clock
    segments = _segments(SLAClockEvent.objects.filter(clock=clock).order_by("id"), at)
    events = _op_follow_deadline(
        clock, at=at, deadline=deadline, from_deadline=previous, policy=res.policy, calendar=res.calendar,
        segments=segments, actor=actor, cause=cause, **details,
    )
    _save(clock, events)
    return clock


def _desired(clock: SLAClock, ticket: Ticket) -> tuple[str | None, BlockingReason | None]:
    """The state the clock should be in for the ticket's status (``None``: leave it as it is)."""
    if ticket.status == Status.DONE:
        return State.STOPPED, None
    if clock.kind == Kind.NEXT_REPLY:
        return None, None  # only replies and customer messages drive it while the ticket is open
    if clock.kind == Kind.FIRST_RESPONSE:
        return (State.RUNNING if ticket.first_public_reply_at is None else None), None
    reason = ticket.blocking_reason if ticket.status == Status.WAITING else None
    if reason is not None and reason.pauses_resolution:
        return State.PAUSED, reason
    return State.RUNNING, None


def _sync_one(clock: SLAClock, ticket: Ticket, *, at, actor, cause) -> list[SLAClockEvent]:
    if clock.policy_id is None:
        return []  # the ticket has no SLA: its old clocks stay stopped
    deadline_clock = clock.kind == Kind.DEADLINE
    if deadline_clock and ticket.deadline is None:
        return []  # stopped when the deadline was cleared; on_deadline_changed starts it again
    events: list[SLAClockEvent] = []
    if ticket.status == Status.CANCELED:
        if clock.state != State.STOPPED:
            events += _op_stop(clock, at=at, actor=actor, cause=Status.CANCELED)
        if clock.counts_for_compliance:
            events += _op_compliance(clock, at=at, counts=False, actor=actor, cause=Status.CANCELED)
        return events
    if not clock.counts_for_compliance and not deadline_clock:
        events += _op_compliance(clock, at=at, counts=True, actor=actor, cause="restored")
    desired, reason = _desired(clock, ticket)
    if desired == State.STOPPED and clock.state != State.STOPPED:
        events += _op_stop(clock, at=at, actor=actor, cause=ticket.status)
    elif desired == State.RUNNING and clock.state != State.RUNNING:
        events += _op_resume(clock, at=at, actor=actor, cause=cause or ticket.status)
    elif desired == State.PAUSED and (clock.state != State.PAUSED or clock.pause_reason_id != reason.pk):
        events += _op_pause(clock, at=at, reason=reason, actor=actor, cause=cause or ticket.status)
    return events


@transaction.atomic
def sync_clocks(ticket: Ticket, *, at: datetime | None = None, actor=None, cause: str = "") -> None:
    """Bring the clocks in line with the ticket's (in-memory) status and blocking reason.

    Called on every status or blocking-reason change: waiting for a pausing reason pauses
    resolution, leaving it resumes; done stops every clock; canceled stops every clock and takes
    them out of compliance; reopening (or restoring a canceled ticket) resumes resolution, and
    first response too when the ticket was never answered.
    """
    at = at or timezone.now()
    for clock in _locked_clocks(ticket):
        events = _sync_one(clock, ticket, at=at, actor=actor, cause=cause)
        if events:
            _save(clock, events)


@transaction.atomic
def on_public_reply(ticket: Ticket, *, at: datetime | None = None, actor=None) -> None:
    """A public reply stops first response and the running next-reply clock."""
    at = at or timezone.now()
    for clock in _locked_clocks(ticket):
        answered = clock.kind in (Kind.FIRST_RESPONSE, Kind.NEXT_REPLY)
        if answered and clock.state != State.STOPPED and clock.policy_id is not None:
            _save(clock, _op_stop(clock, at=at, actor=actor, cause="reply"))


@transaction.atomic
def on_customer_message(ticket: Ticket, *, at: datetime | None = None) -> SLAClock | None:
    """A customer message on an open, already answered ticket starts a next-reply clock.

    Only when the policy has a next-reply target, and only one at a time: while one runs, later
    messages do not restart it (the agent owes an answer since the first unanswered message).
    """
    if ticket.status in CLOSED_STATUSES:
        return None
    at = at or timezone.now()
    clocks = _locked_clocks(ticket)
    resolution = next((c for c in clocks if c.kind == Kind.RESOLUTION), None)
    if resolution is None or resolution.policy is None or resolution.policy.next_reply_target is None:
        return None
    if any(c.kind == Kind.FIRST_RESPONSE and c.state != State.STOPPED for c in clocks):
        return None
    if any(c.kind == Kind.NEXT_REPLY and c.state != State.STOPPED for c in clocks):
        return None
    policy = resolution.policy
    clock = SLAClock(ticket=ticket, kind=Kind.NEXT_REPLY)
    events = _op_start(
        clock, at=at, policy=policy, calendar=policy.calendar, target=policy.next_reply_target, cause="customer_message"
    )
    _save(clock, events)
    return clock


def _policy_ref(policy: SLAPolicy | None) -> dict | None:
    return None if policy is None else {"id": policy.pk, "name": policy.name}


@transaction.atomic
def sla_rematch(ticket: Ticket, *, actor=None, at: datetime | None = None) -> bool:
    """Match the policy again (priority, type, queue or VIP tier changed); True if it changed.

    The new policy's ``retarget_mode`` decides how its targets apply (see ``_op_retarget``). A
    ticket that stops matching any policy has its clocks stopped and taken out of compliance; a
    ticket that matches for the first time gets clocks (retroactive: from its creation). Closed
    tickets keep the SLA they closed under. Logged as clock "retarget" events and a
    "ticket.sla_changed" history row.
    """
    if ticket.status in CLOSED_STATUSES:
        return False
    at = at or timezone.now()
    clocks = _locked_clocks(ticket)
    main = [c for c in clocks if c.kind in (Kind.FIRST_RESPONSE, Kind.RESOLUTION)]
    resolution = next((c for c in main if c.kind == Kind.RESOLUTION), None)
    deadline_clock = next((c for c in clocks if c.kind == Kind.DEADLINE), None)
    current = resolution.policy if resolution is not None else None
    new = policy_match(ticket)
    if (new.pk if new else None) == (current.pk if current else None):
        return False
    if not main:
        start_at = ticket.created_at if new.retarget_mode == Mode.RETROACTIVE else at
        for clock, events in _build_clocks(ticket, new, start_at=start_at, actor=actor, cause="policy_matched"):
            _save(clock, events)
    else:
        # Open clocks follow the policy; a stopped clock's outcome is final (unless it was detached).
        targets = [c for c in main if c.state != State.STOPPED or c.policy_id is None]
        targets += [c for c in clocks if c.kind == Kind.NEXT_REPLY and c.state != State.STOPPED]
        for clock in targets:
            events: list[SLAClockEvent] = []
            if new is None:
                if clock.state != State.STOPPED:
                    events += _op_stop(clock, at=at, actor=actor, cause="no_policy")
                if clock.counts_for_compliance:
                    events += _op_compliance(clock, at=at, counts=False, actor=actor, cause="no_policy")
                events += _op_retarget(
                    clock, at=at, policy=None, calendar=clock.calendar, target=clock.target, mode=DETACH,
                    segments=[], actor=actor,
                )
            elif new.target_for(clock.kind) is None:  # the new policy has no next-reply target
                events += _op_stop(clock, at=at, actor=actor, cause="no_target")
            else:
                segments = (
                    _segments(clock.events.order_by("id"), at) if new.retarget_mode == Mode.RETROACTIVE else []
                )
                was_detached = clock.policy_id is None
                events += _op_retarget(
                    clock, at=at, policy=new, calendar=new.calendar, target=new.target_for(clock.kind),
                    mode=new.retarget_mode, segments=segments, actor=actor,
                )
                if was_detached and not clock.counts_for_compliance:
                    events += _op_compliance(clock, at=at, counts=True, actor=actor, cause="policy_matched")
            _save(clock, events)
        _rematch_deadline_clock(ticket, deadline_clock, new, at=at, actor=actor)
        if new is not None:
            sync_clocks(ticket, at=at, actor=actor, cause="policy_matched")
    history.record(ticket, "ticket.sla_changed", actor, at=at, **{
        "from": _policy_ref(current), "to": _policy_ref(new), "mode": new.retarget_mode if new else DETACH,
    })
    return True


def _rematch_deadline_clock(ticket: Ticket, clock: SLAClock | None, new: SLAPolicy | None, *, at, actor) -> None:
    """The deadline clock follows the resolution clock to the new policy (or out of SLA with it)."""
    if clock is None:
        if new is not None and ticket.deadline is not None:
            on_deadline_changed(ticket, previous=None, at=at, actor=actor, cause="policy_matched")
        return
    events: list[SLAClockEvent] = []
    if new is None:
        if clock.policy_id is not None:
            if clock.state != State.STOPPED:
                events += _op_stop(clock, at=at, actor=actor, cause="no_policy")
            events += _op_retarget(
                clock, at=at, policy=None, calendar=clock.calendar, target=clock.target, mode=DETACH, segments=[],
                actor=actor,
            )
    elif ticket.deadline is not None and (clock.state != State.STOPPED or clock.policy_id is None):
        segments = _segments(clock.events.order_by("id"), at)
        events += _op_follow_deadline(
            clock, at=at, deadline=ticket.deadline, from_deadline=ticket.deadline, policy=new, calendar=new.calendar,
            segments=segments, actor=actor, cause="policy_matched",
        )
    if events:
        _save(clock, events)


def sla_rematch_customer(customer: Customer, *, actor=None) -> int:
    """Re-match every open ticket of ``customer`` (its VIP tier changed); returns how many changed."""
    changed = 0
    for ticket in Ticket.objects.open().filter(customer=customer).select_related("customer"):
        changed += sla_rematch(ticket, actor=actor)
    return changed


# ================================================================================= breaches


def clocks_mark_breached(clocks: Iterable[SLAClock], now: datetime) -> list[SLAClock]:
    """Of ``clocks`` (running, locked by the caller), write ``breached_at`` (= due) on those observed past due.

    Past due means business time has elapsed since ``due_at``. Written once: the update is
    conditional and the breach event unique per clock. Returns the clocks marked now.
    """
    candidates = [
        c for c in clocks
        if c.state == State.RUNNING and c.breached_at is None and c.due_at is not None and c.due_at < now
        and c.calendar.work_calendar().between(c.due_at, now) > ZERO
    ]
    if not candidates:
        return []
    marked_ids = set(
        SLAClock.objects.filter(
            pk__in=[c.pk for c in candidates], state=State.RUNNING, breached_at__isnull=True
        ).values_list("pk", flat=True)
    )
    marked = [c for c in candidates if c.pk in marked_ids]
    if not marked:
        return []
    SLAClock.objects.filter(pk__in=marked_ids, breached_at__isnull=True).update(breached_at=F("due_at"))
    SLAClockEvent.objects.bulk_create(
        [
            SLAClockEvent(
                clock_id=c.pk, kind=Ev.BREACH, at=c.due_at, state=State.RUNNING, consumed=c.target,
                target=c.target, due_at=c.due_at, data={"cause": "observed"}, generation=c.generation,
            )
            for c in marked
        ],
        ignore_conflicts=True,
    )
    for clock in marked:
        clock.breached_at = clock.due_at
    return marked


def clock_mark_breaches(now: datetime | None = None, *, batch_size: int = 500) -> int:
    """Write ``breached_at`` (= the due instant) on running clocks observed past due; returns how many.

    Past due means business time has elapsed since ``due_at``: a clock due at Friday 18:00 is not
    breached by the weekend, only from Monday's opening. Set-based per batch; idempotent (the
    update is conditional and the breach event unique per clock).
    """
    now = now or timezone.now()
    marked = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                SLAClock.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(state=State.RUNNING, breached_at__isnull=True, due_at__lt=now, pk__gt=last_pk)
                .select_related("calendar")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return marked
            last_pk = batch[-1].pk
            breached = [c for c in batch if c.calendar.work_calendar().between(c.due_at, now) > ZERO]
            if breached:
                marked += SLAClock.objects.filter(
                    pk__in=[c.pk for c in breached], state=State.RUNNING, breached_at__isnull=True
                ).update(breached_at=F("due_at"))
                SLAClockEvent.objects.bulk_create(
                    [
                        SLAClockEvent(
                            clock_id=c.pk,
                            kind=Ev.BREACH,
                            at=c.due_at,
                            state=State.RUNNING,
                            consumed=c.target,
                            target=c.target,
                            due_at=c.due_at,
                            data={"cause": "observed"},
                            generation=c.generation,
                        )
                        for c in breached
                    ],
                    ignore_conflicts=True,
                )


# =================================================================================== replay


@dataclass(frozen=True)
class ClockState:
    """The stored state of a clock, comparable with what :func:`replay` rebuilds."""

    state: str
    consumed: timedelta
    target: timedelta
    state_changed_at: datetime
    due_at: datetime | None
    started_at: datetime
    stopped_at: datetime | None
    breached_at: datetime | None
    counts_for_compliance: bool
    policy_id: int | None
    calendar_id: int
    pause_reason_id: int | None

    @classmethod
    def of(cls, clock: SLAClock) -> ClockState:
        return cls(**{name: getattr(clock, name) for name in cls.__dataclass_fields__})


def replay(clock: SLAClock) -> ClockState:
    """Rebuild the clock from its event log through today's calendars.

    Equal to the stored state unless a calendar was edited for dates the clock already ran
    through: stored ``consumed`` is frozen at each state change, replay re-measures it.
    """
    events = list(SLAClockEvent.objects.filter(clock_id=clock.pk).order_by("id"))
    calendar_ids = {clock.calendar_id} | {e.data["calendar"] for e in events if e.data.get("calendar")}
    calendars = Calendar.objects.in_bulk(calendar_ids)
    policies = SLAPolicy.objects.in_bulk({e.data["policy"] for e in events if e.data.get("policy")})
    reasons = BlockingReason.objects.in_bulk({e.data["reason_id"] for e in events if e.data.get("reason_id")})
    sim = SLAClock(ticket_id=clock.ticket_id, kind=clock.kind, calendar=calendars[clock.calendar_id])
    seen: list[SLAClockEvent] = []
    for event in events:
        data = event.data
        if event.kind == Ev.START:
            _op_start(
                sim, at=event.at, policy=policies.get(data["policy"]), calendar=calendars[data["calendar"]],
                target=event.target,
            )
        elif event.kind == Ev.PAUSE:
            _op_pause(sim, at=event.at, reason=reasons.get(data.get("reason_id")))
        elif event.kind == Ev.RESUME:
            _op_resume(sim, at=event.at)
        elif event.kind == Ev.STOP:
            _op_stop(sim, at=event.at)
        elif event.kind == Ev.COMPLIANCE:
            _op_compliance(sim, at=event.at, counts=data["counts"])
        elif event.kind == Ev.RETARGET and data["mode"] == DEADLINE_MODE:
            _op_follow_deadline(
                sim, at=event.at, deadline=datetime.fromisoformat(data["deadline"]),
                policy=policies.get(data.get("policy")), calendar=calendars[data["calendar"]],
                segments=_segments(seen, event.at),
            )
        elif event.kind == Ev.RETARGET:
            segments = _segments(seen, event.at) if data["mode"] == Mode.RETROACTIVE else []
            _op_retarget(
                sim, at=event.at, policy=policies.get(data.get("policy")), calendar=calendars[data["calendar"]],
                target=event.target, mode=data["mode"], segments=segments,
            )
        elif event.kind == Ev.BREACH and sim.breached_at is None:
            sim.breached_at = event.at
        seen.append(event)
    return ClockState.of(sim)


# ================================================================================= backfill


def backfill_clocks(queryset, *, now: datetime | None = None) -> int:
    """Give clocks to the tickets of ``queryset`` that have none, from their timestamps; returns how many.

    For bulk-seeded data: clocks start at ``created_at``; ``first_public_reply_at`` stops first
    response; ``done_at``/``canceled_at`` stop both; a ticket waiting now for a pausing reason is
    paused since ``status_changed_at``. Earlier pauses are not on the ticket and are ignored.
    A ticket without a deadline gets the resolution due date; every open ticket with a deadline
    gets its deadline clock. A closed ticket gets none: it would be stopped, never escalate and
    counts for nothing, and it would cost the 100,000-ticket seed a fifth more time;
    ``on_deadline_changed`` gives it one if its deadline is ever moved. Breaches are then marked.
    """
    now = now or timezone.now()
    policies = active_policies()
    if not policies:
        return 0
    tickets = (
        queryset.filter(sla_clocks__isnull=True).select_related("customer", "blocking_reason").order_by("pk").distinct()
    )
    clocks: list[SLAClock] = []
    events: list[SLAClockEvent] = []
    defaulted: list[Ticket] = []
    for ticket in tickets.iterator(chunk_size=500):
        policy = policy_match(ticket, policies)
        if policy is None:
            continue
        built = _build_clocks(
            ticket, policy, start_at=ticket.created_at, cause="backfill",
            deadline_clock=ticket.status not in CLOSED_STATUSES,
        )
        due = default_deadline(clock for clock, _events in built)
        if ticket.deadline is None and due is not None:
            ticket.deadline = due
            defaulted.append(ticket)
            res, res_events = next((c, e) for c, e in built if c.kind == Kind.RESOLUTION)
            built.append(_built_deadline_clock(ticket, res, res_events, cause="backfill"))
        for clock, clock_events in built:
            clocks.append(clock)
            events.extend(clock_events)
    with transaction.atomic():
        # Plain executemany: bulk_create spends most of a 100,000-ticket seed compiling values.
        for clock, pk in zip(clocks, reserve_ids(SLAClock, len(clocks)), strict=True):
            clock.pk = pk
        for event in events:
            event.clock_id = event.clock.pk
        insert_instances(SLAClock, clocks)
        insert_instances(SLAClockEvent, events)
        Ticket.objects.bulk_update(defaulted, ["deadline"], batch_size=500)
        TicketEvent.objects.bulk_create(
            [history.event(t, "ticket.deadline_defaulted", None, at=t.created_at,
                           deadline=t.deadline.isoformat(), source="sla") for t in defaulted],
            batch_size=500,
        )
    clock_mark_breaches(now)
    return len({c.ticket_id for c in clocks})
