"""The reports: each is sections of (title, django-tables2 table), rendered by one template and exported as is.

``build(name, user, form)`` returns a :class:`Report`; ``export(report, fmt)`` writes the same
sections to CSV (one block per section) or XLSX (one sheet per section), with the values the
columns' ``value()`` gives (durations as decimal hours, shares as percent numbers).
Definitions of every figure: docs/reports.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

import django_tables2 as tables
from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import ExtractHour, TruncDate
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from escalations.models import Firing, ManualEscalation
from reports import clockfigures, metrics
from reports import dashboard as dash
from reports.exports import XLSX
from sla.models import SLAClock
from sla.selectors import format_duration
from tickets.models import QueueMembership, Status, TicketEvent, WaitSegment

Kind = SLAClock.Kind
NUMBER = {"td": {"class": "num"}, "th": {"class": "num"}}


# --- tables ------------------------------------------------------------------------------------------


def _fmt(kind: str, value) -> str:
    if value is None or value == "":
        return "—"
    if kind == "pct":
        return f"{value:g} %"
    if kind == "dur":
        return format_duration(timedelta(seconds=round(value)))
    if kind == "hours":
        return f"{value:g}"
    return str(value)


def _export_value(kind: str, value):
    if value is None:
        return ""
    if kind == "dur":
        return round(value / 3600, 2)
    return value


class ReportColumn(tables.Column):
    """A column of a report: ``kind`` text | int | pct | dur (business seconds) | hours; optional link key."""

    def __init__(self, kind: str = "text", *, link: str | None = None, **kwargs):
        self.kind = kind
        self.link_key = link
        kwargs.setdefault("empty_values", ())
        if kind != "text":
            kwargs.setdefault("attrs", NUMBER)
        super().__init__(**kwargs)

    def render(self, record, value):
        text = _fmt(self.kind, value)
        url = record.get(self.link_key) if self.link_key else ""
        return format_html('<a href="{}">{}</a>', url, text) if url else text

    def value(self, record, value):
        return _export_value(self.kind, value)


class ReportTable(tables.Table):
    class Meta:
        template_name = "tickets/_table.html"
        attrs = {"class": "table report-table"}
        empty_text = gettext_lazy("Nothing in this period.")


def table(rows: list[dict], columns: list[tuple], *, prefix: str) -> ReportTable:
    """``columns``: (key, header, kind[, link key])."""
    extra = []
    for spec in columns:
        key, header, kind = spec[:3]
        link = spec[3] if len(spec) > 3 else None
        header_text = f"{header}, {_('h')}" if kind == "dur" else header
        extra.append((key, ReportColumn(kind, link=link, verbose_name=header_text, accessor=key)))
    return ReportTable(rows, extra_columns=extra, prefix=prefix)


@dataclass
class Section:
    key: str
    title: str
    table: ReportTable
    note: str = ""
    chart: object = None


@dataclass
class Report:
    name: str
    title: str
    intro: str
    period: object
    sections: list[Section] = field(default_factory=list)
    advice: str = ""

    @property
    def filename(self) -> str:
        return f"{self.name}_{self.period.first:%Y-%m-%d}_{self.period.last:%Y-%m-%d}"


def export(report: Report, fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        book.remove(book.active)
        for section in report.sections:
            sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", section.title)[:31])
            sheet.append([_("Period"), f"{report.period.first:%Y-%m-%d} – {report.period.last:%Y-%m-%d}"])
            for row in section.table.as_values():
                sheet.append(list(row))
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([report.title, f"{report.period.first:%Y-%m-%d}", f"{report.period.last:%Y-%m-%d}"])
        for section in report.sections:
            writer.writerow([])
            writer.writerow([section.title])
            for row in section.table.as_values():
                writer.writerow(["" if v is None else v for v in row])
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}.{fmt}"'
    return response


# --- building ---------------------------------------------------------------------------------------------


def build(name: str, user, form) -> Report:
    data = form.cleaned_data
    scope = dash.Scope(user, queue=data.get("queue"), ticket_type=data.get("ticket_type"))
    return BUILDERS[name](scope, form.the_period, form)


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
    stats = dash.clock_stats(scope, period)
    params = dash.period_params(period)
    summary = []
    for kind in dash.KINDS:
        now_s, then_s = stats.get((1, kind), dash.ClockStats()), stats.get((0, kind), dash.ClockStats())
        summary.append({
            "clock": str(Kind(kind).label), "total": now_s.total, "breached": now_s.breached,
            "compliance": now_s.compliance, "previous": then_s.compliance, "median": now_s.median,
            "average": now_s.average, "p90": now_s.p90,
            "url": dash.ticket_list_url(sla_clock=kind, **params),
            "breached_url": dash.ticket_list_url(sla_clock=kind, sla_result="breached", **params),
        })
    report.sections.append(Section("summary", _("Compliance and times"), table(summary, [
        ("clock", _("Clock"), "text"), ("total", _("Stopped"), "int", "url"),
        ("breached", _("Breached"), "int", "breached_url"), ("compliance", _("Met"), "pct"),
        ("previous", _("Met, previous period"), "pct"), ("median", _("Median"), "dur"),
        ("average", _("Average"), "dur"), ("p90", _("90th percentile"), "dur"),
    ], prefix="summary-")))
    clocks = dash.stopped_clocks(scope, period.start, period.end)
    for name in ("policy", "type", "queue", "agent", "tier"):
        rows = dash.breakdown(scope, period, name, clocks=clocks)
        columns = [(BREAKDOWN_COLUMNS[0][0], dash.dimension_label(name), "text"), *BREAKDOWN_COLUMNS[1:]]
        report.sections.append(Section(name, _("By %(dimension)s") % {"dimension": dash.dimension_label(name).lower()},
                                       table(rows, columns, prefix=f"{name}-")))
    report.sections.append(Section("breaches", _("Breaches and their cause"), table(breaches(scope, period), [
        ("ticket", _("Ticket"), "text", "url"), ("title", _("Title"), "text"), ("clock", _("Clock"), "text"),
        ("overdue", _("Overdue"), "dur"), ("cause", _("Cause"), "text"),
    ], prefix="breaches-"), note=_(
        "Cause: the blocking reason the ticket waited for longest before the clock stopped; otherwise an "
        "escalation (automatic or by hand) if there was one; otherwise none. The 100 largest breaches."
    )))
    return report


class Worst(NamedTuple):
    ticket_id: int
    kind: str
    overdue: float  # business seconds past the target
    stopped_at: object
    title: str


def breaches(scope, period, *, limit: int = 100) -> list[dict]:
    """The breached clocks stopped in the period, largest overdue first, with their cause."""
    from django.db.models import F

    if dash._records(scope, period) is not None:  # the same clocks, copied with their ticket (reports.rollups)
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
            for c in dash.stopped_clocks(scope, period.start, period.end).filter(breached_at__isnull=False)
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
    for ticket_id, fired_at in Firing.objects.filter(Q(ticket_id__in=ids) & dash.NOT_SEEDED).values_list(
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


def delays_report(scope, period, form) -> Report:
    report = Report("delays", _("Causes of delay"), _(
        "Business time tickets spent waiting for external action, in waiting segments that ended in the period."
    ), period)
    wait_columns = [
        ("name", _("Name"), "text", "url"), ("seconds", _("Waiting"), "dur"),
        ("segments", _("Waits"), "int"), ("tickets", _("Tickets"), "int"),
    ]
    by_reason = dash.waiting_by_reason(scope, period)
    from reports.charts import bar_chart

    report.sections.append(Section("reason", _("By blocking reason"), table(by_reason, wait_columns, prefix="reason-"),
                                   chart=bar_chart([(r["name"], r["hours"]) for r in by_reason])))
    report.sections.append(Section("queue", _("By queue"), table(
        dash.waiting_by_reason(scope, period, group="queue"), wait_columns, prefix="queue-")))
    report.sections.append(Section("customer", _("By customer (top 20)"), table(
        dash.waiting_by_reason(scope, period, group="customer", limit=20), wait_columns, prefix="customer-")))
    report.sections.append(Section("stalls", _("Longest stalls"), table(longest_stalls(scope, period), [
        ("ticket", _("Ticket"), "text", "url"), ("title", _("Title"), "text"), ("reason", _("Waiting for"), "text"),
        ("started", _("Since"), "text"), ("seconds", _("Waiting"), "dur"), ("state", _("State"), "text"),
    ], prefix="stalls-"), note=_("Ended in the period, or still waiting now (measured up to now).")))
    queue_bounces, people_bounces = bounces(scope, period)
    bounce_columns = [("ticket", _("Ticket"), "text", "url"), ("title", _("Title"), "text"),
                      ("moves", _("Moves"), "int")]
    report.sections.append(Section("queues", _("Bounced between queues"), table(
        queue_bounces, bounce_columns, prefix="queues-"), note=_(
        "Queue changes in the period: triage changes of the queue and functional escalations.")))
    report.sections.append(Section("people", _("Bounced between people"), table(
        people_bounces, bounce_columns, prefix="people-"), note=_(
        "Reassignments in the period: the ticket went from one performer to another.")))
    return report


def longest_stalls(scope, period, *, limit: int = 20) -> list[dict]:
    ended = list(
        dash._scoped(WaitSegment.objects.filter(ended_at__gte=period.start, ended_at__lt=period.end), scope)
        .select_related("ticket", "reason").order_by("-business_seconds", "pk")[:limit]
    )
    now = timezone.now()
    still = list(
        dash._scoped(WaitSegment.objects.filter(ended_at__isnull=True, started_at__lt=period.end), scope)
        .select_related("ticket", "reason").order_by("started_at", "pk")[:limit]
    )
    calendars = {
        c.ticket_id: c.calendar
        for c in SLAClock.objects.filter(ticket_id__in=[s.ticket_id for s in still], kind=Kind.RESOLUTION)
        .select_related("calendar")
    }
    rows = []
    for segment in ended + still:
        if segment.ended_at is None:
            calendar = calendars.get(segment.ticket_id)
            seconds = (calendar.work_calendar().between(segment.started_at, now).total_seconds() if calendar
                       else (now - segment.started_at).total_seconds())
        else:
            seconds = segment.business_seconds or 0.0
        rows.append({
            "ticket": f"#{segment.ticket_id}", "title": segment.ticket.title, "reason": segment.reason.label,
            "started": timezone.localtime(segment.started_at).strftime("%Y-%m-%d %H:%M"), "seconds": seconds,
            "state": _("still waiting") if segment.ended_at is None else _("ended"),
            "url": reverse("tickets:detail", args=[segment.ticket_id]),
        })
    return sorted(rows, key=lambda r: -r["seconds"])[:limit]


def bounces(scope, period, *, limit: int = 20) -> tuple[list[dict], list[dict]]:
    in_period = Q(created_at__gte=period.start, created_at__lt=period.end)
    queue_changes = Counter(dict(
        dash._scoped(TicketEvent.objects.filter(in_period, kind="ticket.updated", data__changes__has_key="queue"),
                     scope).values_list("ticket_id").annotate(n=Count("pk")).order_by()
    ))
    queue_changes.update(dict(
        dash._scoped(ManualEscalation.objects.filter(in_period, kind=ManualEscalation.Kind.FUNCTIONAL), scope)
        .values_list("ticket_id").annotate(n=Count("pk")).order_by()
    ))
    reassigned = Counter(dict(
        dash._scoped(TicketEvent.objects.filter(in_period, kind="ticket.assigned", data__previous__id__isnull=False),
                     scope).values_list("ticket_id").annotate(n=Count("pk")).order_by()
    ))
    top_q, top_p = queue_changes.most_common(limit), reassigned.most_common(limit)
    from tickets.models import Ticket

    titles = dict(Ticket.objects.filter(pk__in={t for t, _n in top_q + top_p}).values_list("pk", "title"))

    def rows(top):
        return [{"ticket": f"#{pk}", "title": titles.get(pk, ""), "moves": n,
                 "url": reverse("tickets:detail", args=[pk])} for pk, n in top]

    return rows(top_q), rows(top_p)


def workload_report(scope, period, form) -> Report:
    report = Report("workload", _("Workload"), _(
        "Open now; taken (assigned to the person) and done in the period, per person and per queue."
    ), period)
    data = dash.workload(scope, period)
    User = get_user_model()
    capacity = dict(
        QueueMembership.objects.filter(role=QueueMembership.Role.AGENT, capacity__isnull=False)
        .values_list("user_id").annotate(c=Sum("capacity")).order_by()
    )
    names = {}
    if capacity:
        for user in User.objects.filter(pk__in=capacity).select_related("profile"):
            names[user.pk] = (user.profile.display_name if hasattr(user, "profile") and user.profile.display_name
                              else user.get_username())
    by_name = {names[pk]: cap for pk, cap in capacity.items() if pk in names}
    for row in data["people"]:
        cap = by_name.get(row["name"])
        row["capacity"] = cap
        row["use"] = metrics.share(row["open"], cap) if cap else None
    report.sections.append(Section("people", _("Per person"), table(data["people"], [
        ("name", _("Person"), "text"), ("open", _("Open now"), "int", "open_url"), ("taken", _("Taken"), "int"),
        ("done", _("Done"), "int", "done_url"), ("capacity", _("Capacity"), "int"),
        ("use", _("Capacity used"), "pct"),
    ], prefix="people-"), note=_(
        "Capacity: the sum of the person's queue capacities (open tickets); empty: no limit.")))
    report.sections.append(Section("queues", _("Per queue"), table(data["queues"], [
        ("name", _("Queue"), "text"), ("open", _("Open now"), "int", "open_url"),
        ("created", _("Created"), "int", "created_url"), ("done", _("Done"), "int", "done_url"),
    ], prefix="queues-")))
    report.sections.append(Section("days", _("Per day"), table(per_day(scope, period), [
        ("day", _("Day"), "text"), ("created", _("Created"), "int"), ("taken", _("Taken"), "int"),
        ("done", _("Done"), "int"),
    ], prefix="days-")))
    report.sections.append(Section("person_days", _("Per person and day"), table(person_days(scope, period), [
        ("day", _("Day"), "text"), ("name", _("Person"), "text"), ("taken", _("Taken"), "int"),
        ("done", _("Done"), "int"),
    ], prefix="pd-")))
    return report


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def per_day(scope, period) -> list[dict]:
    tickets = scope.tickets()
    tz = period.tz
    created = {_day(d): n for d, n in tickets.filter(created_at__gte=period.start, created_at__lt=period.end)
               .annotate(d=TruncDate("created_at", tzinfo=tz)).values_list("d").annotate(n=Count("pk")).order_by()}
    done = {_day(d): n for d, n in tickets.filter(status=Status.DONE, done_at__gte=period.start,
                                                  done_at__lt=period.end)
            .annotate(d=TruncDate("done_at", tzinfo=tz)).values_list("d").annotate(n=Count("pk")).order_by()}
    taken = {_day(d): n for d, n in dash._scoped(TicketEvent.objects.filter(
        kind="ticket.assigned", created_at__gte=period.start, created_at__lt=period.end), scope)
        .annotate(d=TruncDate("created_at", tzinfo=tz)).values_list("d").annotate(n=Count("pk")).order_by()}
    rows = []
    day = period.first
    while day <= period.last:
        rows.append({"day": day.isoformat(), "created": created.get(day, 0), "taken": taken.get(day, 0),
                     "done": done.get(day, 0)})
        day += timedelta(days=1)
    return rows


def person_days(scope, period) -> list[dict]:
    tz = period.tz
    done = (scope.tickets().filter(status=Status.DONE, done_at__gte=period.start, done_at__lt=period.end,
                                   performer__isnull=False)
            .annotate(d=TruncDate("done_at", tzinfo=tz)).values_list("d", "performer_id").annotate(n=Count("pk"))
            .order_by())
    taken = (dash._scoped(TicketEvent.objects.filter(kind="ticket.assigned", created_at__gte=period.start,
                                                     created_at__lt=period.end), scope)
             .annotate(d=TruncDate("created_at", tzinfo=tz)).values_list("d", "data__performer__id")
             .annotate(n=Count("pk")).order_by())
    cells: dict = defaultdict(lambda: {"taken": 0, "done": 0})
    for d, person, n in done:
        cells[(_day(d), person)]["done"] += n
    for d, person, n in taken:
        if person is not None:
            cells[(_day(d), int(person))]["taken"] += n
    User = get_user_model()
    names = {u.pk: (u.profile.display_name if hasattr(u, "profile") and u.profile.display_name else u.get_username())
             for u in User.objects.filter(pk__in={p for _d, p in cells}).select_related("profile")}
    return [{"day": d.isoformat(), "name": names.get(p, str(p)), **v}
            for (d, p), v in sorted(cells.items(), key=lambda item: (item[0][0], names.get(item[0][1], "")))]


_NUMBERS = re.compile(r"\d+")
_PUNCT = re.compile(r"[^\w#\s]+")
PATTERN_WORDS = 5
PATTERN_SAMPLE = 50_000


def title_pattern(title: str) -> str:
    """A title's pattern: lower case, numbers as #, punctuation dropped, the first five words."""
    text = _NUMBERS.sub("#", (title or "").lower())
    text = _PUNCT.sub(" ", text)
    return " ".join(text.split()[:PATTERN_WORDS])


def repetitive_report(scope, period, form) -> Report:
    report = Report("repetitive", _("Repetitive requests"), _(
        "Tickets created in the period: the most frequent types and title patterns, with the business time "
        "their resolution took (resolution clocks stopped so far), as candidates for automation or templates."
    ), period)
    handled = SLAClock.objects.filter(ticket_id=OuterRef("pk"), kind=Kind.RESOLUTION, state=SLAClock.State.STOPPED,
                                      counts_for_compliance=True).values("consumed")[:1]
    tickets = scope.tickets().filter(created_at__gte=period.start, created_at__lt=period.end)
    types = (
        tickets.values("ticket_type_id", "ticket_type__name", "ticket_type__name_ru")
        .annotate(n=Count("pk"), handled=Sum(Subquery(handled)))
        .order_by("-n", "ticket_type__name")[:20]
    )
    params = dash.period_params(period)
    type_rows = [
        {"name": dash.bilingual(r["ticket_type__name"], r["ticket_type__name_ru"]) or _("No type"), "count": r["n"],
         "hours": dash._seconds(r["handled"]),
         "url": dash.ticket_list_url(created_in_period=True, ticket_type=r["ticket_type_id"], **params)
         if r["ticket_type_id"] else ""}
        for r in types
    ]
    patterns: dict[str, list] = defaultdict(lambda: [0, 0.0])
    for title, consumed in tickets.annotate(h=Subquery(handled)).order_by("-created_at").values_list(
            "title", "h")[:PATTERN_SAMPLE]:
        entry = patterns[title_pattern(title)]
        entry[0] += 1
        entry[1] += consumed.total_seconds() if consumed else 0.0
    pattern_rows = [
        {"pattern": p, "count": c, "hours": s, "url": dash.ticket_list_url(q=p, created_in_period=True, **params)}
        for p, (c, s) in sorted(patterns.items(), key=lambda item: (-item[1][0], item[0]))[:20] if c > 1
    ]
    report.sections.append(Section("types", _("Most frequent types"), table(type_rows, [
        ("name", _("Type"), "text"), ("count", _("Tickets"), "int", "url"), ("hours", _("Handling time"), "dur"),
    ], prefix="types-")))
    report.sections.append(Section("patterns", _("Most frequent title patterns"), table(pattern_rows, [
        ("pattern", _("Title pattern"), "text"), ("count", _("Tickets"), "int"),
        ("hours", _("Handling time"), "dur"),
    ], prefix="patterns-"), note=_("Numbers become #, punctuation is dropped, the first five words count; "
                                   "patterns seen once are left out.")))
    return report


ADVICE = gettext_lazy(
    "First observe, then agree, then control: measure the actual times (this page), agree a target the team "
    "can hold at the chosen compliance (80 to 95 percent is typical), and only then switch on escalation. An "
    "unrealistic target that is always broken is worse than a longer one that holds."
)


def calibration_report(scope, period, form) -> Report:
    goal = (form.cleaned_data.get("goal") or 90) / 100
    report = Report("calibration", _("SLA calibration"), _(
        "Per ticket type and clock: the business time actually taken by clocks stopped in the period, against the "
        "current target; the compliance each candidate target would have had; a target for the goal."
    ), period, advice=str(ADVICE))
    observed: dict[tuple, list[float]] = defaultdict(list)
    targets: dict[tuple, Counter] = defaultdict(Counter)
    names = {}
    for type_id, name, name_ru, kind, consumed, target in (
        dash.stopped_clocks(scope, period.start, period.end)
        .values_list("ticket__ticket_type_id", "ticket__ticket_type__name", "ticket__ticket_type__name_ru", "kind",
                     "consumed", "target").order_by()
    ):
        observed[(type_id, kind)].append(consumed.total_seconds())
        targets[(type_id, kind)][target.total_seconds()] += 1
        names[type_id] = dash.bilingual(name, name_ru) if type_id else _("No type")
    summary, candidates = [], []
    for key in sorted(observed, key=lambda k: (names[k[0]], k[1] != Kind.FIRST_RESPONSE)):
        values = observed[key]
        current = targets[key].most_common(1)[0][0]
        suggested = metrics.suggest_target(values, goal)
        label = names[key[0]]
        clock = str(Kind(key[1]).label)
        summary.append({
            "type": label, "clock": clock, "count": len(values),
            "p50": metrics.percentile(values, 0.5), "p80": metrics.percentile(values, 0.8),
            "p90": metrics.percentile(values, 0.9), "current": current,
            "current_compliance": metrics.compliance(values, current), "suggested": suggested,
            "suggested_compliance": metrics.compliance(values, suggested),
        })
        for candidate in metrics.candidates(current, suggested):
            marks = [m for m, v in ((_("current"), current), (_("suggested"), suggested)) if v == candidate]
            candidates.append({"type": label, "clock": clock, "target": candidate,
                               "compliance": metrics.compliance(values, candidate), "mark": ", ".join(marks)})
    report.sections.append(Section("summary", _("Actual times against the target"), table(summary, [
        ("type", _("Type"), "text"), ("clock", _("Clock"), "text"), ("count", _("Clocks"), "int"),
        ("p50", "P50", "dur"), ("p80", "P80", "dur"), ("p90", "P90", "dur"),
        ("current", _("Current target"), "dur"), ("current_compliance", _("Met at current"), "pct"),
        ("suggested", _("Suggested target"), "dur"), ("suggested_compliance", _("Met at suggested"), "pct"),
    ], prefix="summary-"), note=_("Suggested: the smallest round target that at least %(goal)s %% of these "
                                  "clocks met.") % {"goal": round(goal * 100)}))
    report.sections.append(Section("candidates", _("Compliance each target would have had"), table(candidates, [
        ("type", _("Type"), "text"), ("clock", _("Clock"), "text"), ("target", _("Target"), "dur"),
        ("compliance", _("Would have been met"), "pct"), ("mark", "", "text"),
    ], prefix="candidates-")))
    return report


def staffing_report(scope, period, form) -> Report:
    data = form.cleaned_data
    goal = (data.get("goal") or 80) / 100
    handling = timedelta(minutes=data.get("handling") or 30)
    answer_minutes = data.get("answer_within")
    if not answer_minutes:
        common = (dash.stopped_clocks(scope, period.start, period.end).filter(kind=Kind.FIRST_RESPONSE)
                  .values_list("target").annotate(n=Count("pk")).order_by("-n").first())
        answer_minutes = round(common[0].total_seconds() / 60) if common else 30
    answer_within = timedelta(minutes=answer_minutes)
    report = Report("staffing", _("Staffing"), _(
        "Arrivals per hour of the day (tickets created in the period, averaged over its days) and an Erlang C "
        "estimate of the agents needed to answer %(goal)s %% within %(within)s with %(handling)s of work per "
        "ticket, beside the agents on shift (their working calendars; none means always on shift)."
    ) % {"goal": round(goal * 100), "within": format_duration(answer_within),
         "handling": format_duration(handling)}, period)
    days = (period.last - period.first).days + 1
    arrivals = dict(
        scope.tickets().filter(created_at__gte=period.start, created_at__lt=period.end)
        .annotate(h=ExtractHour("created_at", tzinfo=period.tz)).values_list("h").annotate(n=Count("pk")).order_by()
    )
    on_shift = agents_on_shift(scope, period)
    rows = []
    for hour in range(24):
        rate = arrivals.get(hour, 0) / days
        needed = metrics.agents_needed(rate, handling=handling, answer_within=answer_within, goal=goal)
        shift = on_shift[hour]
        rows.append({"hour": f"{hour:02d}:00", "arrivals": round(rate, 2), "needed": needed,
                     "on_shift": round(shift, 1), "gap": round(shift - needed, 1)})
    report.sections.append(Section("hours", _("Per hour of the day"), table(rows, [
        ("hour", _("Hour"), "text"), ("arrivals", _("Arrivals per hour"), "hours"),
        ("needed", _("Agents needed"), "int"), ("on_shift", _("Agents on shift"), "hours"),
        ("gap", _("Surplus (+) or shortage (−)"), "hours"),
    ], prefix="hours-"), note=_("On shift: the average over the last seven days of the period of the agents whose "
                                "working calendar is open at half past the hour.")))
    return report


def agents_on_shift(scope, period) -> list[float]:
    """Per local hour of the day, the average number of agents on shift over the period's last seven days."""
    members = QueueMembership.objects.filter(role=QueueMembership.Role.AGENT, user__is_active=True)
    if scope.queue is not None:
        members = members.filter(queue=scope.queue)
    User = get_user_model()
    agents = list(User.objects.filter(pk__in=members.values("user_id")).select_related("profile__work_calendar"))
    first = max(period.first, period.last - timedelta(days=6))
    days = [first + timedelta(days=n) for n in range((period.last - first).days + 1)]
    from datetime import datetime, time

    totals = [0.0] * 24
    for agent in agents:
        calendar = getattr(getattr(agent, "profile", None), "work_calendar", None)
        work = calendar.work_calendar() if calendar is not None else None
        for hour in range(24):
            if work is None:
                totals[hour] += 1
                continue
            on = sum(1 for day in days
                     if work.is_working(datetime.combine(day, time(hour, 30), tzinfo=period.tz)))
            totals[hour] += on / len(days)
    return totals


BUILDERS = {
    "sla": sla_report,
    "delays": delays_report,
    "workload": workload_report,
    "repetitive": repetitive_report,
    "calibration": calibration_report,
    "staffing": staffing_report,
}
