"""Deferral pages: the request form on the ticket, the approval inbox, the approval screen, the team view.

Thin views: form → ``deferrals.services`` service → message. The performer's
actions need the ticket to be visible (404) and the performer or owner role
(403). The approval pages are for approvers only (403 otherwise) and show a
request only when it is on the user's desk (admins: every request), else 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import dates
from core.http import form_errors_to_messages as _form_errors
from core.http import safe_next as _safe_next
from deferrals import access as deferral_access
from deferrals import selectors as deferral_selectors
from deferrals import services as deferrals
from deferrals.forms import DecisionForm, DeclineForm, DeferralRequestForm
from deferrals.models import DeferralRequest
from tickets.models import Ticket, display_name
from tickets.services import TicketError


def _approver_only(request) -> None:
    if not deferral_access.is_approver(request.user):
        raise PermissionDenied


def _approvable_or_404(request, pk: int) -> DeferralRequest:
    _approver_only(request)
    return get_object_or_404(deferral_selectors.with_people(deferral_selectors.approvable(request.user)), pk=pk)


# --- The performer ------------------------------------------------------------------------------


@login_required
@require_POST
def request_deferral(request, pk: int):
    ticket = get_object_or_404(Ticket.objects.visible_to(request.user), pk=pk)
    if not deferral_access.can_request(request.user, ticket):
        raise PermissionDenied
    form = DeferralRequestForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            deferral = deferrals.deferral_request(ticket, actor=request.user, **form.cleaned_data)
        except TicketError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Your deferral request went to %(person)s.") % {"person": display_name(deferral.addressed_to)},
            )
    return redirect("tickets:detail", pk=ticket.pk)


@login_required
@require_POST
def provide_cause(request, pk: int):
    deferral = get_object_or_404(
        DeferralRequest.objects.select_related("ticket").filter(requested_by=request.user), pk=pk
    )
    form = DeferralRequestForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            deferrals.deferral_provide_cause(deferral, actor=request.user, **form.cleaned_data)
        except TicketError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Your explanation was added to the request."))
    return redirect("tickets:detail", pk=deferral.ticket_id)


# --- The approver -------------------------------------------------------------------------------


@login_required
@require_GET
def inbox(request):
    _approver_only(request)
    pending = list(deferral_selectors.inbox(request.user))
    return render(request, "deferrals/inbox.html", {"pending": pending})


@login_required
@require_GET
def team(request):
    _approver_only(request)
    pending = list(deferral_selectors.team_pending(request.user))
    return render(
        request,
        "deferrals/team.html",
        {"pending": pending, "decision_form": DecisionForm(), "decline_form": DeclineForm(prefix="decline")},
    )


def _screen(request, deferral: DeferralRequest, *, form=None, decline_form=None, status=200):
    ticket = deferral_selectors.approval_ticket(deferral)
    calendar = deferral_selectors.ticket_calendar(ticket)
    now = timezone.now()
    proposed = deferral.proposed_deadline
    if form is None:
        form = DecisionForm(initial={"new_deadline": timezone.localtime(proposed) if proposed else None})
    form.fields["new_deadline"].widget.attrs.update({
        "hx-get": reverse("deferrals:distance", args=[deferral.pk]),
        "hx-trigger": "change, input delay:400ms",
        "hx-target": "#new-distance",
        "hx-swap": "innerHTML",
    })
    context = {
        "deferral": deferral,
        "ticket": ticket,
        "conversation": ticket.messages.all(),
        "history": ticket.events.all(),
        "earlier": deferral_selectors.earlier_deferrals(deferral, now),
        "earlier_days": deferral_selectors.EARLIER_DAYS,
        "can_decide": deferral.is_pending and deferral_access.can_decide(request.user, deferral),
        "form": form,
        "decline_form": decline_form or DeclineForm(prefix="decline"),
        "from_old": deferral_selectors.distance(calendar, deferral.old_deadline, proposed),
        "from_now": deferral_selectors.distance(calendar, now, proposed),
        "overdue_by": deferral_selectors.distance(calendar, deferral.old_deadline, now),
        "next": _safe_next(request, ""),
    }
    return render(request, "deferrals/decide.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def decide(request, pk: int):
    deferral = _approvable_or_404(request, pk)
    if request.method == "GET":
        return _screen(request, deferral)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            deferrals.deferral_decide(deferral, actor=request.user, **form.cleaned_data)
        except TicketError as exc:
            messages.error(request, str(exc))
        else:
            # The verdict in the sentence's form ("verdict “objective”"), not the list's plural heading.
            verdict = {"objective": pgettext("verdict in a sentence", "Objective"),
                       "subjective": pgettext("verdict in a sentence", "Subjective")}[form.cleaned_data["verdict"]]
            messages.success(
                request,
                _("%(ticket)s: new deadline set, verdict “%(verdict)s”.")
                % {"ticket": deferral.ticket.reference, "verdict": verdict},
            )
            return redirect(_safe_next(request, reverse("deferrals:inbox")))
    else:
        _form_errors(request, form)
    if request.POST.get("next"):
        return redirect(_safe_next(request, reverse("deferrals:inbox")))
    return _screen(request, deferral, form=form, status=200 if form.is_valid() else 400)


@login_required
@require_POST
def decline(request, pk: int):
    deferral = _approvable_or_404(request, pk)
    form = DeclineForm(request.POST, prefix="decline")
    if form.is_valid():
        try:
            deferrals.deferral_decline(deferral, actor=request.user, comment=form.cleaned_data["comment"])
        except TicketError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(ticket)s: deferral declined, the deadline stays.")
                             % {"ticket": deferral.ticket.reference})
            return redirect(_safe_next(request, reverse("deferrals:inbox")))
    else:
        _form_errors(request, form)
    return redirect(_safe_next(request, reverse("deferrals:decide", args=[deferral.pk])))


@login_required
@require_GET
def distance(request, pk: int):
    """The htmx fragment under the new-deadline field: its business-time distance from the old deadline and now."""
    deferral = _approvable_or_404(request, pk)
    raw = request.GET.get("new_deadline", "")
    try:
        value = parse_datetime(raw) if raw else None
    except ValueError:  # well formed but impossible (2026-02-30T10:00)
        value = None
    if not dates.in_range(value):
        return render(request, "deferrals/_distance_refused.html", {"message": dates.out_of_range_message()})
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    ticket = deferral_selectors.approval_ticket(deferral)
    calendar = deferral_selectors.ticket_calendar(ticket)
    context = {
        "from_old": deferral_selectors.distance(calendar, deferral.old_deadline, value),
        "from_now": deferral_selectors.distance(calendar, timezone.now(), value),
        "value": value,
    }
    return render(request, "deferrals/_distance.html", context)
