"""The causes-of-delay report: waiting per reason, queue and customer, the longest stalls, tickets bounced around."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from escalations.models import ManualEscalation
from reports.charts import bar_chart
from reports.dashboard.common import Kind
from reports.dashboard.scoping import in_scope
from reports.dashboard.waiting import waiting_by_reason
from reports.tabular.report import Report, Section, table
from sla.models import SLAClock
from tickets.models import Ticket, TicketEvent, WaitSegment


def delays_report(scope, period, form) -> Report:
    report = Report("delays", _("Causes of delay"), _(
        "Business time tickets spent waiting for external action within the period; waits still open count up "
        "to now."
    ), period)
    wait_columns = [
        ("name", _("Name"), "text", "url"), ("seconds", _("Waiting"), "dur"),
        ("segments", _("Waits"), "int"), ("tickets", _("Tickets"), "int"),
    ]
    by_reason = waiting_by_reason(scope, period)
    report.sections.append(Section("reason", _("By blocking reason"), table(by_reason, wait_columns, prefix="reason-"),
                                   chart=bar_chart([(r["name"], r["hours"]) for r in by_reason])))
    report.sections.append(Section("queue", _("By queue"), table(
        waiting_by_reason(scope, period, group="queue"), wait_columns, prefix="queue-")))
    report.sections.append(Section("customer", _("By customer (top 20)"), table(
        waiting_by_reason(scope, period, group="customer", limit=20), wait_columns, prefix="customer-")))
    report.sections.append(Section("organisation", _("By organisation (top 20)"), table(
        waiting_by_reason(scope, period, group="organisation", limit=20), wait_columns, prefix="organisation-")))
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
        in_scope(WaitSegment.objects.filter(ended_at__gte=period.start, ended_at__lt=period.end), scope)
        .select_related("ticket", "reason").order_by("-business_seconds", "pk")[:limit]
    )
    now = timezone.now()
    still = list(
        in_scope(WaitSegment.objects.filter(ended_at__isnull=True, started_at__lt=period.end), scope)
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
        in_scope(TicketEvent.objects.filter(in_period, kind="ticket.updated", data__changes__has_key="queue"),
                     scope).values_list("ticket_id").annotate(n=Count("pk")).order_by()
    ))
    queue_changes.update(dict(
        in_scope(ManualEscalation.objects.filter(in_period, kind=ManualEscalation.Kind.FUNCTIONAL), scope)
        .values_list("ticket_id").annotate(n=Count("pk")).order_by()
    ))
    reassigned = Counter(dict(
        in_scope(TicketEvent.objects.filter(in_period, kind="ticket.assigned", data__previous__id__isnull=False),
                     scope).values_list("ticket_id").annotate(n=Count("pk")).order_by()
    ))
    top_q, top_p = queue_changes.most_common(limit), reassigned.most_common(limit)
    titles = dict(Ticket.objects.filter(pk__in={t for t, _n in top_q + top_p}).values_list("pk", "title"))

    def rows(top):
        return [{"ticket": f"#{pk}", "title": titles.get(pk, ""), "moves": n,
                 "url": reverse("tickets:detail", args=[pk])} for pk, n in top]

    return rows(top_q), rows(top_p)
