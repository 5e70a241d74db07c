"""Escalation-case pages: thin views (form → ``escalations.cases`` → message → back to the case).

Who may do what is ``escalations.access`` (``visible_cases``: else 404; ``can_take_part`` and ``is_owner``:
else 403). Every state change is a POST that redirects back; a ``TicketError`` becomes an error message
and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from core.forms import is_pk
from escalations import access as case_access
from escalations import case_selectors, cases
from escalations.case_forms import (
    CaseFilterForm,
    CaseOpenForm,
    CloseForm,
    LinkCustomerForm,
    LinkServiceForm,
    LinkTicketForm,
    MemberForm,
    RcaForm,
    ReasonForm,
    ReportForm,
    ResolutionForm,
    TaskForm,
    UpdateForm,
)
from escalations.models import CaseStatus, EscalationCase
from tickets.access import role_required as _role_required
from tickets.models import Ticket, display_name
from tickets.services import TicketError

PAGE_SIZE = 25




def _opener_required(view):
    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not case_access.can_open_case(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _case(request, pk: int) -> EscalationCase:
    return get_object_or_404(case_access.visible_cases(request.user).select_related("owner__profile", "rule"), pk=pk)


# --- List, opening, the case page -----------------------------------------------------------------------


@_role_required
def case_list(request):
    form = CaseFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = case_selectors.case_list(
        request.user,
        status=filters.get("status", ""),
        severity=filters.get("severity", ""),
        mine=filters.get("mine", False),
        missed=filters.get("missed", False),
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/list.html", {
        "page": page, "filter_form": form, "now": timezone.now(), "can_open": case_access.can_open_case(request.user),
    })


def _ticket_ids(values) -> list[int]:
    return [int(v) for v in values if is_pk(v)][:50]


@_opener_required
@require_http_methods(["GET", "POST"])
def case_create(request):
    if request.method == "POST":
        form = CaseOpenForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = cases.case_open(
                    actor=request.user, title=data["title"], severity=data["severity"], owner=data["owner"],
                    triggering_criteria=data["triggering_criteria"], tickets=data["tickets"],
                    services=data["services"], members=data["members"],
                )
            except TicketError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Escalation case %(ref)s opened.") % {"ref": case.reference})
                return redirect("cases:detail", pk=case.pk)
        messages.error(request, _("The case was not opened: please check the highlighted fields."))
    else:
        ids = _ticket_ids(request.GET.getlist("ticket"))
        tickets = list(Ticket.objects.visible_to(request.user).filter(pk__in=ids).order_by("pk"))
        initial = {"owner": request.user.pk, "tickets": [t.pk for t in tickets]}
        if tickets:
            initial["title"] = tickets[0].title
            initial["triggering_criteria"] = _("Opened from %(tickets)s.") % {
                "tickets": ", ".join(f"{t.reference} ({t.customer.name})" for t in tickets)}
        form = CaseOpenForm(user=request.user, ticket_ids=ids, initial=initial)
    return render(request, "cases/create.html", {"form": form})


@_role_required
def case_detail(request, pk: int):
    case = _case(request, pk)
    user = request.user
    page = case_selectors.case_page(case, user)
    part = case_access.can_take_part(user, case)
    owner = case_access.is_owner(user, case)
    now = timezone.now()
    context = {
        "case": case,
        "page": page,
        "can_take_part": part and case.status != CaseStatus.CLOSED,
        "is_owner": owner and case.status != CaseStatus.CLOSED,
        "missed": case.update_missed(now),
        "now": now,
        "rca_complete": cases.rca_complete(case),
    }
    if context["can_take_part"]:
        # Several forms share field names (customer, ...): each has its own auto_id, so ids stay unique.
        context.update(
            update_form=UpdateForm(auto_id="update_%s"),
            member_form=MemberForm(auto_id="member_%s"),
            task_form=TaskForm(initial={"queue": page.affected[0].queue_id if page.affected else None,
                                        "due": timezone.localtime(now + timedelta(hours=2)).replace(second=0,
                                                                                                    microsecond=0)},
                               auto_id="task_%s"),
            ticket_form=LinkTicketForm(auto_id="link_ticket_%s"),
            customer_form=LinkCustomerForm(auto_id="link_customer_%s"),
            service_form=LinkServiceForm(auto_id="link_service_%s"),
            escalate_form=ReasonForm(auto_id="escalate_%s"),
            rca_form=RcaForm(initial={"internal": case.rca_internal, "customer": case.rca_customer,
                                      "cause": case.cause}, auto_id="rca_%s"),
        )
    if context["is_owner"]:
        open_tickets = [t for t in page.affected + page.tasks if t.is_open]
        close_form = CloseForm(tickets=open_tickets, auto_id="close_%s")
        context.update(resolution_form=ResolutionForm(auto_id="resolution_%s"), close_form=close_form,
                       close_fields=[close_form[name] for name in close_form.ticket_fields])
    return render(request, "cases/detail.html", context)


# --- Actions ---------------------------------------------------------------------------------------------


def case_action(check):
    """A POST action on a visible case: 404 if the user cannot see it, 403 if ``check`` refuses."""

    def decorator(func):
        @login_required
        @require_POST
        @wraps(func)
        def view(request, pk: int):
            case = _case(request, pk)
            if not check(request.user, case):
                raise PermissionDenied
            try:
                func(request, case)
            except TicketError as exc:
                messages.error(request, str(exc))
            return redirect("cases:detail", pk=case.pk)

        return view

    return decorator


def _valid(request, form) -> bool:
    if form.is_valid():
        return True
    _errors(request, form)
    return False


@case_action(case_access.can_take_part)
def post_update(request, case):
    form = UpdateForm(request.POST)
    if _valid(request, form):
        data = form.cleaned_data
        update = cases.case_post_update(case, actor=request.user, body=data["body"], public=data["public"],
                                        token=data["token"])
        messages.success(request, _("Update posted."))
        if update.skipped:
            messages.warning(request, ngettext(
                "%(n)d linked ticket did not get it: you may not reply on it.",
                "%(n)d linked tickets did not get it: you may not reply on them.", len(update.skipped),
            ) % {"n": len(update.skipped)})


@case_action(case_access.can_take_part)
def add_member(request, case):
    form = MemberForm(request.POST)
    if _valid(request, form):
        cases.case_add_member(case, user=form.cleaned_data["user"], actor=request.user)
        messages.success(request, _("%(name)s joined the task force.") % {
            "name": display_name(form.cleaned_data["user"])})


@case_action(case_access.can_take_part)
def remove_member(request, case):
    form = MemberForm(request.POST)
    if _valid(request, form):
        cases.case_remove_member(case, user=form.cleaned_data["user"], actor=request.user)
        messages.success(request, _("%(name)s left the task force.") % {
            "name": display_name(form.cleaned_data["user"])})


@case_action(case_access.can_take_part)
def add_task(request, case):
    form = TaskForm(request.POST)
    if _valid(request, form):
        data = form.cleaned_data
        task = cases.case_add_task(case, actor=request.user, title=data["title"], queue=data["queue"],
                                   performer=data["performer"], due=data["due"], description=data["description"])
        messages.success(request, _("Task %(ref)s planned.") % {"ref": task.reference})


@case_action(case_access.can_take_part)
def add_ticket(request, case):
    form = LinkTicketForm(request.POST)
    if _valid(request, form):
        ticket = Ticket.objects.visible_to(request.user).filter(pk=form.cleaned_data["ticket"]).first()
        if ticket is None:
            raise TicketError(_("Unknown ticket."))
        cases.case_add_ticket(case, ticket=ticket, actor=request.user)
        messages.success(request, _("%(ref)s linked.") % {"ref": ticket.reference})


@case_action(case_access.can_take_part)
def add_customer(request, case):
    form = LinkCustomerForm(request.POST)
    if _valid(request, form):
        cases.case_add_customer(case, customer=form.cleaned_data["customer"], actor=request.user)
        messages.success(request, _("Customer added."))


@case_action(case_access.can_take_part)
def add_service(request, case):
    form = LinkServiceForm(request.POST)
    if _valid(request, form):
        cases.case_add_service(case, service=form.cleaned_data["service"], actor=request.user)
        messages.success(request, _("Service added."))


@case_action(case_access.can_take_part)
def escalate(request, case):
    form = ReasonForm(request.POST)
    if _valid(request, form):
        row = cases.case_escalate(case, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("The case was escalated to level %(level)s.") % {"level": row.level})


@case_action(case_access.is_owner)
def resolve(request, case):
    form = ResolutionForm(request.POST)
    if _valid(request, form):
        cases.case_announce_resolution(case, actor=request.user, summary=form.cleaned_data["summary"])
        messages.success(request, _("Resolution announced."))


@case_action(case_access.can_take_part)
def write_rca(request, case):
    form = RcaForm(request.POST)
    if _valid(request, form):
        data = form.cleaned_data
        cases.case_write_rca(case, actor=request.user, internal=data["internal"], customer=data["customer"],
                             cause=data["cause"])
        messages.success(request, _("Root-cause analysis saved."))


@case_action(case_access.is_owner)
def approve_rca(request, case):
    sent = cases.case_approve_customer_rca(case, actor=request.user)
    messages.success(request, _("The customer analysis was approved and sent on %(n)s tickets.") % {"n": sent})


@case_action(case_access.is_owner)
def close(request, case):
    links = case_selectors.case_page(case, request.user)
    form = CloseForm(request.POST, tickets=[t for t in links.affected + links.tasks if t.is_open])
    if _valid(request, form):
        cases.case_close(case, actor=request.user, ticket_actions=form.ticket_actions(),
                         no_rca_reason=form.cleaned_data["no_rca_reason"])
        messages.success(request, _("The case is closed."))


# --- Report ------------------------------------------------------------------------------------------------


@_opener_required
def case_report(request):
    form = ReportForm(request.GET or None)
    today = timezone.localdate()
    start_day, end_day = today.replace(day=1), today
    if form.is_valid():
        start_day = form.cleaned_data["start"] or start_day
        end_day = form.cleaned_data["end"] or end_day
    elif form.is_bound:
        _errors(request, form)  # e.g. a date outside core.dates' range: the default period, and why
    if end_day < start_day:
        messages.error(request, _("The period ends before it starts."))
        start_day, end_day = end_day, start_day
    tz = timezone.get_current_timezone()
    start = datetime.combine(start_day, time.min, tzinfo=tz)
    end = datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=tz)
    return render(request, "cases/report.html", {
        "form": form, "start_day": start_day, "end_day": end_day, "report": case_selectors.case_report(start, end),
    })
