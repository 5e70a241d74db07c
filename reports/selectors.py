"""The discipline report: per employee, tickets completed and deferrals decided in a period.

One query whatever the number of employees: every number is a correlated
subquery on the employee row. Counting rules (docs/deferrals.md):

- *completed*: tickets whose performer is the employee, with status done (not
  canceled) and ``done_at`` in the period;
- *on time*: of those, the ones done by the deadline in force (``done_at <=
  deadline``; a ticket without a deadline cannot be late). Deadlines move only
  through deferral decisions and admin overrides, which refuse closed
  tickets' deferrals, so ``Ticket.deadline`` is the deadline in force when done;
- *objective / subjective / declined*: requests by the employee decided in
  the period (the period of the decision, not of the request); automatic
  requests count like manual ones once decided;
- *declined*: the manager refused and the deadline stayed; neither objective nor subjective, so
  it is in neither the coefficient nor the objective share, but it is shown and listed;
- a request still pending when its ticket closes is *withdrawn* (docs/deferrals.md) and counts
  nowhere: the late closure shows as completed but not on time;
- *decision time*: the average time from a request to its decision (objective, subjective or
  declined), over the requests counted in the period (calendar time);
- *coefficient* = (objective − subjective) + completed;
- *share of objective* = objective / (objective + subjective), empty without any.

Queue and type filters apply to the ticket of each number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf

from deferrals.models import DeferralRequest
from reports import access as report_access
from tickets import selectors as ticket_selectors
from tickets.models import Profile, Status, Ticket
from tickets.querysets import on_time_q

User = get_user_model()
Verdict = DeferralRequest.Status

METRICS = ("completed", "on_time", "objective", "subjective", "declined", "lead_time", "coefficient",
           "objective_share")


@dataclass(frozen=True)
class Period:
    """Dates in the viewer's zone, both inclusive; ``start``/``end`` are the aware instants [start, end)."""

    first: date
    last: date
    tz: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.tz)


def current_month(today: date, tz: tzinfo) -> Period:
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1), tz)


# --- Who is in the report ----------------------------------------------------------------------


def team_leads() -> QuerySet:
    """People somebody reports to (the team filter)."""
    leads = Profile.objects.filter(manager__isnull=False).values("manager_id")
    return User.objects.filter(pk__in=leads).select_related("profile").order_by("profile__display_name", "username")


def employees(viewer, team=None) -> QuerySet:
    """Whom ``viewer`` may see in the report: a manager their direct team; an admin everybody (or one team)."""
    if report_access.sees_all_teams(viewer):
        if team is not None:
            return User.objects.filter(profile__manager=team)
        return ticket_selectors.people()
    return User.objects.filter(profile__manager=viewer)


# --- The numbers --------------------------------------------------------------------------------


def _count(queryset: QuerySet, owner_field: str):
    counted = queryset.filter(**{owner_field: OuterRef("pk")}).order_by().values(owner_field)
    return Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")[:1]), Value(0))


def _average_lead_time(queryset: QuerySet, owner_field: str):
    """The average of ``decided_at − created_at`` over ``queryset``'s rows of the employee (None without any)."""
    lead = ExpressionWrapper(F("decided_at") - F("created_at"), output_field=DurationField())
    rows = queryset.filter(**{owner_field: OuterRef("pk")}).order_by().values(owner_field)
    return Subquery(rows.annotate(avg=Avg(lead)).values("avg")[:1], output_field=DurationField())


def completed_tickets(period: Period, *, queue=None, ticket_type=None) -> QuerySet:
    tickets = Ticket.objects.filter(status=Status.DONE, done_at__gte=period.start, done_at__lt=period.end)
    if queue is not None:
        tickets = tickets.filter(queue=queue)
    if ticket_type is not None:
        tickets = tickets.filter(ticket_type=ticket_type)
    return tickets


def on_time(tickets: QuerySet) -> QuerySet:
    return tickets.filter(on_time_q())


def decided_requests(period: Period, *, queue=None, ticket_type=None) -> QuerySet:
    requests = DeferralRequest.objects.decided().filter(decided_at__gte=period.start, decided_at__lt=period.end)
    if queue is not None:
        requests = requests.filter(ticket__queue=queue)
    if ticket_type is not None:
        requests = requests.filter(ticket__ticket_type=ticket_type)
    return requests


def discipline_rows(viewer, period: Period, *, team=None, queue=None, ticket_type=None) -> QuerySet:
    """Employees in scope annotated with every metric of the report (one query)."""
    done = completed_tickets(period, queue=queue, ticket_type=ticket_type)
    decided = decided_requests(period, queue=queue, ticket_type=ticket_type)
    return (
        employees(viewer, team)
        .select_related("profile")
        .annotate(
            completed=_count(done, "performer"),
            on_time=_count(on_time(done), "performer"),
            objective=_count(decided.filter(status=Verdict.OBJECTIVE), "requested_by"),
            subjective=_count(decided.filter(status=Verdict.SUBJECTIVE), "requested_by"),
            declined=_count(decided.filter(status=Verdict.DECLINED), "requested_by"),
            lead_time=_average_lead_time(decided, "requested_by"),
        )
        .annotate(
            coefficient=F("objective") - F("subjective") + F("completed"),
            objective_share=ExpressionWrapper(
                F("objective") * Value(100.0) / NullIf(F("objective") + F("subjective"), Value(0)),
                output_field=FloatField(),
            ),
        )
        .order_by("profile__display_name", "username")
    )


def coefficient(objective: int, subjective: int, completed: int) -> int:
    """The discipline coefficient: (objective − subjective) + completed."""
    return (objective - subjective) + completed


def share_percent(objective: int, subjective: int) -> int | None:
    """Share of objective deferrals in whole percent (half up), None without any verdict."""
    total = objective + subjective
    if not total:
        return None
    return (objective * 200 + total) // (2 * total)


def in_scope(viewer, employee_id: int, team=None) -> bool:
    return employees(viewer, team).filter(pk=employee_id).exists()
