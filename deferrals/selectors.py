"""Reads of the deferral workflow: who stands in for whom, whose desk a request is on, approval pages."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import router
from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from core import dates
from core.formatting import format_duration
from core.rowcache import Precompiled
from deferrals.models import DeferralCause, DeferralRequest
from sla.selectors import current_clocks, with_clocks
from tickets import access
from tickets.models import Absence, Message, Ticket, TicketEvent
from tickets.selectors import load_people

logger = logging.getLogger(__name__)
User = get_user_model()
Verdict = DeferralRequest.Status

EARLIER_DAYS = 90


def organisation_today(now: datetime | None = None) -> date:
    """Absence dates are calendar dates of the organisation (``TIME_ZONE``)."""
    return timezone.localtime(now or timezone.now(), ZoneInfo(settings.TIME_ZONE)).date()


def absences_on(day: date, last_day: date | None = None) -> QuerySet:
    """Absences that include ``day`` (``last_day``: the same day, given apart only so that a statement compiled once
    can take each as a parameter of its own)."""
    return Absence.objects.filter(starts_on__lte=day, ends_on__gte=day if last_day is None else last_day)


def current_substitute(user, *, now: datetime | None = None):
    """The person standing in for ``user`` today, or None when ``user`` is not away."""
    if user is None:
        return None
    absence = (
        absences_on(organisation_today(now))
        .filter(user=user)
        .select_related("substitute__profile")
        .order_by("-starts_on", "-pk")
        .first()
    )
    return absence.substitute if absence is not None else None


def _manager_of(user):
    profile = getattr(user, "profile", None)
    return profile.manager if profile is not None else None


def resolve_approver(requester, ticket: Ticket, *, now: datetime | None = None):
    """Who decides ``requester``'s deferral of ``ticket``.

    The requester's direct manager; the manager's substitute while the manager
    is away; the queue's manager when the requester has no manager. Never the
    requester themselves, never an inactive user; None when nobody fits.
    """
    manager = _manager_of(requester)
    candidates = []
    if manager is not None:
        candidates.append(current_substitute(manager, now=now) or manager)
    candidates.append(ticket.queue.manager if ticket.queue_id else None)
    if manager is not None:
        candidates.append(manager)  # the substitute is the requester: the manager decides when back
    for person in candidates:
        if person is not None and person.is_active and person.pk != requester.pk:
            return person
    return None


def _desk_of(addressed_to: int, manager: int, substitute: int, requester: int, day: date, last_day: date) -> QuerySet:
    """Requests on a person's desk (never their own): addressed to them, of their direct team, or of a manager they
    stand in for on ``day``. The person's id comes once per use and the day twice, so that :data:`_PENDING_ON_DESK`
    can compile the same statement once with a parameter for each; every caller passes the same id and day."""
    standing_in_for = absences_on(day, last_day).filter(substitute_id=substitute).values("user_id")
    return DeferralRequest.objects.filter(
        Q(addressed_to_id=addressed_to)
        | Q(requested_by__profile__manager_id=manager)
        | Q(requested_by__profile__manager__in=standing_in_for)
    ).exclude(requested_by_id=requester)


def desk(user, now: datetime | None = None) -> QuerySet:
    """Requests ``user`` is expected to decide (never their own); the approval inbox and the header count."""
    if user is None or not user.is_authenticated:
        return DeferralRequest.objects.none()
    today = organisation_today(now)
    return _desk_of(user.pk, user.pk, user.pk, user.pk, today, today)


def approvable(user, now: datetime | None = None) -> QuerySet:
    """Requests ``user`` may open and decide as an approver: their desk, or every request for admins."""
    if user is None or not user.is_authenticated or not user.is_active:
        return DeferralRequest.objects.none()
    if access.is_admin(user):
        return DeferralRequest.objects.exclude(requested_by=user)
    return desk(user, now)


def pending_count(user) -> int:
    """Pending requests on ``user``'s desk (the header badge of every page): ``desk(user).pending().count()`` by a
    statement compiled once per process."""
    if user is None or not user.is_authenticated:
        return 0
    today = organisation_today()
    return _PENDING_ON_DESK.value(user.pk, user.pk, user.pk, user.pk, today, today, default=0)


_PENDING_ON_DESK = Precompiled(
    lambda *placeholders: (
        _desk_of(*placeholders).pending().order_by().values("status").annotate(n=Count("pk")).values_list("n")
    ),
    # Stand for the person and the day while the SQL is compiled: no user has these ids, no absence these days.
    -7_100_501, -7_100_502, -7_100_503, -7_100_504, date(1901, 1, 2), date(1901, 1, 3),
)


def with_people(queryset: QuerySet) -> QuerySet:
    return queryset.select_related(
        "ticket__queue",
        "ticket__ticket_type",
        "ticket__customer",
        "ticket__performer__profile",
        "requested_by__profile",
        "addressed_to__profile",
        "decided_by__profile",
        "cause",
    )


_PANEL_REQUESTS = Precompiled(
    lambda ticket_id: (
        DeferralRequest.objects.filter(ticket_id=ticket_id)
        .exclude(status=Verdict.WITHDRAWN)
        .select_related("cause")
        .order_by(
            Case(When(status=Verdict.PENDING, then=Value(0)), default=Value(1)),
            F("decided_at").desc(nulls_last=True),
            "-pk",
        )[:2]
    ),
    -7_100_702,  # stands for the ticket while the SQL is compiled: no ticket has it
)


def pending_for_ticket(ticket: Ticket) -> DeferralRequest | None:
    return with_people(DeferralRequest.objects.pending().filter(ticket=ticket)).first()


def last_decided_for_ticket(ticket: Ticket) -> DeferralRequest | None:
    return with_people(DeferralRequest.objects.decided().filter(ticket=ticket)).order_by("-decided_at", "-pk").first()


def panel_requests(ticket: Ticket) -> tuple[DeferralRequest | None, DeferralRequest | None]:
    """The ticket page's deferral panel: (the pending request, the last decided one), in one query when neither.

    At most one request of a ticket is pending (``deferral_one_pending_per_ticket``): ordered first, then the
    decided ones newest first, two rows answer both. The panel draws people and the cause, never the ticket's own
    relations; the rows carry the ``ticket`` given. The people it names (addressed to, decided by, with profiles)
    are read by a second query only when there is a request: most tickets have none, and joined to every
    request the six tables of two people cost PostgreSQL more to plan than the query took to run.
    """
    rows = _PANEL_REQUESTS.objects(ticket.pk, using=router.db_for_read(DeferralRequest))
    load_people(rows, "addressed_to", "decided_by")
    for row in rows:
        row.ticket = ticket
    pending = rows[0] if rows and rows[0].status == Verdict.PENDING else None
    last = next((row for row in rows if row.status != Verdict.PENDING), None)
    return pending, last


def inbox(user) -> QuerySet:
    """Pending requests on ``user``'s desk, oldest first."""
    return with_people(desk(user).pending()).order_by("created_at", "pk")


def team_pending(user) -> QuerySet:
    """Every pending request ``user`` may decide (all of them for admins), oldest first."""
    return with_people(approvable(user).pending()).order_by("created_at", "pk")


def approval_ticket(deferral: DeferralRequest) -> Ticket:
    """The request's ticket with what the approval screen shows: people, conversation, history, SLA clocks."""
    return (
        with_clocks(Ticket.objects.all())
        .select_related(
            "customer__vip_tier",
            "queue",
            "ticket_type",
            "blocking_reason",
            "performer__profile",
            "owner__profile",
            "approver__profile",
            "related_object",
        )
        .prefetch_related(
            Prefetch("messages", queryset=Message.objects.select_related("author__profile", "customer")),
            Prefetch("events", queryset=TicketEvent.objects.select_related("actor__profile")),
        )
        .get(pk=deferral.ticket_id)
    )


def earlier_deferrals(deferral: DeferralRequest, now: datetime | None = None) -> list[DeferralRequest]:
    """The requester's other requests: on this ticket (any time) and on any ticket in the last 90 days."""
    since = (now or timezone.now()) - timedelta(days=EARLIER_DAYS)
    return list(
        with_people(
            DeferralRequest.objects.filter(requested_by_id=deferral.requested_by_id)
            .filter(Q(ticket_id=deferral.ticket_id) | Q(created_at__gte=since))
            .exclude(pk=deferral.pk)
        ).order_by("-created_at", "-pk")
    )


@dataclass(frozen=True)
class Distance:
    value: timedelta
    business: bool  # measured on the ticket's SLA calendar (else calendar time)

    @property
    def text(self) -> str:
        return format_duration(self.value)


def ticket_calendar(ticket: Ticket):
    """The work calendar of the ticket's SLA clocks (resolution first), or None (then calendar time counts)."""
    clocks = current_clocks(ticket.sla_clocks.all())
    clock = next((c for c in clocks if c.kind == "resolution"), None) or (clocks[0] if clocks else None)
    return clock.calendar.work_calendar() if clock is not None else None


def distance(calendar, start: datetime | None, end: datetime | None) -> Distance | None:
    """Business time between two instants on ``calendar`` (calendar time without one); None when not later."""
    if start is None or end is None or end <= start:
        return None
    if not (dates.in_range(start) and dates.in_range(end)):  # a stored value from before the bound (issue 19)
        return None
    if calendar is None:
        return Distance(end - start, business=False)
    return Distance(calendar.between(start, end), business=True)


def active_causes() -> QuerySet:
    return DeferralCause.objects.filter(is_active=True)
