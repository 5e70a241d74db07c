"""Breaches observed by the clock: a running clock past its due instant is marked breached.

A clock that crosses its target inside a segment it has already measured (a pause, a stop, a
retarget) notes its own breach in ``sla.clocks``. A clock that simply keeps running past
``due_at`` is marked here, by the escalation sweep for the clocks it has claimed
(:func:`clocks_mark_breached`) and by the periodic task for every clock (:func:`clock_mark_breaches`).
Either way ``breached_at`` is the due instant, written once: the update is conditional and the
breach event unique per clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sla.clocks import ZERO, Ev, State
from sla.models import SLAClock, SLAClockEvent


def _observed_breach_events(clocks: Iterable[SLAClock]) -> list[SLAClockEvent]:
    """The breach event of each clock, dated at its due instant (cause ``observed``)."""
    return [
        SLAClockEvent(
            clock_id=c.pk, kind=Ev.BREACH, at=c.due_at, state=State.RUNNING, consumed=c.target,
            target=c.target, due_at=c.due_at, data={"cause": "observed"}, generation=c.generation,
        )
        for c in clocks
    ]


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
    SLAClockEvent.objects.bulk_create(_observed_breach_events(marked), ignore_conflicts=True)
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
                SLAClockEvent.objects.bulk_create(_observed_breach_events(breached), ignore_conflicts=True)
