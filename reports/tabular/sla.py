"""The SLA report: compliance and times, the breakdowns, and the breaches with their cause."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import NamedTuple

from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from escalations.models import Firing, ManualEscalation
from reports import clockfigures, satisfaction
from reports.dashboard.breakdowns import breakdown, dimension_label
from reports.dashboard.clocks import ClockStats, clock_stats, stopped_clocks
from reports.dashboard.common import KINDS, NOT_SEEDED, Kind, clock_records, period_params, ticket_list_url
from reports.dashboard.scoping import in_scope
from reports.tabular.report import Report, Section, table
from tickets.models import TicketEvent, WaitSegment

BREAKDOWN_COLUMNS = [
    ("name", gettext_lazy("Group"), "text"),
    ("fr_total", gettext_lazy("First responses"), "int", "fr_url"),
    ("fr_compliance", gettext_lazy("First response met"), "pct"),
    ("fr_average", gettext_lazy("Average first response"), "dur"),
    ("res_total", gettext_lazy("Resolutions"), "int", "res_url"),
    ("res_compliance", gettext_lazy("Resolution met"), "pct"),
    ("res_average", gettext_lazy("Average resolution"), "dur"),
    ("res_breached", gettext_lazy("Resolution breaches"), "int", "res_breached_url"),
]


def sla_report(scope, period, form) -> Report:
    report = Report("sla", _("SLA report"), _(
        "Clocks stopped in the period that count for compliance; times are business time on each clock's calendar."
    ), period)
    stats = clock_stats(scope, period)
    params = period_params(period)
    summary = []
    for kind in KINDS:
        now_s, then_s = stats.get((1, kind), ClockStats()), stats.get((0, kind), ClockStats())
        summary.append({
            "clock": str(Kind(kind).label), "total": now_s.total, "breached": now_s.breached,
            "compliance": now_s.compliance, "previous": then_s.compliance, "median": now_s.median,
            "average": now_s.average, "p90": now_s.p90,
            "url": ticket_list_url(sla_clock=kind, **params),
            "breached_url": ticket_list_url(sla_clock=kind, sla_result="breached", **params),
        })
    report.sections.append(Section("summary", _("Compliance and times"), table(summary, [
        ("clock", _("Clock"), "text"), ("total", _("Stopped"), "int", "url"),
        ("breached", _("Breached"), "int", "breached_url"), ("compliance", _("Met"), "pct"),
        ("previous", _("Met, previous period"), "pct"), ("median", _("Median"), "dur"),
        ("average", _("Average"), "dur"), ("p90", _("90th percentile"), "dur"),
    ], prefix="summary-")))
    clocks = stopped_clocks(scope, period.start, period.end)
    for name in ("policy", "type", "queue", "agent", "tier"):
        rows = breakdown(scope, period, name, clocks=clocks)
        columns = [(BREAKDOWN_COLUMNS[0][0], dimension_label(name), "text"), *BREAKDOWN_COLUMNS[1:]]
        report.sections.append(Section(name, _("By %(dimension)s") % {"dimension": dimension_label(name).lower()},
                                       table(rows, columns, prefix=f"{name}-")))
    satisfaction_sections(report, scope, period)
    report.sections.append(Section("sending", _("First replies: from the click to the sending instant"),
                                   table([sending_delays(scope, period)], [
        ("total", _("First replies sent"), "int"), ("delayed", _("Sent a minute or more after the click"), "int"),
        ("average", _("Average sending delay"), "dur"), ("longest", _("Longest sending delay"), "dur"),
    ], prefix="sending-"), note=_(
        "First response stops when the reply leaves (the mail server accepted it, the gateway took it, or a "
        "call was logged), not when it was written: this is the time replies waited in the outbox."
    )))
    report.sections.append(Section("breaches", _("Breaches and their cause"), table(breaches(scope, period), [
        ("ticket", _("Ticket"), "text", "url"), ("title", _("Title"), "text"), ("clock", _("Clock"), "text"),
        ("overdue", _("Overdue"), "dur"), ("cause", _("Cause"), "text"),
    ], prefix="breaches-"), note=_(
        "Cause: the blocking reason the ticket waited for longest before the clock stopped; otherwise an "
        "escalation (automatic or by hand) if there was one; otherwise none. The 100 largest breaches."
    )))
    return report


def satisfaction_sections(report: Report, scope, period) -> None:
    """Customer satisfaction: the answers given in the period, in total and per agent, queue and type."""
    report.sections.append(Section("satisfaction", _("Customer satisfaction"), table(
        [satisfaction.figures_total(scope, period)],
        [("name", _("Answers given in the period"), "text"), *satisfaction.COLUMNS], prefix="satisfaction-",
    ), note=_(
        "Answers to the survey a done ticket sends its customer, grouped by the performer, queue and type the "
        "ticket had when the customer answered."
    )))
    for name in satisfaction.GROUPS:
        report.sections.append(Section(
            f"satisfaction-{name}",
            _("Customer satisfaction by %(dimension)s") % {"dimension": dimension_label(name).lower()},
            table(satisfaction.breakdown(scope, period, name),
                  [("name", dimension_label(name), "text"), *satisfaction.COLUMNS], prefix=f"satisfaction-{name}-"),
        ))


def sending_delays(scope, period) -> dict:
    """The first replies delivered in the period (``ticket.reply_delivered``, first): click → sent, in seconds
    (calendar time: the outbox waits whatever the calendar says)."""
    rows = in_scope(TicketEvent.objects.filter(kind="ticket.reply_delivered", data__first=True,
                                               created_at__gte=period.start, created_at__lt=period.end), scope)
    delays = [float(d or 0) for d in rows.values_list("data__delay", flat=True)]
    return {
        "total": len(delays),
        "delayed": sum(1 for d in delays if d >= 60),
        "average": sum(delays) / len(delays) if delays else None,
        "longest": max(delays) if delays else None,
    }


class Worst(NamedTuple):
    ticket_id: int
    kind: str
    overdue: float  # business seconds past the target
    stopped_at: object
    title: str


def breaches(scope, period, *, limit: int = 100) -> list[dict]:
    """The breached clocks stopped in the period, largest overdue first, with their cause."""
    if clock_records(scope, period) is not None:  # the same clocks, copied with their ticket (reports.rollups)
        clocks = [
            Worst(ticket_id, kind, overdue, stopped_at, title)
            for ticket_id, kind, overdue, stopped_at, title in clockfigures.facts_in_scope(scope)
            .filter(stopped_at__gte=period.start, stopped_at__lt=period.end, met=False)
            .annotate(overdue=F("consumed_s") - F("target_s"))
            .values_list("ticket_id", "kind", "overdue", "stopped_at", "ticket__title")
            .order_by("-overdue", "pk")[:limit]
        ]
    else:
        clocks = [
            Worst(c.ticket_id, c.kind, (c.consumed - c.target).total_seconds(), c.stopped_at, c.ticket.title)
            for c in stopped_clocks(scope, period.start, period.end).filter(breached_at__isnull=False)
            .annotate(overdue=F("consumed") - F("target"))
            .select_related("ticket").only("kind", "consumed", "target", "stopped_at", "started_at", "ticket__title")
            .order_by("-overdue", "pk")[:limit]
        ]
    ids = {c.ticket_id for c in clocks}
    segments: dict[int, list] = defaultdict(list)
    names = {}
    for segment in WaitSegment.objects.filter(ticket_id__in=ids).select_related("reason").order_by("started_at"):
        segments[segment.ticket_id].append(segment)
        names[segment.reason_id] = segment.reason.label
    firings = defaultdict(list)
    for ticket_id, fired_at in Firing.objects.filter(Q(ticket_id__in=ids) & NOT_SEEDED).values_list(
            "ticket_id", "fired_at"):
        firings[ticket_id].append(fired_at)
    for ticket_id, created_at in ManualEscalation.objects.filter(ticket_id__in=ids).values_list(
            "ticket_id", "created_at"):
        firings[ticket_id].append(created_at)
    rows = []
    for clock in clocks:
        waited: Counter = Counter()
        for segment in segments.get(clock.ticket_id, ()):
            if segment.started_at < clock.stopped_at:  # waits while this clock ran
                waited[segment.reason_id] += segment.business_seconds or 0.0
        if waited and max(waited.values()) > 0:
            cause = _("Waiting: %(reason)s") % {"reason": names[waited.most_common(1)[0][0]]}
        elif any(at < clock.stopped_at for at in firings.get(clock.ticket_id, ())):
            cause = _("Escalation")
        else:
            cause = _("None recorded")
        rows.append({
            "ticket": f"#{clock.ticket_id}", "title": clock.title, "clock": str(Kind(clock.kind).label),
            "overdue": clock.overdue, "cause": cause,
            "url": reverse("tickets:detail", args=[clock.ticket_id]),
        })
    return rows
