"""The dashboard's "now" figures: open tickets, the red zone, without performer or next step, deferrals, waiting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from deferrals.models import DeferralRequest
from reports.dashboard.common import Figure, State, bilingual, ticket_list_url
from reports.dashboard.scoping import in_scope, scope
from sla.models import Calendar, SLAClock
from sla.selectors import without_sla
from tickets.models import OPEN_STATUSES, Status
from tickets.querysets import next_step_overdue_condition

RED_SHARE = 0.8  # the red zone starts at 80 % of the target consumed


def red_zone_ticket_ids(tickets: QuerySet, now: datetime) -> set[int]:
    """Open tickets with a clock that counts for compliance and is breached or has consumed 80 % of its target.

    Running clocks: the instant they reach 80 % is ``calendar.add(state_changed_at, 0.8 × target −
    consumed)`` in business time, computed here in Python for the running and paused clocks of
    open tickets (one query; the cost grows with open tickets, not with history). Paused clocks
    count with the time consumed when they paused.
    """
    rows = SLAClock.objects.filter(
        ticket__in=tickets, ticket__status__in=OPEN_STATUSES, state__in=[State.RUNNING, State.PAUSED],
        counts_for_compliance=True, policy__isnull=False,
    ).values_list("ticket_id", *_RED_FIELDS)
    rows = list(rows.order_by())
    calendars = Calendar.objects.in_bulk({row[-1] for row in rows})
    red: set[int] = set()
    for ticket_id, *values, calendar_id in rows:
        if ticket_id not in red and clock_is_red(_RedClock(*values, calendars[calendar_id]), now):
            red.add(ticket_id)
    return red


_RED_FIELDS = ("state", "consumed", "target", "state_changed_at", "due_at", "breached_at", "calendar_id")


class _RedClock(NamedTuple):
    """What ``clock_is_red`` reads of a clock, from a values row (no model instance per open clock)."""

    state: str
    consumed: timedelta
    target: timedelta
    state_changed_at: datetime
    due_at: datetime | None
    breached_at: datetime | None
    calendar: object


def clock_is_red(clock: SLAClock, now: datetime) -> bool:
    if clock.breached_at is not None:
        return True
    threshold = clock.target * RED_SHARE
    if clock.consumed >= threshold:
        return True
    if clock.state != State.RUNNING:
        return False
    if clock.due_at is not None and clock.due_at <= now:
        return True
    at80 = clock.calendar.work_calendar().add(clock.state_changed_at, threshold - clock.consumed)
    return at80 <= now


@dataclass
class NowFigures:
    open: Figure
    red_zone: Figure
    unassigned: Figure
    no_next_step: Figure
    next_step_overdue: Figure
    pending_deferrals: Figure
    no_sla: Figure
    waiting: list[Figure] = field(default_factory=list)

    @property
    def main(self) -> list[Figure]:
        return [self.open, self.red_zone, self.unassigned, self.no_next_step, self.next_step_overdue,
                self.pending_deferrals, self.no_sla]


def now_figures(user, now: datetime) -> NowFigures:
    tickets = scope(user)
    counts = tickets.filter(status__in=OPEN_STATUSES).aggregate(
        open=Count("pk"),
        unassigned=Count("pk", filter=Q(performer__isnull=True)),
        no_next_step=Count("pk", filter=Q(next_step="")),
        next_step_overdue=Count("pk", filter=next_step_overdue_condition(now)),
    )
    waiting = (
        tickets.filter(status=Status.WAITING)
        .values("blocking_reason_id", "blocking_reason__name", "blocking_reason__name_ru", "blocking_reason__position")
        .annotate(n=Count("pk"))
        .order_by("-n", "blocking_reason__position")
    )
    pending = in_scope(DeferralRequest.objects.filter(status=DeferralRequest.Status.PENDING), user).count()
    red = red_zone_ticket_ids(tickets.order_by().values("pk"), now)
    no_sla = without_sla(tickets).count()
    return NowFigures(
        open=Figure(_("Open tickets"), counts["open"], ticket_list_url(open=True), key="open"),
        red_zone=Figure(_("In the red zone"), len(red), ticket_list_url(zone="red"), key="red_zone"),
        unassigned=Figure(_("Without performer"), counts["unassigned"], ticket_list_url(unassigned=True),
                          key="unassigned"),
        no_next_step=Figure(_("Without next step"), counts["no_next_step"], ticket_list_url(no_next_step=True),
                            key="no_next_step"),
        next_step_overdue=Figure(_("Next step overdue"), counts["next_step_overdue"],
                                 ticket_list_url(next_step_overdue=True), key="next_step_overdue"),
        pending_deferrals=Figure(_("Deferrals pending"), pending, ticket_list_url(deferral_pending=True),
                                 key="pending_deferrals"),
        no_sla=Figure(_("Without SLA"), no_sla, ticket_list_url(no_sla=True), key="no_sla"),
        waiting=[
            Figure(bilingual(r["blocking_reason__name"], r["blocking_reason__name_ru"]), r["n"],
                   ticket_list_url(status=Status.WAITING, blocking_reason=r["blocking_reason_id"]),
                   key=f"waiting-{r['blocking_reason_id']}")
            for r in waiting
        ],
    )
