"""Manual escalation from the ticket page: thin POST views (form → service → message → back to the ticket)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from escalations import services
from escalations.manual_forms import FunctionalEscalationForm, HierarchicalEscalationForm
from tickets import access
from tickets.models import Ticket, display_name
from tickets.services import TicketError


def _ticket(request, pk: int) -> Ticket:
    ticket = get_object_or_404(
        Ticket.objects.visible_to(request.user).select_related("queue", "performer__profile"), pk=pk
    )
    if not access.can_work(request.user, ticket):
        raise PermissionDenied
    return ticket


def _errors(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _back(request, ticket: Ticket):
    if Ticket.objects.visible_to(request.user).filter(pk=ticket.pk).exists():
        return redirect("tickets:detail", pk=ticket.pk)
    messages.info(request, _("%(ticket)s moved to a queue you do not see.") % {"ticket": ticket.reference})
    return redirect("tickets:list")


@login_required
@require_POST
def escalate_functional(request, pk: int):
    ticket = _ticket(request, pk)
    form = FunctionalEscalationForm(request.POST, ticket=ticket)
    if not form.is_valid():
        _errors(request, form)
        return redirect("tickets:detail", pk=ticket.pk)
    try:
        services.escalate_functional(
            ticket, to_queue=form.cleaned_data["queue"], reason=form.cleaned_data["reason"], actor=request.user
        )
    except TicketError as exc:
        messages.error(request, str(exc))
        return redirect("tickets:detail", pk=ticket.pk)
    messages.success(
        request, _("%(ticket)s was escalated to %(queue)s.") % {
            "ticket": ticket.reference, "queue": form.cleaned_data["queue"].label,
        }
    )
    return _back(request, ticket)


@login_required
@require_POST
def escalate_hierarchical(request, pk: int):
    ticket = _ticket(request, pk)
    form = HierarchicalEscalationForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect("tickets:detail", pk=ticket.pk)
    try:
        row = services.escalate_hierarchical(
            ticket, reason=form.cleaned_data["reason"], assign=form.cleaned_data["assign"], actor=request.user
        )
    except TicketError as exc:
        messages.error(request, str(exc))
        return redirect("tickets:detail", pk=ticket.pk)
    messages.success(
        request, _("%(ticket)s was escalated to %(person)s.") % {
            "ticket": ticket.reference, "person": display_name(row.to_user),
        }
    )
    return _back(request, ticket)
