"""The dashboard's "now" figures: open tickets, the red zone, without performer or next step, deferrals, waiting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from deferrals.models import DeferralRequest
from reports.dashboard.common import Figure, bilingual, ticket_list_url
from reports.dashboard.scoping import in_scope, scope
from sla.selectors import red_zone_q, without_sla
from tickets.models import OPEN_STATUSES, Status
from tickets.querysets import next_step_overdue_condition


def red_zone_ticket_ids(tickets: QuerySet, now: datetime) -> set[int]:
    """Open tickets of ``tickets`` in the red zone at ``now`` (``sla.selectors.red_zone_q``), as ids."""
    return set(tickets.filter(red_zone_q(now)).order_by().values_list("pk", flat=True))


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
                bilingual(r["blocking_reason__name"], r["blocking_reason__name_ru"]),
                r["n"],
                ticket_list_url(status=Status.WAITING, blocking_reason=r["blocking_reason_id"]),
                key=f"waiting-{r['blocking_reason_id']}",
            )
            for r in waiting
        ],
    )
