"""The SLA side of a ticket's life: clocks start, pause, resume, stop and follow the policy and the deadline.

The handlers in ``sla.handlers`` (subscribed to the ticket events in ``opsdesk/wiring.py``)
call these at the points of the ticket lifecycle: creation (:func:`plan_new_ticket`, which ``ticket_create`` asks
through ``tickets.ports.plan_clocks``), public reply,
status or blocking-reason change (:func:`sync_clocks`), customer message, triage change
(:func:`sla_rematch`) and a moved deadline (:func:`on_deadline_changed`). ``routing.vip``
re-matches the tickets of a customer whose VIP tier changed; the demo seed and bulk data get
their clocks from :func:`backfill_clocks`. Each function locks the ticket's clocks and changes
them only through the operations of ``sla.clocks``; history rows go through
``tickets.history.record``.

The deadline clock
------------------
A ticket with a deadline (``Ticket.deadline``, the internal deadline in force)
and an SLA has one more clock, of kind ``deadline``: it runs from the
resolution clock's start on the resolution calendar, pauses and stops exactly
like resolution, never counts for compliance, and its target is the business
time from its start to the deadline. Whatever moves the deadline calls
:func:`on_deadline_changed`, which retargets it (a ``retarget`` event of mode
``deadline``, a new generation, the breach recomputed), so the escalation
levels bound to it fire again for the new deadline. The one exception is the
SLA's own default deadline at creation: :func:`plan_new_ticket` builds the
deadline clock with the ticket's other clocks, exactly as the deadline's
arrival would have started it. See docs/sla.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.bulk import insert_instances, reserve_ids
from sla.breaches import clock_mark_breaches
from sla.clocks import (
    DETACH,
    Kind,
    Mode,
    State,
    due_in_force,
    earliest_due,
    iso,
    locked_clocks,
    mirror_resolution,
    next_reply_may_start,
    op_compliance,
    op_follow_deadline,
    op_pause,
    op_resume,
    op_retarget,
    op_start,
    op_stop,
    running_segments,
    save_clock,
    save_new_clocks,
    store_next_due,
)
from sla.models import SLAClock, SLAClockEvent, SLAPolicy
from sla.policies import active_policies, policy_match, target_from
from tickets import history
from tickets import services as ticket_services
from tickets.models import CLOSED_STATUSES, BlockingReason, Customer, Status, Ticket, TicketEvent, TicketKind

# ---------------------------------------------------------------------------- building clocks


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
        target = target_from(policy, kind, start_at)
        events = op_start(
            clock, at=start_at, policy=policy, calendar=calendar, target=target, actor=actor, cause=cause
        )
        built.append((clock, events))
    (fr, fr_events), (res, res_events) = built
    if ticket.kind == TicketKind.INTERNAL:  # nobody to answer: an internal task is measured by resolution only
        fr_events += op_stop(fr, at=start_at, cause="internal_task")
        fr_events += op_compliance(fr, at=start_at, counts=False, cause="internal_task")
    elif ticket.first_public_reply_at is not None:
        fr_events += op_stop(fr, at=max(ticket.first_public_reply_at, start_at), cause="reply")
    if ticket.status == Status.DONE:
        end = max(ticket.done_at or ticket.status_changed_at, start_at)
        if fr.state != State.STOPPED:
            fr_events += op_stop(fr, at=end, cause=Status.DONE)
        res_events += op_stop(res, at=end, cause=Status.DONE)
    elif ticket.status == Status.CANCELED:
        end = max(ticket.canceled_at or ticket.status_changed_at, start_at)
        for clock, events in built:
            if clock.state != State.STOPPED:
                events += op_stop(clock, at=end, cause=Status.CANCELED)
            events += op_compliance(clock, at=end, counts=False, cause=Status.CANCELED)
    elif ticket.status == Status.WAITING and ticket.blocking_reason and ticket.blocking_reason.pauses_resolution:
        res_events += op_pause(res, at=max(ticket.status_changed_at, start_at), reason=ticket.blocking_reason)
    if deadline_clock and ticket.deadline is not None:
        built.append(_built_deadline_clock(ticket, res, res_events, actor=actor, cause=cause))
    return built


def _built_deadline_clock(
    ticket: Ticket, res: SLAClock, res_events, *, actor=None, cause="", default: datetime | None = None, **details
):
    """A new (unsaved) deadline clock mirroring the just-built resolution clock: ``(clock, events)``. It follows
    the ticket's deadline, or ``default``: the SLA's default deadline, which nobody fixed."""
    clock = SLAClock(ticket=ticket, kind=Kind.DEADLINE)
    reasons = {res.pause_reason.pk: res.pause_reason} if res.pause_reason is not None else {}
    deadline, fixed = (ticket.deadline, ticket.deadline_set_by_person) if default is None else (default, False)
    events = mirror_resolution(clock, res, res_events, deadline, reasons=reasons, actor=actor, cause=cause,
                               fixed=fixed, **details)
    return clock, events


# -------------------------------------------------------------- creation and the deadline


@dataclass
class NewTicketClocks:
    """The clocks of a ticket whose row is not written yet (:func:`plan_new_ticket`)."""

    built: list[tuple[SLAClock, list[SLAClockEvent]]]
    deadline: datetime | None  # the default deadline (cause ``sla_default``), or None
    next_due: datetime | None  # ``Ticket.sla_next_due``: what ``store_next_due`` would write

    def save(self) -> None:
        """Store the clocks and their events (two inserts) once the ticket's row exists with ``next_due``."""
        for clock, _events in self.built:
            clock.ticket_id = clock.ticket.pk
        save_new_clocks(self.built, store_due=False)


def plan_new_ticket(ticket: Ticket, *, actor=None) -> NewTicketClocks | None:
    """The clocks of a new ticket, planned before its row is written (``tickets.ports.plan_clocks``); None when no
    policy applies (no SLA).

    They start at the ticket's creation. Without a deadline from a person, the running resolution clock's due
    instant is the default deadline (cause ``sla_default``): its deadline clock is built here with the others, as
    the deadline's arrival would start it, and the deadline and the earliest due are written with the ticket's row,
    so creation writes the row once and every clock in one insert.
    """
    policy = policy_match(ticket)
    if policy is None:
        return None
    built = _build_clocks(ticket, policy, start_at=ticket.created_at, actor=actor)
    deadline = None
    if ticket.deadline is None:
        _fr, (res, res_events) = built[0], built[1]
        if res.state == State.RUNNING and res.due_at is not None:
            deadline = res.due_at
            built.append(_built_deadline_clock(ticket, res, res_events, actor=actor, cause="sla_default",
                                               default=deadline, from_deadline=None))
    return NewTicketClocks(built, deadline, earliest_due(clock for clock, _events in built))


@transaction.atomic
def start_clocks(ticket: Ticket, *, at: datetime | None = None, actor=None) -> list[SLAClock]:
    """Match the ticket's policy and start the clocks of a ticket written without them at ``at`` (default: its
    creation); a new ticket gets them from :func:`plan_new_ticket`.

    Idempotent: a ticket that already has clocks keeps them. No matching policy → no clocks (no SLA).
    """
    existing = list(ticket.sla_clocks.all())
    if existing:
        return existing
    policy = policy_match(ticket)
    if policy is None:
        return []
    built = _build_clocks(ticket, policy, start_at=at or ticket.created_at, actor=actor)
    save_new_clocks(built)
    return [clock for clock, _events in built]


# Why the deadline in force followed the resolution clock (``ticket.deadline_followed``'s ``why``).
_FOLLOW_WHY = {State.RUNNING: "resumed", State.PAUSED: "paused"}


def follow_resolution(ticket: Ticket, *, at: datetime | None = None, actor=None, why: str = "") -> None:
    """Keep the deadline in force on the resolution clock while nobody set the deadline (docs/sla.md).

    The deadline is the resolution due while the clock runs, on hold (empty) while it is paused, empty
    when no policy applies any more, and stays where it was once the clock stopped (the ticket is
    closed). A deadline a person set is never moved. Moves go through ``ticket_move_deadline``
    (cause ``sla``: one quiet history row, the deadline clock follows).
    """
    if ticket.deadline_set_by_person:
        return
    res = SLAClock.objects.filter(ticket_id=ticket.pk, kind=Kind.RESOLUTION).select_related("calendar").first()
    if res is None or (res.state == State.STOPPED and res.policy_id is not None):
        return
    deadline = due_in_force(res)
    if deadline == ticket.deadline:
        return
    why = why or ("no_policy" if res.policy_id is None else _FOLLOW_WHY.get(res.state, ""))
    ticket_services.ticket_move_deadline(ticket, deadline=deadline, actor=actor, cause="sla", at=at,
                                         history={"why": why})


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
    fixed = ticket.deadline_set_by_person
    at = at or timezone.now()
    clocks = locked_clocks(ticket)
    res = next((c for c in clocks if c.kind == Kind.RESOLUTION), None)
    clock = next((c for c in clocks if c.kind == Kind.DEADLINE), None)
    if deadline == previous and not fixed:
        return clock
    moved = {"from_deadline": iso(previous), "deadline": iso(deadline), **details}
    if deadline is None and not fixed:
        return clock  # on hold or without SLA: the deadline clock pauses or leaves with resolution
    if deadline is None:
        if clock is not None and clock.state != State.STOPPED:
            events = op_stop(clock, at=at, actor=actor, cause="deadline_cleared")
            events[-1].data.update(moved, via=cause)
            save_clock(clock, events)
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
        events = mirror_resolution(
            clock, res, res_events, deadline, actor=actor, cause=cause, from_deadline=iso(previous), fixed=fixed,
            **details,
        )
        save_clock(clock, events)
        return clock
    if not fixed and (clock.policy_id, clock.calendar_id, clock.target) == (res.policy_id, res.calendar_id, res.target):
        return clock  # following the SLA: it already runs, pauses and retargets with the resolution clock
    segments = running_segments(SLAClockEvent.objects.filter(clock=clock).order_by("id"), at, through_pauses=fixed)
    events = op_follow_deadline(
        clock, at=at, deadline=deadline, from_deadline=previous, policy=res.policy, calendar=res.calendar,
        segments=segments, actor=actor, cause=cause, target=None if fixed else res.target, fixed=fixed, **details,
    )
    events += _sync_one(clock, ticket, at=at, actor=actor, cause=cause)  # a set deadline runs through waits
    save_clock(clock, events)
    return clock


# ----------------------------------------------------- status, replies, customer messages


def _desired(clock: SLAClock, ticket: Ticket) -> tuple[str | None, BlockingReason | None]:
    """The state the clock should be in for the ticket's status (``None``: leave it as it is)."""
    if ticket.status == Status.DONE:
        return State.STOPPED, None
    if clock.kind == Kind.DEADLINE and ticket.deadline_set_by_person:
        return State.RUNNING, None  # a deadline a person set holds through waits
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
    if deadline_clock and ticket.deadline is None and ticket.deadline_set_by_person:
        return []  # stopped when the deadline was cleared; on_deadline_changed starts it again
    events: list[SLAClockEvent] = []
    if ticket.status == Status.CANCELED:
        if clock.state != State.STOPPED:
            events += op_stop(clock, at=at, actor=actor, cause=Status.CANCELED)
        if clock.counts_for_compliance:
            events += op_compliance(clock, at=at, counts=False, actor=actor, cause=Status.CANCELED)
        return events
    if not clock.counts_for_compliance and not deadline_clock:
        events += op_compliance(clock, at=at, counts=True, actor=actor, cause="restored")
    desired, reason = _desired(clock, ticket)
    if desired == State.STOPPED and clock.state != State.STOPPED:
        events += op_stop(clock, at=at, actor=actor, cause=ticket.status)
    elif desired == State.RUNNING and clock.state != State.RUNNING:
        events += op_resume(clock, at=at, actor=actor, cause=cause or ticket.status)
    elif desired == State.PAUSED and (clock.state != State.PAUSED or clock.pause_reason_id != reason.pk):
        events += op_pause(clock, at=at, reason=reason, actor=actor, cause=cause or ticket.status)
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
    _sync_all(ticket, at=at, actor=actor, cause=cause)
    follow_resolution(ticket, at=at, actor=actor)


def _sync_all(ticket: Ticket, *, at: datetime, actor, cause: str) -> None:
    for clock in locked_clocks(ticket):
        events = _sync_one(clock, ticket, at=at, actor=actor, cause=cause)
        if events:
            save_clock(clock, events)


@transaction.atomic
def on_public_reply(ticket: Ticket, *, at: datetime | None = None, actor=None) -> None:
    """A public reply stops first response and the running next-reply clock."""
    at = at or timezone.now()
    for clock in locked_clocks(ticket):
        answered = clock.kind in (Kind.FIRST_RESPONSE, Kind.NEXT_REPLY)
        if answered and clock.state != State.STOPPED and clock.policy_id is not None:
            save_clock(clock, op_stop(clock, at=at, actor=actor, cause="reply"))


# No savepoint: called only by the handler of CustomerWrote, inside ticket_receive_customer_message's transaction,
# which rolls back with it (a savepoint pair here was two of every appended message's queries).
@transaction.atomic(savepoint=False)
def on_customer_message(ticket: Ticket, *, at: datetime | None = None) -> SLAClock | None:
    """A customer message on an open, already answered ticket starts a next-reply clock.

    Only when the policy has a next-reply target, and only one at a time: while one runs, later
    messages do not restart it (the agent owes an answer since the first unanswered message).
    """
    if ticket.status in CLOSED_STATUSES or not next_reply_may_start(ticket):
        return None  # most messages: a glance at the clocks' states, nothing locked or built
    at = at or timezone.now()
    clocks = locked_clocks(ticket)
    resolution = next((c for c in clocks if c.kind == Kind.RESOLUTION), None)
    if resolution is None or resolution.policy is None or resolution.policy.next_reply_target is None:
        return None
    if any(c.kind == Kind.FIRST_RESPONSE and c.state != State.STOPPED for c in clocks):
        return None
    if any(c.kind == Kind.NEXT_REPLY and c.state != State.STOPPED for c in clocks):
        return None
    policy = resolution.policy
    clock = SLAClock(ticket=ticket, kind=Kind.NEXT_REPLY)
    events = op_start(
        clock, at=at, policy=policy, calendar=policy.calendar, target=target_from(policy, Kind.NEXT_REPLY, at),
        cause="customer_message",
    )
    save_clock(clock, events)
    return clock


# ----------------------------------------------------------------- re-matching the policy


def _policy_ref(policy: SLAPolicy | None) -> dict | None:
    if policy is None:
        return None
    return {"id": policy.pk, "name": policy.name, **({"name_ru": policy.name_ru} if policy.name_ru else {})}


@transaction.atomic
def sla_rematch(ticket: Ticket, *, actor=None, at: datetime | None = None) -> bool:
    """Match the policy again (priority, type, queue or VIP tier changed); True if it changed.

    The new policy's ``retarget_mode`` decides how its targets apply (see ``op_retarget``). A
    ticket that stops matching any policy has its clocks stopped and taken out of compliance; a
    ticket that matches for the first time gets clocks (retroactive: from its creation). Closed
    tickets keep the SLA they closed under. Logged as clock "retarget" events and a
    "ticket.sla_changed" history row.
    """
    if ticket.status in CLOSED_STATUSES:
        return False
    at = at or timezone.now()
    clocks = locked_clocks(ticket)
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
            save_clock(clock, events)
    else:
        # Open clocks follow the policy; a stopped clock's outcome is final (unless it was detached).
        targets = [c for c in main if c.state != State.STOPPED or c.policy_id is None]
        targets += [c for c in clocks if c.kind == Kind.NEXT_REPLY and c.state != State.STOPPED]
        for clock in targets:
            events: list[SLAClockEvent] = []
            if new is None:
                if clock.state != State.STOPPED:
                    events += op_stop(clock, at=at, actor=actor, cause="no_policy")
                if clock.counts_for_compliance:
                    events += op_compliance(clock, at=at, counts=False, actor=actor, cause="no_policy")
                events += op_retarget(
                    clock, at=at, policy=None, calendar=clock.calendar, target=clock.target, mode=DETACH,
                    segments=[], actor=actor,
                )
            elif new.target_for(clock.kind) is None:  # the new policy has no next-reply target
                events += op_stop(clock, at=at, actor=actor, cause="no_target")
            else:
                segments = (
                    running_segments(clock.events.order_by("id"), at) if new.retarget_mode == Mode.RETROACTIVE else []
                )
                was_detached = clock.policy_id is None
                events += op_retarget(
                    clock, at=at, policy=new, calendar=new.calendar,
                    target=target_from(new, clock.kind, clock.started_at), mode=new.retarget_mode, segments=segments,
                    actor=actor,
                )
                if was_detached and not clock.counts_for_compliance:
                    events += op_compliance(clock, at=at, counts=True, actor=actor, cause="policy_matched")
            save_clock(clock, events)
        _rematch_deadline_clock(ticket, deadline_clock, new, at=at, actor=actor)
        if new is not None:
            _sync_all(ticket, at=at, actor=actor, cause="policy_matched")
    history.record(ticket, "ticket.sla_changed", actor, at=at, **{
        "from": _policy_ref(current), "to": _policy_ref(new), "mode": new.retarget_mode if new else DETACH,
    })
    follow_resolution(ticket, at=at, actor=actor, why="policy" if new is not None else "no_policy")
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
                events += op_stop(clock, at=at, actor=actor, cause="no_policy")
            events += op_retarget(
                clock, at=at, policy=None, calendar=clock.calendar, target=clock.target, mode=DETACH, segments=[],
                actor=actor,
            )
    elif not ticket.deadline_set_by_person and (clock.state != State.STOPPED or clock.policy_id is None):
        # Following the SLA: retargeted exactly as the resolution clock, so its due stays the resolution due.
        segments = running_segments(clock.events.order_by("id"), at) if new.retarget_mode == Mode.RETROACTIVE else []
        events += op_retarget(
            clock, at=at, policy=new, calendar=new.calendar, target=target_from(new, Kind.RESOLUTION, clock.started_at),
            mode=new.retarget_mode, segments=segments, actor=actor, cause="policy_matched",
        )
    elif ticket.deadline is not None and (clock.state != State.STOPPED or clock.policy_id is None):
        segments = running_segments(clock.events.order_by("id"), at, through_pauses=True)
        events += op_follow_deadline(
            clock, at=at, deadline=ticket.deadline, from_deadline=ticket.deadline, policy=new, calendar=new.calendar,
            segments=segments, actor=actor, cause="policy_matched",
        )
    if events:
        save_clock(clock, events)


def sla_rematch_customer(customer: Customer, *, actor=None) -> int:
    """Re-match every open ticket of ``customer`` (its VIP tier changed); returns how many changed."""
    changed = 0
    for ticket in Ticket.objects.open().filter(customer=customer).select_related("customer"):
        changed += sla_rematch(ticket, actor=actor)
    return changed


# ------------------------------------------------------------------------------- backfill


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
        res, res_events = next((c, e) for c, e in built if c.kind == Kind.RESOLUTION)
        due = due_in_force(res)
        if not ticket.deadline_set_by_person and due != ticket.deadline:
            had_one = ticket.deadline is not None
            ticket.deadline = due
            defaulted.append(ticket)
            if not had_one and due is not None and ticket.status not in CLOSED_STATUSES:
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
        store_next_due({clock.ticket_id for clock in clocks if clock.kind in SLAClock.SLA_KINDS})
        Ticket.objects.bulk_update(defaulted, ["deadline"], batch_size=500)
        TicketEvent.objects.bulk_create(
            [history.event(t, "ticket.deadline_defaulted", None, at=t.created_at,
                           deadline=iso(t.deadline), source="sla") for t in defaulted],
            batch_size=500,
        )
    clock_mark_breaches(now)
    return len({c.ticket_id for c in clocks})
