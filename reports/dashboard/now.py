"""The dashboard's "now" figures: open tickets, the red zone, without performer or next step, deferrals, waiting.

Their cost does not grow with the closed tickets, and with the open ones only as an indexed count:

* ``open_tickets``: one grouped count over the open tickets in scope (per queue, performer, status and blocking
  reason, with those without next step and with the next step overdue), read from the partial covering index
  ``reports_ticket_open`` (reports 0008). It gives open, without performer, without next step, next step overdue,
  waiting by reason, and the workload's open work per person and per queue (``reports.dashboard.workload``);
* the red zone: ``red_at <= now`` through the partial index ``sla_clock_red_at`` (``sla.selectors.red_zone_q``);
* without SLA: an anti-join on the clocks in force (partial index ``sla_clock_in_force``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from deferrals.models import DeferralRequest
from reports.dashboard.common import Figure, bilingual, ticket_list_url
from reports.dashboard.scoping import in_scope, scope
from sla.selectors import red_zone_q, without_sla
from tickets.models import OPEN_STATUSES, BlockingReason, Status
from tickets.querysets import next_step_overdue_condition


def red_zone_ticket_ids(tickets: QuerySet, now: datetime) -> set[int]:
    """Open tickets of ``tickets`` in the red zone at ``now`` (``sla.selectors.red_zone_q``), as ids."""
    return set(tickets.filter(red_zone_q(now)).order_by().values_list("pk", flat=True))


@dataclass(frozen=True)
class OpenGroup:
    """The open tickets in scope of one queue, performer, status and blocking reason."""

    queue_id: int | None
    performer_id: int | None
    status: str
    reason_id: int | None
    n: int
    no_next_step: int
    next_step_overdue: int


def open_tickets(user, now: datetime) -> list[OpenGroup]:
    """The open tickets in scope counted per queue, performer, status and blocking reason: one query.

    Read from the partial covering index ``reports_ticket_open`` (its condition is ``status__in=OPEN_STATUSES``).
    The groups are at most queues × performers × statuses × reasons, whatever the number of tickets; the
    reasons' names are read apart (``_waiting``): grouping by them too cost a third more at 50,000 open tickets.
    """
    rows = (
        scope(user)
        .filter(status__in=OPEN_STATUSES)
        .values_list("queue_id", "performer_id", "status", "blocking_reason_id")
        .annotate(
            n=Count("pk"),
            no_next_step=Count("pk", filter=Q(next_step="")),
            next_step_overdue=Count("pk", filter=next_step_overdue_condition(now)),
        )
        .order_by()
    )
    return [OpenGroup(*row) for row in rows]


def open_per(groups: list[OpenGroup], attribute: str) -> dict:
    """Open tickets per ``queue_id`` or ``performer_id`` (``None`` kept: the caller decides)."""
    result: dict = defaultdict(int)
    for group in groups:
        result[getattr(group, attribute)] += group.n
    return dict(result)


def _waiting(groups: list[OpenGroup]) -> list[dict]:
    """Waiting tickets per blocking reason, most first (then in the reasons' order); one query for the names."""
    reasons = {
        pk: (name, name_ru, position)
        for pk, name, name_ru, position in BlockingReason.objects.values_list("pk", "name", "name_ru", "position")
    }
    per_reason: dict = {}
    for group in groups:
        if group.status != Status.WAITING:
            continue
        name, name_ru, position = reasons.get(group.reason_id, ("", "", 0))
        row = per_reason.setdefault(
            group.reason_id, {"id": group.reason_id, "name": name, "name_ru": name_ru, "position": position, "n": 0}
        )
        row["n"] += group.n
    return sorted(per_reason.values(), key=lambda r: (-r["n"], r["position"]))


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
        return [
            self.open,
            self.red_zone,
            self.unassigned,
            self.no_next_step,
            self.next_step_overdue,
            self.pending_deferrals,
            self.no_sla,
        ]


def now_figures(user, now: datetime, groups: list[OpenGroup] | None = None) -> NowFigures:
    """The "now" figures; ``groups``: ``open_tickets(user, now)`` when the caller has read them already."""
    tickets = scope(user)
    if groups is None:
        groups = open_tickets(user, now)
    counts = {
        "open": sum(g.n for g in groups),
        "unassigned": sum(g.n for g in groups if g.performer_id is None),
        "no_next_step": sum(g.no_next_step for g in groups),
        "next_step_overdue": sum(g.next_step_overdue for g in groups),
    }
    pending = in_scope(DeferralRequest.objects.filter(status=DeferralRequest.Status.PENDING), user).count()
    red = tickets.filter(red_zone_q(now)).order_by().count()
    no_sla = without_sla(tickets).count()
    return NowFigures(
        open=Figure(_("Open tickets"), counts["open"], ticket_list_url(open=True), key="open"),
        red_zone=Figure(_("In the red zone"), red, ticket_list_url(zone="red"), key="red_zone"),
        unassigned=Figure(
            _("Without performer"), counts["unassigned"], ticket_list_url(unassigned=True), key="unassigned"
        ),
        no_next_step=Figure(
            _("Without next step"), counts["no_next_step"], ticket_list_url(no_next_step=True), key="no_next_step"
        ),
        next_step_overdue=Figure(
            _("Next step overdue"),
            counts["next_step_overdue"],
            ticket_list_url(next_step_overdue=True),
            key="next_step_overdue",
        ),
        pending_deferrals=Figure(
            _("Deferrals pending"), pending, ticket_list_url(deferral_pending=True), key="pending_deferrals"
        ),
        no_sla=Figure(_("Without SLA"), no_sla, ticket_list_url(no_sla=True), key="no_sla"),
        waiting=[
            Figure(
                bilingual(r["name"], r["name_ru"]),
                r["n"],
                ticket_list_url(status=Status.WAITING, blocking_reason=r["id"]),
                key=f"waiting-{r['id']}",
            )
            for r in _waiting(groups)
        ],
    )
