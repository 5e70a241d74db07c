"""Report pages: the discipline report, its exports and its drill-downs. Managers see their team, admins all."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from core import dates
from core.formatting import format_duration
from deferrals import selectors as deferral_selectors
from deferrals.models import DeferralRequest
from reports import access as report_access
from reports import charts, exports, satisfaction, selectors, svgcharts
from reports.dashboard.breakdowns import breakdown, dimension_label
from reports.dashboard.now import now_figures, open_tickets
from reports.dashboard.period import period_figures
from reports.dashboard.trends import daily_compliance, first_response_histogram
from reports.dashboard.violators import top_violators
from reports.dashboard.waiting import waiting_by_reason
from reports.dashboard.workload import workload
from reports.forms import DisciplineFilterForm, DrillDownForm
from reports.report_forms import CalibrationForm, PeriodForm, ReportFilterForm, StaffingForm
from reports.tables import DisciplineTable
from reports.tabular import registry
from reports.tabular.report import export as export_report
from sla.selectors import with_clocks
from tickets.models import Ticket, display_name
from tickets.tables import TicketListTable


def _viewer_only(request) -> None:
    if not report_access.can_view_discipline(request.user):
        raise PermissionDenied


def _filters(request, form_class=DisciplineFilterForm):
    data = request.GET.copy()
    if not data.get("date_from") and not data.get("date_to"):  # default: the current month in the viewer's zone
        month = selectors.current_month(timezone.localdate(), timezone.get_current_timezone())
        data["date_from"], data["date_to"] = month.first.isoformat(), month.last.isoformat()
    form = form_class(data, viewer=request.user)
    if not form.is_valid() and form_class is DrillDownForm:
        raise Http404
    if not form.is_valid():
        errors = form.errors
        form = form_class({}, viewer=request.user)
        form.is_valid()
        form.shown_errors = errors
    return form


def _say_out_of_range(request, form) -> None:
    """A page that fell back to its default period says why when a date was outside the range."""
    for text in dates.range_errors(getattr(form, "shown_errors", None)):
        messages.error(request, text)


def _refuse_out_of_range(form) -> HttpResponseBadRequest | None:
    """An export is not a file for another period than asked: a date outside the range answers 400."""
    found = dates.range_errors(getattr(form, "shown_errors", None))
    return HttpResponseBadRequest(" ".join(found), content_type="text/plain; charset=utf-8") if found else None


def _params(form) -> dict:
    data = form.cleaned_data
    period = data["period"]
    return {
        "date_from": period.first.isoformat(),
        "date_to": period.last.isoformat(),
        "team": data["team"].pk if data.get("team") else "",
        "queue": data["queue"].pk if data.get("queue") else "",
        "ticket_type": data["ticket_type"].pk if data.get("ticket_type") else "",
    }


@login_required
@require_GET
def discipline(request):
    _viewer_only(request)
    form = _filters(request)
    _say_out_of_range(request, form)
    period = form.cleaned_data["period"]
    rows = selectors.discipline_rows(request.user, period, **form.report_filters())
    table = DisciplineTable(rows, params=_params(form))
    RequestConfig(request, paginate=False).configure(table)
    employees = list(table.data)
    chart = charts.bar_chart([(display_name(e), e.coefficient) for e in employees])
    context = {"form": form, "table": table, "period": period, "chart": chart, "params": _params(form)}
    return render(request, "reports/discipline.html", context)


@login_required
@require_GET
def discipline_export(request, fmt: str):
    _viewer_only(request)
    form = _filters(request)
    refusal = _refuse_out_of_range(form)
    if refusal is not None:
        return refusal
    period = form.cleaned_data["period"]
    rows = selectors.discipline_rows(request.user, period, **form.report_filters())
    table = DisciplineTable(rows, params={})
    RequestConfig(request, paginate=False).configure(table)  # the page's sort order
    employees = list(table.data)
    if fmt == "xlsx":
        return exports.discipline_xlsx(employees, period)
    return exports.discipline_csv(employees, period)


def _employee(request, form):
    employee_id = form.cleaned_data["employee"]
    if not selectors.in_scope(request.user, employee_id, form.cleaned_data.get("team")):
        raise Http404
    return get_user_model().objects.select_related("profile").get(pk=employee_id)


@login_required
@require_GET
def completed(request):
    """Drill-down: the tickets behind a completed (or on-time) number."""
    _viewer_only(request)
    form = _filters(request, DrillDownForm)
    employee = _employee(request, form)
    period = form.cleaned_data["period"]
    tickets = selectors.completed_tickets(
        period, queue=form.cleaned_data.get("queue"), ticket_type=form.cleaned_data.get("ticket_type")
    ).filter(performer=employee)
    if form.cleaned_data.get("on_time"):
        tickets = selectors.on_time(tickets)
    visible = Ticket.objects.visible_to(request.user).filter(pk__in=tickets.values("pk"))
    table = TicketListTable(
        with_clocks(
            visible.select_related(
                "customer__vip_tier", "queue", "ticket_type", "blocking_reason", "performer__profile", "owner__profile"
            )
        )
    )
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    context = {
        "table": table,
        "employee": employee,
        "period": period,
        "on_time": form.cleaned_data.get("on_time"),
        "params": _params(form),
    }
    return render(request, "reports/completed.html", context)


@login_required
@require_GET
def deferral_list(request):
    """Drill-down: the requests behind an objective / subjective / declined number (or a decision time)."""
    _viewer_only(request)
    form = _filters(request, DrillDownForm)
    employee = _employee(request, form)
    period = form.cleaned_data["period"]
    requests = selectors.decided_requests(
        period, queue=form.cleaned_data.get("queue"), ticket_type=form.cleaned_data.get("ticket_type")
    ).filter(requested_by=employee)
    verdict = form.cleaned_data.get("verdict")
    if verdict:
        requests = requests.filter(status=verdict)
    items = list(deferral_selectors.with_people(requests).order_by("decided_at", "pk"))
    for item in items:
        item.lead_time = format_duration(item.decided_at - item.created_at)
    context = {
        "items": items,
        "employee": employee,
        "period": period,
        "verdict": DeferralRequest.Status(verdict).label if verdict else "",
        "params": _params(form),
    }
    return render(request, "reports/deferrals.html", context)


# === The manager dashboard and the reports (issue 7) ===============================================================


def _dashboard_viewer(request) -> None:
    if not report_access.can_view_dashboard(request.user):
        raise PermissionDenied


def _dashboard_context(request, form) -> dict:
    user = request.user
    period = form.the_period
    now = timezone.now()
    figures = period_figures(user, period)
    trend = daily_compliance(user, period)
    histogram = first_response_histogram(user, period)
    waits = waiting_by_reason(user, period)
    open_now = open_tickets(user, now)  # one count of the open tickets for the "now" figures and the workload
    return {
        "form": form,
        "period": period,
        "previous": figures.previous,
        "presets": [(value, label) for value, label in form.fields["period"].choices if value != "custom"],
        "query": form.query(),
        "refresh_url": reverse("reports:dashboard") + "?" + urlencode(form.query()),
        "now": now,
        "now_figures": now_figures(user, now, open_now),
        "figures": figures,
        "breakdowns": [
            {"name": name, "label": dimension_label(name), "rows": breakdown(user, period, name)}
            for name in ("agent", "queue", "type", "tier", "channel")
        ],
        "violators": top_violators(user, period),
        "workload": workload(user, period, open_now),
        "trend": trend,
        "trend_chart": svgcharts.column_chart(
            [(f"{d['day']:%d.%m}", d["res"], d["url"]) for d in trend], max_value=100, unit=" %"
        ),
        "histogram": histogram,
        "histogram_chart": svgcharts.column_chart([(b["label"], b["count"], "") for b in histogram]),
        "escalation_chart": charts.bar_chart([(f.label, f.value) for f in figures.escalations]),
        "waits": waits,
        "waits_chart": charts.bar_chart([(w["name"], w["hours"]) for w in waits]),
        "satisfaction": satisfaction.figures(user, period),
    }


@login_required
@require_GET
def dashboard(request):
    """The manager dashboard; an htmx request (the 45-second refresh) gets only the figures."""
    _dashboard_viewer(request)
    form = PeriodForm.parse(request.GET)
    _say_out_of_range(request, form)
    context = _dashboard_context(request, form)
    if request.htmx:
        return render(request, "reports/_dashboard_body.html", context)
    return render(request, "reports/dashboard.html", context)


@login_required
@require_GET
def index(request):
    _dashboard_viewer(request)
    return render(request, "reports/index.html", {"can_discipline": report_access.can_view_discipline(request.user)})


def _report(request, name: str, form_class=ReportFilterForm):
    _dashboard_viewer(request)
    form = form_class.parse(request.GET)
    fmt = request.GET.get("format")
    refusal = _refuse_out_of_range(form) if fmt in ("csv", "xlsx") else None
    if refusal is not None:
        return refusal
    report = registry.build(name, request.user, form)
    if fmt in ("csv", "xlsx"):
        return export_report(report, fmt)
    _say_out_of_range(request, form)
    for section in report.sections:
        RequestConfig(request, paginate=False).configure(section.table)
    return render(request, "reports/report.html", {"form": form, "report": report, "query": form.query()})


@login_required
@require_GET
def sla_report(request):
    return _report(request, "sla")


@login_required
@require_GET
def delays_report(request):
    return _report(request, "delays")


@login_required
@require_GET
def workload_report(request):
    return _report(request, "workload")


@login_required
@require_GET
def repetitive_report(request):
    return _report(request, "repetitive")


@login_required
@require_GET
def calibration_report(request):
    return _report(request, "calibration", CalibrationForm)


@login_required
@require_GET
def staffing_report(request):
    return _report(request, "staffing", StaffingForm)
