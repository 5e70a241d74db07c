"""The workload report: per person (with capacity), per queue, per day, and per person and day."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from reports import metrics
from reports.dashboard.scoping import in_scope
from reports.dashboard.workload import workload
from reports.tabular.report import Report, Section, table
from tickets.models import QueueMembership, Status, TicketEvent


def workload_report(scope, period, form) -> Report:
    report = Report("workload", _("Workload"), _(
        "Open now; taken (assigned to the person) and done in the period, per person and per queue."
    ), period)
    data = workload(scope, period)
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
    taken = {_day(d): n for d, n in in_scope(TicketEvent.objects.filter(
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
    taken = (in_scope(TicketEvent.objects.filter(kind="ticket.assigned", created_at__gte=period.start,
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
