"""Selectors of the manager dashboard and the reports: a constant number of aggregate queries.

Every figure is scoped to the tickets the viewer may see (``Ticket.objects.visible_to``)
and comes with the ticket-list link that shows the tickets behind it (``portal.filters``).
Periods are whole local dates of the viewer (``reports.selectors.Period``); each period
figure is computed for the period and for the previous period of equal length in the
same query. Definitions: docs/reports.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple
from urllib.parse import urlencode

from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DurationField,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from deferrals.models import DeferralRequest
from escalations.models import Firing, ManualEscalation
from reports import clockfigures, metrics, rollups, ticketfigures
from reports.models import TicketFact
from reports.selectors import Period
from sla.models import Calendar, SLAClock
from tickets import access
from tickets.models import OPEN_STATUSES, Channel, Queue, Status, Ticket, TicketEvent, WaitSegment
from tickets.visibility import Visibility, visibility_of

Kind = SLAClock.Kind
State = SLAClock.State
KINDS = (Kind.FIRST_RESPONSE, Kind.RESOLUTION)
RED_SHARE = 0.8  # the red zone starts at 80 % of the target consumed
ZERO = timedelta(0)
# Firings the demo seed wrote are not escalations. ``exclude(data__seeded=True)`` would also drop every
# firing without the key (SQL: NOT (NULL = true) is NULL), so say "no key, or not true".
NOT_SEEDED = Q(data__seeded__isnull=True) | Q(data__seeded=False)


# --- who, which tickets, which period ---------------------------------------------------------------


def can_view(user) -> bool:
    """Dispatchers, managers and admins see the dashboard and the reports; engineers do not."""
    return bool(
        user and user.is_authenticated
        and (user.is_superuser or access.roles_of(user) & {access.DISPATCHER, access.MANAGER, access.ADMIN})
    )


@dataclass(frozen=True)
class Scope:
    """The tickets a report counts: those ``user`` may see, optionally of one queue and one type."""

    user: object
    queue: object = None
    ticket_type: object = None

    @property
    def visibility(self) -> Visibility:
        return visibility_of(self.user)

    def narrow(self, queryset: QuerySet, prefix: str = "", **options) -> QuerySet:
        """``queryset`` (of tickets, or of rows reaching their ticket through ``prefix``) narrowed to the scope.

        ``options`` go to ``Visibility.q`` (``ticket_pk``, ``observed``) for tables that copy ticket columns.
        """
        queryset = self.visibility.filter(queryset, prefix, **options)
        if self.queue is not None:
            queryset = queryset.filter(**{f"{prefix}queue": self.queue})
        if self.ticket_type is not None:
            queryset = queryset.filter(**{f"{prefix}ticket_type": self.ticket_type})
        return queryset

    def tickets(self) -> QuerySet:
        """The tickets in scope: ``Ticket.objects.visible_to`` resolved to id sets (``tickets.visibility``)."""
        return self.narrow(Ticket.objects.all())

    @property
    def unrestricted(self) -> bool:
        return self.queue is None and self.ticket_type is None and access.sees_everything(self.user)


def as_scope(who) -> Scope:
    return who if isinstance(who, Scope) else Scope(who)


def scope(who) -> QuerySet:
    return as_scope(who).tickets()


def _scoped(queryset: QuerySet, who, field: str = "ticket") -> QuerySet:
    """``queryset`` narrowed to rows whose ticket is in scope (no condition for those who see all).

    The condition is put on the joined ticket's columns (``queue_id IN (…) OR performer_id IN (…) …``)
    rather than ``ticket_id IN (SELECT visible tickets)``, so the period index of ``queryset`` drives the plan.
    """
    who = as_scope(who)
    if who.unrestricted:
        return queryset
    return who.narrow(queryset, f"{field}__")


def previous(period: Period) -> Period:
    days = (period.last - period.first).days + 1
    return Period(period.first - timedelta(days=days), period.first - timedelta(days=1), period.tz)


def preset(name: str, today: date, tz) -> Period:
    """today | 7d | 30d: whole local days ending today."""
    days = {"today": 1, "7d": 7, "30d": 30}[name]
    return Period(today - timedelta(days=days - 1), today, tz)


def _bucket(field_name: str, period: Period):
    """1 for rows in the period, 0 for the previous period (the query covers both)."""
    return Case(When(**{f"{field_name}__gte": period.start}, then=Value(1)), default=Value(0),
                output_field=IntegerField())


def _both(field_name: str, period: Period) -> Q:
    return Q(**{f"{field_name}__gte": previous(period).start, f"{field_name}__lt": period.end})


def ticket_list_url(**params) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "", False)}
    clean = {k: ("on" if v is True else v) for k, v in clean.items()}
    return reverse("tickets:list") + ("?" + urlencode(clean) if clean else "")


def period_params(period: Period) -> dict:
    return {"period_from": period.first.isoformat(), "period_to": period.last.isoformat()}


def bilingual(name: str, name_ru: str) -> str:
    return name_ru if name_ru and (get_language() or "").startswith("ru") else (name or "")


# --- Now --------------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Figure:
    label: str
    value: object
    url: str = ""
    change: metrics.Change | None = None
    unit: str = ""
    key: str = ""


@dataclass
class NowFigures:
    open: Figure
    red_zone: Figure
    unassigned: Figure
    no_next_step: Figure
    pending_deferrals: Figure
    waiting: list[Figure] = field(default_factory=list)

    @property
    def main(self) -> list[Figure]:
        return [self.open, self.red_zone, self.unassigned, self.no_next_step, self.pending_deferrals]


def now_figures(user, now: datetime) -> NowFigures:
    tickets = scope(user)
    counts = tickets.filter(status__in=OPEN_STATUSES).aggregate(
        open=Count("pk"),
        unassigned=Count("pk", filter=Q(performer__isnull=True)),
        no_next_step=Count("pk", filter=Q(next_step="")),
    )
    waiting = (
        tickets.filter(status=Status.WAITING)
        .values("blocking_reason_id", "blocking_reason__name", "blocking_reason__name_ru", "blocking_reason__position")
        .annotate(n=Count("pk"))
        .order_by("-n", "blocking_reason__position")
    )
    pending = _scoped(DeferralRequest.objects.filter(status=DeferralRequest.Status.PENDING), user).count()
    red = red_zone_ticket_ids(tickets.order_by().values("pk"), now)
    return NowFigures(
        open=Figure(_("Open tickets"), counts["open"], ticket_list_url(open=True), key="open"),
        red_zone=Figure(_("In the red zone"), len(red), ticket_list_url(zone="red"), key="red_zone"),
        unassigned=Figure(_("Without performer"), counts["unassigned"], ticket_list_url(unassigned=True),
                          key="unassigned"),
        no_next_step=Figure(_("Without next step"), counts["no_next_step"], ticket_list_url(no_next_step=True),
                            key="no_next_step"),
        pending_deferrals=Figure(_("Deferrals pending"), pending, ticket_list_url(deferral_pending=True),
                                 key="pending_deferrals"),
        waiting=[
            Figure(bilingual(r["blocking_reason__name"], r["blocking_reason__name_ru"]), r["n"],
                   ticket_list_url(status=Status.WAITING, blocking_reason=r["blocking_reason_id"]),
                   key=f"waiting-{r['blocking_reason_id']}")
            for r in waiting
        ],
    )


# --- Period: clock statistics -------------------------------------------------------------------------------


class Percentile(Aggregate):
    """PostgreSQL's ``percentile_cont`` (linear interpolation, as ``metrics.percentile``)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=repr(float(fraction)), output_field=DurationField(), **extra)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def stopped_clocks(user, start: datetime, end: datetime) -> QuerySet:
    """First-response and resolution clocks stopped in [start, end) that count for compliance."""
    return _scoped(
        SLAClock.objects.filter(
            kind__in=KINDS, state=State.STOPPED, counts_for_compliance=True, stopped_at__gte=start, stopped_at__lt=end
        ),
        user,
    )


@dataclass(frozen=True)
class ClockStats:
    total: int = 0
    met: int = 0
    average: float | None = None  # business seconds
    median: float | None = None
    p90: float | None = None

    @property
    def compliance(self) -> float | None:
        return metrics.share(self.met, self.total)

    @property
    def breached(self) -> int:
        return self.total - self.met


def _seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # SQLite hands averages of durations over as microseconds


def _ticket_records(who, period: Period):
    """The period's ticket rollup records (``reports.ticketfigures``), or ``None``: then the tickets are read."""
    return ticketfigures.ticket_records(as_scope(who), period, previous(period))


def _records(who, period: Period):
    """The period's rollup records (``reports.clockfigures``), or ``None``: then the clocks are read."""
    return clockfigures.rollup_records(as_scope(who), period, previous(period))


def clock_stats(user, period: Period) -> dict[tuple[int, str], ClockStats]:
    """(bucket, kind) → stats; bucket 1 is ``period``, 0 the previous period."""
    records = _records(user, period)
    if records is not None:
        percentiles = records.percentiles()
        if all(v is not None for v in percentiles.values()):
            return {
                (bucket, kind): ClockStats(total, met, consumed / total if total else None,
                                           percentiles.get((bucket, kind, 0.5)), percentiles.get((bucket, kind, 0.9)))
                for (bucket, kind), (total, met, consumed, _bins) in records.totals().items()
                if total
            }
    base = stopped_clocks(user, previous(period).start, period.end).annotate(bucket=_bucket("stopped_at", period))
    aggregates = {
        "total": Count("pk"),
        "met": Count("pk", filter=Q(breached_at__isnull=True)),
        "average": Avg("consumed"),
    }
    if _pg():
        aggregates.update(median=Percentile("consumed", 0.5), p90=Percentile("consumed", 0.9))
    rows = base.values("bucket", "kind").annotate(**aggregates).order_by()
    values: dict[tuple[int, str], list[float]] = defaultdict(list)
    if not _pg():
        for bucket, kind, consumed in base.values_list("bucket", "kind", "consumed").order_by():
            values[(bucket, kind)].append(consumed.total_seconds())
    result = {}
    for row in rows:
        key = (row["bucket"], row["kind"])
        if _pg():
            median, p90 = _seconds(row["median"]), _seconds(row["p90"])
        else:
            median, p90 = metrics.percentile(values[key], 0.5), metrics.percentile(values[key], 0.9)
        result[key] = ClockStats(row["total"], row["met"], _seconds(row["average"]), median, p90)
    return result


@dataclass
class PeriodFigures:
    period: Period
    previous: Period
    compliance: list[Figure]
    times: list[dict]
    on_time: Figure
    escalations: list[Figure]
    manual: list[Figure]


def _dur(seconds: float | None) -> str:
    from sla.selectors import format_duration

    return "—" if seconds is None else format_duration(timedelta(seconds=round(seconds)))


def period_figures(user, period: Period) -> PeriodFigures:
    prev = previous(period)
    stats = clock_stats(user, period)
    params = period_params(period)
    labels = {Kind.FIRST_RESPONSE: _("First response"), Kind.RESOLUTION: _("Resolution")}
    compliance, times = [], []
    for kind in KINDS:
        now_s, then_s = stats.get((1, kind), ClockStats()), stats.get((0, kind), ClockStats())
        compliance.append(Figure(
            _("%(clock)s compliance") % {"clock": labels[kind]}, now_s.compliance,
            ticket_list_url(sla_clock=kind, **params), metrics.change(now_s.compliance, then_s.compliance),
            unit="%", key=f"compliance-{kind}",
        ))
        times.append({
            "kind": kind, "label": labels[kind], "count": now_s.total,
            "url": ticket_list_url(sla_clock=kind, **params),
            "breached": now_s.breached,
            "breached_url": ticket_list_url(sla_clock=kind, sla_result="breached", **params),
            "rows": [
                (_("Median"), now_s.median, then_s.median),
                (_("Average"), now_s.average, then_s.average),
                (_("90th percentile"), now_s.p90, then_s.p90),
            ],
        })
    for item in times:
        item["rows"] = [
            {"label": label, "current": _dur(cur), "previous": _dur(prev_v),
             "change": metrics.change(cur / 60 if cur is not None else None,
                                      prev_v / 60 if prev_v is not None else None)}
            for label, cur, prev_v in item["rows"]
        ]
    tickets = _ticket_records(user, period)
    if tickets is not None:
        closed = {bucket: {"n": n, "on_time": on_time} for bucket, (n, on_time) in tickets.closed().items()}
    else:
        done = scope(user).filter(Q(status=Status.DONE) & _both("done_at", period)).annotate(
            bucket=_bucket("done_at", period)
        )
        in_time = Q(deadline__isnull=True) | Q(done_at__lte=F("deadline"))
        closed = {
            row["bucket"]: row
            for row in done.values("bucket").annotate(n=Count("pk"), on_time=Count("pk", filter=in_time)).order_by()
        }

    def closed_share(bucket):
        row = closed.get(bucket, {"n": 0, "on_time": 0})
        return metrics.share(row["on_time"], row["n"])

    on_time = Figure(_("Closed on time"), closed_share(1), ticket_list_url(done_in_period=True, **params),
                     metrics.change(closed_share(1), closed_share(0)), unit="%", key="on_time")

    firings = (
        _scoped(Firing.objects.filter(_both("fired_at", period) & NOT_SEEDED), user)
        .annotate(bucket=_bucket("fired_at", period))
        .values("bucket", "level__order")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_level: dict[int, dict[int, int]] = defaultdict(lambda: {0: 0, 1: 0})
    for row in firings:
        by_level[row["level__order"]][row["bucket"]] += row["n"]
    escalations = [
        Figure(_("Level %(order)s") % {"order": order}, counts[1],
               ticket_list_url(escalation_level=order, **params), metrics.change(counts[1], counts[0]),
               key=f"level-{order}")
        for order, counts in sorted(by_level.items())
    ]
    manual_rows = (
        _scoped(ManualEscalation.objects.filter(_both("created_at", period)), user)
        .annotate(bucket=_bucket("created_at", period))
        .values("bucket", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_kind: dict[str, dict[int, int]] = {k: {0: 0, 1: 0} for k in ManualEscalation.Kind.values}
    for row in manual_rows:
        by_kind[row["kind"]][row["bucket"]] += row["n"]
    manual = [
        Figure(str(ManualEscalation.Kind(kind).label), counts[1],
               ticket_list_url(manual_escalation=kind, **params), metrics.change(counts[1], counts[0]),
               key=f"manual-{kind}")
        for kind, counts in by_kind.items()
    ]
    return PeriodFigures(period, prev, compliance, times, on_time, escalations, manual)


# --- Breakdowns -----------------------------------------------------------------------------------------------

DIMENSIONS = {
    "agent": {"label": "Agent", "fields": ("ticket__performer_id", "ticket__performer__profile__display_name",
                                           "ticket__performer__username"), "param": "performer"},
    "queue": {"label": "Queue", "fields": ("ticket__queue_id", "ticket__queue__name", "ticket__queue__name_ru"),
              "param": "queue"},
    "type": {"label": "Type", "fields": ("ticket__ticket_type_id", "ticket__ticket_type__name",
                                         "ticket__ticket_type__name_ru"), "param": "ticket_type"},
    "tier": {"label": "Customer tier", "fields": ("ticket__customer__vip_tier_id", "ticket__customer__vip_tier__name"),
             "param": "tier"},
    "channel": {"label": "Channel", "fields": ("ticket__channel",), "param": "channel"},
    "policy": {"label": "SLA policy", "fields": ("policy_id", "policy__name"), "param": ""},
}


def dimension_label(name: str) -> str:
    return {
        "agent": _("Agent"), "queue": _("Queue"), "type": _("Type"), "tier": _("Customer tier"),
        "channel": _("Channel"), "policy": _("SLA policy"),
    }[name]


def _group_name(dimension: str, row: dict) -> str:
    fields = DIMENSIONS[dimension]["fields"]
    key = row[fields[0]]
    if key is None or key == "":
        return {"agent": _("Nobody"), "tier": _("No tier"), "type": _("No type")}.get(dimension, "—")
    if dimension == "agent":
        return row[fields[1]] or row[fields[2]]
    if dimension in ("queue", "type"):
        return bilingual(row[fields[1]], row[fields[2]])
    if dimension == "channel":
        return str(Channel(key).label) if key in Channel.values else key
    return row[fields[1]]


def breakdown(user, period: Period, dimension: str, *, clocks: QuerySet | None = None) -> list[dict]:
    """Per group of ``dimension``: first response and resolution counts, compliance and average times."""
    fields = DIMENSIONS[dimension]["fields"]
    records = _records(user, period)
    if records is not None:
        rows = _breakdown_rows(records, dimension)
    else:
        clocks = clocks if clocks is not None else stopped_clocks(user, period.start, period.end)
        rows = (
            clocks.values(*fields, "kind")
            .annotate(total=Count("pk"), met=Count("pk", filter=Q(breached_at__isnull=True)),
                      average=Avg("consumed"))
            .order_by()
        )
    groups: dict = {}
    params = period_params(period)
    param = DIMENSIONS[dimension]["param"]
    for row in rows:
        key = row[fields[0]]
        group = groups.get(key)
        if group is None:
            link = {}
            if param and key not in (None, ""):
                link = {param: key}
            elif param == "tier":
                link = {"tier": "null"}
            group = groups[key] = {"key": key, "name": _group_name(dimension, row), "link": link}
            for kind in KINDS:
                prefix = "fr" if kind == Kind.FIRST_RESPONSE else "res"
                group.update({f"{prefix}_total": 0, f"{prefix}_met": 0, f"{prefix}_compliance": None,
                              f"{prefix}_average": None, f"{prefix}_breached": 0,
                              f"{prefix}_url": "", f"{prefix}_breached_url": ""})
        prefix = "fr" if row["kind"] == Kind.FIRST_RESPONSE else "res"
        group[f"{prefix}_total"] = row["total"]
        group[f"{prefix}_met"] = row["met"]
        group[f"{prefix}_breached"] = row["total"] - row["met"]
        group[f"{prefix}_compliance"] = metrics.share(row["met"], row["total"])
        group[f"{prefix}_average"] = _seconds(row["average"])
        if group["link"] or not param:
            group[f"{prefix}_url"] = ticket_list_url(sla_clock=row["kind"], **params, **group["link"]) if param else ""
            group[f"{prefix}_breached_url"] = (
                ticket_list_url(sla_clock=row["kind"], sla_result="breached", **params, **group["link"]) if param
                else ""
            )
    return sorted(groups.values(), key=lambda g: (-(g["fr_total"] + g["res_total"]), str(g["name"])))


# The rollup column of each breakdown, and how to name its values (one query per breakdown).
_ROLLUP_DIMENSION = {
    "agent": "performer_id", "queue": "queue_id", "type": "ticket_type_id", "tier": "tier_id",
    "channel": "channel", "policy": "policy_id",
}


def _names(dimension: str, ids: set) -> dict:
    """id → the row fields ``_group_name`` reads, as the clocks' query would have given them."""
    from django.contrib.auth import get_user_model

    from sla.models import SLAPolicy
    from tickets.models import Queue, TicketType, VipTier

    fields = DIMENSIONS[dimension]["fields"]
    ids = {i for i in ids if i not in (None, "")}
    if dimension == "channel" or not ids:
        return {}
    if dimension == "agent":
        found = get_user_model().objects.filter(pk__in=ids).values_list("pk", "profile__display_name", "username")
    elif dimension == "queue":
        found = Queue.objects.filter(pk__in=ids).values_list("pk", "name", "name_ru")
    elif dimension == "type":
        found = TicketType.objects.filter(pk__in=ids).values_list("pk", "name", "name_ru")
    elif dimension == "tier":
        found = VipTier.objects.filter(pk__in=ids).values_list("pk", "name")
    else:
        found = SLAPolicy.objects.filter(pk__in=ids).values_list("pk", "name")
    return {row[0]: dict(zip(fields[1:], row[1:], strict=True)) for row in found}


def _breakdown_rows(records, dimension: str) -> list[dict]:
    """The clocks' breakdown rows (ids, names, kind, total, met, average) summed from rollup records."""
    column = _ROLLUP_DIMENSION[dimension]
    fields = DIMENSIONS[dimension]["fields"]
    sums = records.grouped(column)
    names = _names(dimension, {key for key, _kind in sums})
    rows = []
    for (key, kind), (total, met, consumed) in sums.items():
        row = {fields[0]: key, **dict.fromkeys(fields[1:]), **names.get(key, {})}
        row.update(kind=kind, total=total, met=met, average=timedelta(seconds=consumed / total) if total else None)
        rows.append(row)
    return rows


def top_violators(user, period: Period, *, limit: int = 10) -> dict:
    """The breached clocks stopped in the period with the most overdue time, and the customers with most breaches."""
    if _records(user, period) is not None:  # the facts hold the same clocks without the joins
        breached = clockfigures.facts_in_scope(as_scope(user)).filter(
            stopped_at__gte=period.start, stopped_at__lt=period.end, met=False
        )
        worst = list(
            breached.annotate(overdue=F("consumed_s") - F("target_s"))
            .values_list("ticket_id", "kind", "overdue")
            .order_by("-overdue", "pk")[:limit]
        )
        customers = [
            {"ticket__customer__name": row["customer__name"], "n": row["n"], "tickets": row["tickets"]}
            for row in breached.values("customer_id", "customer__name")
            .annotate(n=Count("pk"), tickets=Count("ticket_id", distinct=True))
            .order_by("-n", "customer__name")[:limit]
        ]
    else:
        breached = stopped_clocks(user, period.start, period.end).filter(breached_at__isnull=False)
        worst = [
            (c.ticket_id, c.kind, (c.consumed - c.target).total_seconds())
            for c in breached.annotate(overdue=F("consumed") - F("target"))
            .only("ticket_id", "kind", "consumed", "target").order_by("-overdue", "pk")[:limit]
        ]
        customers = list(
            breached.values("ticket__customer_id", "ticket__customer__name")
            .annotate(n=Count("pk"), tickets=Count("ticket_id", distinct=True))
            .order_by("-n", "ticket__customer__name")[:limit]
        )
    titles = Ticket.objects.in_bulk([ticket_id for ticket_id, _kind, _overdue in worst])
    params = period_params(period)
    return {
        "tickets": [
            {"ticket": titles[ticket_id], "kind": str(Kind(kind).label), "overdue": overdue,
             "overdue_text": _dur(overdue), "url": reverse("tickets:detail", args=[ticket_id])}
            for ticket_id, kind, overdue in worst
        ],
        "customers": [
            {"name": r["ticket__customer__name"], "breaches": r["n"], "tickets": r["tickets"],
             "url": ticket_list_url(customer=r["ticket__customer__name"], sla_result="breached",
                                    sla_clock=Kind.RESOLUTION, **params)}
            for r in customers
        ],
    }


# --- Workload -----------------------------------------------------------------------------------------------------


def workload(user, period: Period) -> dict:
    """Per person: open now, taken (assigned to them) and done in the period; per queue: open, created, done."""
    tickets = scope(user)
    params = period_params(period)
    open_by_person = dict(
        tickets.filter(status__in=OPEN_STATUSES, performer__isnull=False)
        .values_list("performer_id").annotate(n=Count("pk")).order_by()
    )
    done_in = tickets.filter(Q(status=Status.DONE, done_at__gte=period.start, done_at__lt=period.end))
    records = _ticket_records(user, period)
    if records is not None:
        done_by_person = records.count("performer_id", TicketFact.Kind.DONE)
        taken = records.count("person_id", TicketFact.Kind.TAKEN)
    else:
        done_by_person = dict(
            done_in.filter(performer__isnull=False).values_list("performer_id").annotate(n=Count("pk")).order_by()
        )
        taken = dict(
            _scoped(TicketEvent.objects.filter(kind="ticket.assigned", created_at__gte=period.start,
                                               created_at__lt=period.end), user)
            .values_list("data__performer__id").annotate(n=Count("pk")).order_by()
        )
    done_by_person = {pk: n for pk, n in done_by_person.items() if pk is not None}
    taken = {int(k): v for k, v in taken.items() if k is not None}
    from django.contrib.auth import get_user_model

    person_ids = set(open_by_person) | set(done_by_person) | set(taken)
    names = {
        u.pk: (u.profile.display_name if hasattr(u, "profile") and u.profile.display_name else u.get_username())
        for u in get_user_model().objects.filter(pk__in=person_ids).select_related("profile")
    }
    people = sorted(
        (
            {"name": names.get(pk, str(pk)), "open": open_by_person.get(pk, 0), "taken": taken.get(pk, 0),
             "done": done_by_person.get(pk, 0),
             "open_url": ticket_list_url(open=True, performer=pk),
             "done_url": ticket_list_url(done_in_period=True, performer=pk, **params)}
            for pk in person_ids
        ),
        key=lambda r: (-r["open"], r["name"]),
    )
    counts: dict[str, dict] = {
        "open": dict(tickets.filter(status__in=OPEN_STATUSES).values_list("queue_id").annotate(n=Count("pk"))
                     .order_by()),
    }
    if records is not None:
        counts["created"] = records.count("queue_id", TicketFact.Kind.CREATED)
        counts["done"] = records.count("queue_id", TicketFact.Kind.DONE)
    else:
        counts["created"] = dict(tickets.filter(created_at__gte=period.start, created_at__lt=period.end)
                                 .values_list("queue_id").annotate(n=Count("pk")).order_by())
        counts["done"] = dict(done_in.values_list("queue_id").annotate(n=Count("pk")).order_by())
    queue_names = Queue.objects.in_bulk({pk for found in counts.values() for pk in found if pk is not None})
    per_queue: dict = {}
    for label, found in counts.items():
        for queue_id, n in found.items():
            queue = queue_names.get(queue_id)
            if queue is None or not n:
                continue
            entry = per_queue.setdefault(queue_id, {
                "name": bilingual(queue.name, queue.name_ru), "open": 0, "created": 0, "done": 0,
                "open_url": ticket_list_url(open=True, queue=queue_id),
                "created_url": ticket_list_url(created_in_period=True, queue=queue_id, **params),
                "done_url": ticket_list_url(done_in_period=True, queue=queue_id, **params),
            })
            entry[label] = n
    queues = sorted(per_queue.values(), key=lambda r: (-r["open"], r["name"]))
    return {"people": people, "queues": queues}


# --- Charts' data -----------------------------------------------------------------------------------------------

HISTOGRAM_EDGES_MIN = tuple(int(s // 60) for s in rollups.HISTOGRAM_EDGES_S)  # 15 min … 8 h


def daily_compliance(user, period: Period) -> list[dict]:
    """Per local day of the period: resolution and first-response compliance of the clocks stopped that day."""
    records = _records(user, period)
    if records is not None:
        rows = [{"day": day, "kind": kind, "total": total, "met": met}
                for (day, kind), (total, met, _consumed) in records.daily().items()]
    else:
        rows = (
            stopped_clocks(user, period.start, period.end)
            .annotate(day=TruncDate("stopped_at", tzinfo=period.tz))
            .values("day", "kind")
            .annotate(total=Count("pk"), met=Count("pk", filter=Q(breached_at__isnull=True)))
            .order_by()
        )
    by_day: dict[date, dict] = {}
    for row in rows:
        day = row["day"] if isinstance(row["day"], date) else date.fromisoformat(str(row["day"]))
        by_day.setdefault(day, {})[row["kind"]] = (row["met"], row["total"])
    days = []
    current = period.first
    while current <= period.last:
        entry = by_day.get(current, {})
        fr = entry.get(Kind.FIRST_RESPONSE, (0, 0))
        res = entry.get(Kind.RESOLUTION, (0, 0))
        days.append({
            "day": current, "fr_total": fr[1], "fr_met": fr[0], "fr": metrics.share(*fr),
            "res_total": res[1], "res_met": res[0], "res": metrics.share(*res),
            "url": ticket_list_url(sla_clock=Kind.RESOLUTION, period_from=current.isoformat(),
                                   period_to=current.isoformat()),
        })
        current += timedelta(days=1)
    return days


def first_response_histogram(user, period: Period) -> list[dict]:
    """First-response clocks stopped in the period by business time taken, in fixed bins."""
    clocks = stopped_clocks(user, period.start, period.end).filter(kind=Kind.FIRST_RESPONSE)
    edges = [timedelta(minutes=m) for m in HISTOGRAM_EDGES_MIN]
    bins = []
    low = ZERO
    for edge in [*edges, None]:
        condition = Q(consumed__gte=low) if low else Q()
        if edge is not None:
            condition &= Q(consumed__lt=edge)
        bins.append((low, edge, condition))
        low = edge
    records = _records(user, period)
    if records is not None:
        counts = {f"b{i}": 0 for i in range(len(bins))}
        cuts = [e.total_seconds() for e in edges]
        merged = records.totals().get((1, Kind.FIRST_RESPONSE), [0, 0, 0.0, {}])[3]
        for index, n in merged.items():
            low_s = rollups.bin_bounds(int(index))[0]  # the edges are bin edges: a bin lies in one histogram bar
            counts[f"b{sum(1 for cut in cuts if low_s >= cut)}"] += n
    else:
        counts = clocks.aggregate(**{f"b{i}": Count("pk", filter=cond) for i, (_l, _e, cond) in enumerate(bins)})

    def label(minutes: float) -> str:
        return _("%(n)s h") % {"n": f"{minutes / 60:g}"} if minutes >= 60 else _("%(n)s min") % {"n": f"{minutes:g}"}

    result = []
    for i, (low, edge, _cond) in enumerate(bins):
        lo_min = low.total_seconds() / 60
        if edge is None:
            text = "≥ " + label(lo_min)
        elif not lo_min:
            text = "< " + label(edge.total_seconds() / 60)
        else:
            text = f"{label(lo_min)} – {label(edge.total_seconds() / 60)}"
        result.append({"label": text, "count": counts[f"b{i}"]})
    return result


def waiting_by_reason(user, period: Period, *, group: str = "reason", limit: int | None = None) -> list[dict]:
    """Business time spent waiting in segments that ended in the period, summed per reason (or queue, customer)."""
    fields = {
        "reason": ("reason_id", "reason__name", "reason__name_ru"),
        "queue": ("queue_id", "queue__name", "queue__name_ru"),
        "customer": ("customer_id", "customer__name", "customer__name"),
    }[group]
    segments = _scoped(WaitSegment.objects.filter(ended_at__gte=period.start, ended_at__lt=period.end), user)
    rows = (
        segments.values(*fields)
        .annotate(seconds=Sum("business_seconds"), n=Count("pk"), tickets=Count("ticket_id", distinct=True))
        .order_by("-seconds", fields[1])
    )
    if limit:
        rows = rows[:limit]
    params = period_params(period)
    result = []
    for row in rows:
        link = {"waited": row["reason_id"]} if group == "reason" else (
            {"queue": row["queue_id"]} if group == "queue" else {"customer": row["customer__name"]}
        )
        result.append({
            "key": row[fields[0]], "name": bilingual(row[fields[1]], row[fields[2]]),
            "seconds": row["seconds"] or 0.0, "hours": round((row["seconds"] or 0.0) / 3600, 1),
            "segments": row["n"], "tickets": row["tickets"],
            "url": ticket_list_url(**link, **params) if group == "reason" else ticket_list_url(**link),
        })
    return result
