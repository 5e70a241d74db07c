"""The clock engine: the operations that change one ``SLAClock`` and the events that describe them.

Only the SLA write side uses it (``sla.lifecycle`` drives the clocks through the ticket's life,
``sla.calendars`` re-projects due instants); everything else reads clocks through
``sla.selectors``. Nothing but these operations writes ``SLAClock`` or ``SLAClockEvent`` rows
(``sla.breaches`` aside, which only marks the breach of a clock observed past due).

Clock arithmetic
----------------
A clock keeps ``consumed`` (business time) up to ``state_changed_at``. Each
operation (``op_*``) first *advances* the clock to its instant (a running
clock adds the business time of the elapsed segment through its calendar),
then changes the state, re-projects ``due_at`` and returns the event rows that
describe it; :func:`save_clock` stores the clock with its next escalation
instant and its events. The same operations rebuild a clock from its events in
:func:`replay`, so the log is complete by construction and checked by tests.

Time is always ``timezone.now()`` or an instant passed in (never counted
ticks); business time always comes from the clock calendar's ``WorkCalendar``.
The next escalation instant comes from the planner that ``escalations``
registers (``sla.ports.planner()``); the SLA does not know ladders.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import router
from django.db.models import OuterRef, Subquery

from core import fastinsert
from core.rowcache import Precompiled, PrecompiledUpdate
from sla import ports
from sla.businesstime import WorkCalendar
from sla.models import Calendar, SLAClock, SLAClockEvent, SLAPolicy
from sla.redzone import red_zone_from
from tickets.models import BlockingReason, Ticket

Kind = SLAClock.Kind
State = SLAClock.State
Ev = SLAClockEvent.Kind
Mode = SLAPolicy.RetargetMode
DETACH = "detach"  # retarget "mode" of a clock whose ticket no longer matches any policy
DEADLINE_MODE = "deadline"  # retarget "mode" of a deadline clock that follows the ticket's deadline
ZERO = timedelta(0)


# ------------------------------------------------------------------------------- helpers


def _wc(clock: SLAClock) -> WorkCalendar:
    return clock.calendar.work_calendar()


def projected_due(clock: SLAClock, work: WorkCalendar) -> datetime | None:
    """Where a running clock reaches its target (its last checkpoint if it already has)."""
    if clock.state != State.RUNNING:
        return None
    return work.add(clock.state_changed_at, max(clock.target - clock.consumed, ZERO))


def due_in_force(clock: SLAClock | None) -> datetime | None:
    """The instant a resolution clock holds the ticket to (the deadline in force while nobody set one).

    Its breach instant once breached; else its due instant while it runs, nothing while it is paused
    (the deadline is on hold), and where it would have reached its target had it run on once stopped.
    """
    if clock is None or clock.policy_id is None:
        return None
    if clock.breached_at is not None:
        return clock.breached_at
    if clock.state == State.RUNNING:
        return clock.due_at
    if clock.state == State.STOPPED:
        return _wc(clock).add(clock.state_changed_at, max(clock.target - clock.consumed, ZERO))
    return None


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def iso(value: datetime | None) -> str | None:
    """An instant as event data (ISO 8601), ``None`` kept."""
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


# ---------------------------------------------------------------------------- operations


def op_start(clock, *, at, policy, calendar, target, actor=None, cause="", **details) -> list[SLAClockEvent]:
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
    clock.due_at = projected_due(clock, calendar.work_calendar())
    return [
        _event(
            clock, Ev.START, at, actor, policy=policy.pk if policy else None, calendar=calendar.pk, cause=cause,
            **details,
        )
    ]


def op_pause(clock, *, at, reason: BlockingReason | None, actor=None, cause="") -> list[SLAClockEvent]:
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


def op_resume(clock, *, at, actor=None, cause="") -> list[SLAClockEvent]:
    work = _wc(clock)
    at, events = _advance(clock, at, work)
    clock.state = State.RUNNING
    clock.pause_reason = None
    clock.stopped_at = None
    clock.due_at = projected_due(clock, work)
    events.append(_event(clock, Ev.RESUME, at, actor, cause=cause))
    return events


def op_stop(clock, *, at, actor=None, cause="") -> list[SLAClockEvent]:
    at, events = _advance(clock, at, _wc(clock))
    clock.state = State.STOPPED
    clock.stopped_at = at
    clock.due_at = None
    clock.pause_reason = None
    events.append(_event(clock, Ev.STOP, at, actor, cause=cause))
    return events


def op_compliance(clock, *, at, counts: bool, actor=None, cause="") -> list[SLAClockEvent]:
    clock.counts_for_compliance = counts
    return [_event(clock, Ev.COMPLIANCE, max(at, clock.state_changed_at), actor, counts=counts, cause=cause)]


def op_retarget(
    clock, *, at, policy, calendar, target, mode, segments: list[tuple[datetime, datetime]], actor=None, **details
) -> list[SLAClockEvent]:
    """Apply another policy's target and calendar.

    ``retroactive``: consumed = the clock's running segments (``segments``, from the event log, so
    pauses stay pauses) measured through the new calendar. ``carry_over``: the business time
    consumed so far is kept and the new target and calendar apply from ``at``. ``detach``: the
    ticket has no policy any more (the caller stops the clock first). ``deadline``: a deadline
    clock follows a moved deadline (``op_follow_deadline``): retroactive, and its breach is
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
        data["from_breached_at"] = iso(clock.breached_at)
        clock.breached_at = None
    retroactive = mode in (Mode.RETROACTIVE, DEADLINE_MODE)
    work = calendar.work_calendar()
    if retroactive:
        clock.consumed = sum((work.between(s, e) for s, e in segments), ZERO)
    clock.policy = policy
    clock.calendar = calendar
    clock.target = target
    clock.due_at = projected_due(clock, work)
    events.append(_event(clock, Ev.RETARGET, at, actor, **data))
    if clock.breached_at is None and clock.consumed > clock.target:
        crossing = _crossing(segments, clock.target, work) if retroactive else at
        events.append(_breach(clock, crossing or at, clock.target if retroactive else clock.consumed))
    return events


def running_segments(
    events: Iterable[SLAClockEvent], until: datetime, *, through_pauses: bool = False
) -> list[tuple[datetime, datetime]]:
    """The wall-clock intervals in which the clock ran, from its event log (the open one ends at ``until``).

    ``through_pauses``: pauses count as running (a deadline a person set holds through waits).
    """
    running_states = (State.RUNNING, State.PAUSED) if through_pauses else (State.RUNNING,)
    segments = []
    opened = None
    for event in events:
        if event.kind == Ev.BREACH:  # informational, and dated at the crossing rather than in log order
            continue
        if event.kind == Ev.START:  # a deadline clock started again (its deadline was set again) begins anew
            segments, opened = [], None
        running = event.state in running_states
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


def op_follow_deadline(
    clock, *, at, deadline, policy, calendar, segments, from_deadline=None, actor=None, cause="", target=None,
    fixed: bool = True, **details,
) -> list[SLAClockEvent]:
    """Retarget a deadline clock on ``deadline`` (and on ``policy``/``calendar``, the resolution clock's).

    A retarget of mode ``deadline`` (``op_retarget``): consumed = the running segments measured
    through ``calendar``, target = business time from the clock's start to ``deadline`` (unless
    ``target`` is given: the resolution target of a deadline that follows the SLA), a new generation
    (the ladder re-arms) whose breach is recomputed. ``fixed``: a person set the deadline, so the clock
    runs through pauses (``segments`` count them) and the event says so for :func:`replay`.
    """
    if target is None:
        target = _deadline_target(calendar.work_calendar(), clock.started_at, deadline)
    return op_retarget(
        clock, at=at, policy=policy, calendar=calendar, target=target, mode=DEADLINE_MODE, segments=segments,
        actor=actor, from_deadline=iso(from_deadline), deadline=iso(deadline), cause=cause, fixed=fixed, **details,
    )


def mirror_resolution(
    clock: SLAClock, resolution: SLAClock, resolution_events, deadline: datetime, *, reasons=None, actor=None,
    cause="", fixed: bool = True, **details,
) -> list[SLAClockEvent]:
    """(Re)start the deadline ``clock`` at the resolution clock's start and repeat its pauses, resumes and stops.

    ``resolution_events`` is the resolution clock's log (saved or just built); ``reasons`` maps the
    pause reasons' ids to rows (read when not given). The result runs on the resolution clock's
    policy and calendar, in the state the resolution clock is in. ``fixed`` (a person set the
    deadline): its target is the business time from the start to ``deadline`` and it repeats only the
    stops (a set deadline holds through waits); otherwise (the deadline follows the SLA) its target is
    the resolution target, so its due instant is the resolution due.
    """
    if reasons is None:
        ids = {e.data.get("reason_id") for e in resolution_events if e.kind == Ev.PAUSE and e.data.get("reason_id")}
        reasons = BlockingReason.objects.in_bulk(ids) if ids else {}
    calendar = resolution.calendar
    start = resolution.started_at
    target = _deadline_target(calendar.work_calendar(), start, deadline) if fixed else resolution.target
    events = op_start(
        clock, at=start, policy=resolution.policy, calendar=calendar, target=target, actor=actor, cause=cause,
        deadline=iso(deadline), **details,
    )
    for event in resolution_events:
        data = event.data or {}
        if event.kind == Ev.PAUSE and not fixed:
            reason = reasons.get(data.get("reason_id"))
            events += op_pause(clock, at=event.at, reason=reason, cause=data.get("cause", ""))
        elif event.kind == Ev.RESUME and clock.state == State.RUNNING:
            continue
        elif event.kind == Ev.RESUME:
            events += op_resume(clock, at=event.at, cause=data.get("cause", ""))
        elif event.kind == Ev.STOP:
            events += op_stop(clock, at=event.at, cause=data.get("cause", ""))
    return events


# ---------------------------------------------------------------------------- storing


def save_clock(clock: SLAClock, events: list[SLAClockEvent]) -> None:
    """Store the clock (with its next escalation and red-zone instants) and the events its operations returned,
    then its ticket's next SLA due."""
    clock.next_escalation_at = _next_escalation(clock)
    clock.red_at = red_at(clock)
    clock.save()
    if events:
        SLAClockEvent.objects.bulk_create(events)
    if clock.kind in SLAClock.SLA_KINDS:
        store_next_due([clock.ticket_id])


def save_new_clocks(built: list[tuple[SLAClock, list[SLAClockEvent]]], *, store_due: bool = True) -> None:
    """Store new clocks and their events in two inserts: :func:`save_clock` for a batch of unsaved clocks.

    The next escalation instants are planned for the whole batch at once (one ladder lookup, not one per clock).
    ``store_due=False``: the tickets' ``sla_next_due`` was written with their rows (:func:`earliest_due`).
    """
    clocks = [clock for clock, _events in built]
    ports.planner().plan(clocks)
    for clock in clocks:
        clock.red_at = red_at(clock)
    fastinsert.insert(clocks)
    fastinsert.insert([event for _clock, clock_events in built for event in clock_events])
    if store_due:
        store_next_due({clock.ticket_id for clock in clocks if clock.kind in SLAClock.SLA_KINDS})


def earliest_due(clocks: Iterable[SLAClock]) -> datetime | None:
    """What :func:`store_next_due` writes for a ticket whose clocks are all in ``clocks`` (a new ticket's, in
    memory): the earliest due instant of its running SLA clocks."""
    return min(
        (c.due_at for c in clocks if c.kind in SLAClock.SLA_KINDS and c.state == State.RUNNING and c.due_at),
        default=None,
    )


def next_due_subquery() -> Subquery:
    """The earliest due instant of the outer ticket's running SLA clocks (first response, resolution, next reply)."""
    return Subquery(
        SLAClock.objects.filter(ticket_id=OuterRef("pk"), state=State.RUNNING, kind__in=SLAClock.SLA_KINDS)
        .order_by("due_at")
        .values("due_at")[:1]
    )


def store_next_due(ticket_ids: Iterable[int], using: str | None = None) -> None:
    """Write ``Ticket.sla_next_due`` of these tickets from their clocks as stored now (one ``UPDATE``).

    Called wherever a clock's state or due instant is written (:func:`save_clock`, :func:`save_new_clocks`,
    ``sla.calendars.calendar_recompute_due``), so the column is always the clocks' earliest running due.
    """
    ids = sorted(set(ticket_ids))
    db = using or router.db_for_write(Ticket)
    if len(ids) == 1:  # a reply, a status change, a new ticket: the statement compiled once per process
        _STORE_NEXT_DUE.run(ids[0], using=db)
        return
    for start in range(0, len(ids), 500):  # SQLite bounds the parameters of one statement
        Ticket.objects.using(db).filter(pk__in=ids[start : start + 500]).update(sla_next_due=next_due_subquery())


_STORE_NEXT_DUE = PrecompiledUpdate(
    lambda ticket_id: Ticket.objects.filter(pk=ticket_id),
    lambda: {"sla_next_due": next_due_subquery()},
    -7_100_203,  # stands for the ticket while the SQL is compiled: no ticket has it
    prepare=True,
)


def red_at(clock: SLAClock) -> datetime | None:
    """``SLAClock.red_at``: where the clock enters the red zone in its present state (``sla.redzone``)."""
    return red_zone_from(clock, _wc(clock) if clock.state == State.RUNNING else None)


def _next_escalation(clock: SLAClock) -> datetime | None:
    """Escalations: when the sweep must look at this clock next (None unless it runs; see escalations.ladder)."""
    if clock.state != State.RUNNING:
        return None
    return ports.planner().next_escalation(clock)


def locked_clocks(ticket: Ticket) -> list[SLAClock]:
    """The ticket's clocks, locked for the caller's transaction, with what the operations read.

    Every status change, reply and customer message runs it: its SQL is compiled once per process.
    """
    return _LOCKED_CLOCKS.objects(ticket.pk, using=router.db_for_write(SLAClock))


_LOCKED_CLOCKS = Precompiled(
    lambda ticket_id: (
        SLAClock.objects.select_for_update(of=("self",))
        .filter(ticket_id=ticket_id)
        .select_related("calendar", "policy__calendar", "pause_reason")
        .order_by("pk")
    ),
    -7_100_202,  # stands for the ticket while the SQL is compiled: no ticket has it
    prepare=True,
)


def next_reply_may_start(ticket: Ticket) -> bool:
    """Whether a customer message could start a next-reply clock on ``ticket`` now, from its clocks' kinds and
    states alone (no lock, no objects): the resolution clock's policy has a next-reply target, and neither a first
    response nor a next reply is still owed. The caller holds the ticket's row lock, so no clock changes before it
    locks them to start one (:func:`locked_clocks`)."""
    rows = _CLOCK_STATES.rows(ticket.pk, using=router.db_for_write(SLAClock))
    return (
        any(kind == Kind.RESOLUTION and target is not None for kind, _state, target in rows)
        and not any(kind in (Kind.FIRST_RESPONSE, Kind.NEXT_REPLY) and state != State.STOPPED
                    for kind, state, _target in rows)
    )


_CLOCK_STATES = Precompiled(
    lambda ticket_id: (
        SLAClock.objects.filter(ticket_id=ticket_id)
        .order_by()
        .values_list("kind", "state", "policy__next_reply_target")
    ),
    -7_100_204,  # stands for the ticket while the SQL is compiled: no ticket has it
    prepare=True,
)


# ------------------------------------------------------------------------------ replay


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
            op_start(
                sim, at=event.at, policy=policies.get(data["policy"]), calendar=calendars[data["calendar"]],
                target=event.target,
            )
        elif event.kind == Ev.PAUSE:
            op_pause(sim, at=event.at, reason=reasons.get(data.get("reason_id")))
        elif event.kind == Ev.RESUME:
            op_resume(sim, at=event.at)
        elif event.kind == Ev.STOP:
            op_stop(sim, at=event.at)
        elif event.kind == Ev.COMPLIANCE:
            op_compliance(sim, at=event.at, counts=data["counts"])
        elif event.kind == Ev.RETARGET and data["mode"] == DEADLINE_MODE:
            op_follow_deadline(
                sim, at=event.at, deadline=datetime.fromisoformat(data["deadline"]),
                policy=policies.get(data.get("policy")), calendar=calendars[data["calendar"]],
                segments=running_segments(seen, event.at, through_pauses=data.get("fixed", False)),
                target=event.target,
            )
        elif event.kind == Ev.RETARGET:
            segments = running_segments(seen, event.at) if data["mode"] == Mode.RETROACTIVE else []
            op_retarget(
                sim, at=event.at, policy=policies.get(data.get("policy")), calendar=calendars[data["calendar"]],
                target=event.target, mode=data["mode"], segments=segments,
            )
        elif event.kind == Ev.BREACH and sim.breached_at is None:
            sim.breached_at = event.at
        seen.append(event)
    return ClockState.of(sim)
