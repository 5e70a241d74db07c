"""The staffing report: arrivals per hour, an Erlang C estimate of the agents needed, the agents on shift."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.db.models.functions import ExtractHour
from django.utils.translation import gettext as _

from core.formatting import format_duration
from reports import metrics
from reports.dashboard.clocks import stopped_clocks
from reports.dashboard.common import Kind
from reports.tabular.report import Report, Section, table
from tickets.models import QueueMembership


def staffing_report(scope, period, form) -> Report:
    data = form.cleaned_data
    goal = (data.get("goal") or 80) / 100
    handling = timedelta(minutes=data.get("handling") or 30)
    answer_minutes = data.get("answer_within")
    if not answer_minutes:
        common = (stopped_clocks(scope, period.start, period.end).filter(kind=Kind.FIRST_RESPONSE)
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
