"""The outbox's two buttons on the ticket page: send a failed reply again, and log a reply given by phone."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from channels import outbox
from core.http import form_errors_to_messages
from tickets import access, services
from tickets.forms import LoggedCallForm
from tickets.models import Channel, Message, SatisfactionSurvey, Ticket
from tickets.services import TicketError


def _back(ticket: Ticket):
    return redirect(reverse("tickets:detail", args=[ticket.pk]) + "#conversation")


def _send_again(request, retry, item, done: str) -> None:
    """Put ``item`` back in the outbox; the flash says so, or why it cannot be."""
    try:
        retry(item, actor=request.user)
    except outbox.OutboxError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)


@login_required
@require_POST
def retry(request, pk: int):
    """Allowed to the performer, the queue's dispatchers, managers who see the ticket and admins."""
    visible = Ticket.objects.visible_to(request.user)
    message = get_object_or_404(
        Message.objects.select_related("ticket").filter(ticket__in=visible, kind=Message.Kind.PUBLIC_REPLY), pk=pk
    )
    if not access.can_retry_delivery(request.user, message.ticket):
        raise PermissionDenied
    _send_again(request, outbox.retry, message, _("The reply is being sent again."))
    return _back(message.ticket)


@login_required
@require_POST
def retry_survey(request, pk: int):
    """Send the ticket's undelivered satisfaction survey again: the same people as ``retry``."""
    ticket = get_object_or_404(Ticket.objects.visible_to(request.user), pk=pk)
    if not access.can_retry_delivery(request.user, ticket):
        raise PermissionDenied
    survey = SatisfactionSurvey.objects.filter(ticket=ticket).first()
    if survey is None:
        raise Http404
    _send_again(request, outbox.retry_survey, survey, _("The survey is being sent again."))
    return redirect(reverse("tickets:detail", args=[ticket.pk]) + "#satisfaction")


@login_required
@require_POST
def log_call(request, pk: int):
    """A reply the agent gave by phone: a public message that counts as delivered now."""
    ticket = get_object_or_404(Ticket.objects.visible_to(request.user), pk=pk)
    if not access.can_work(request.user, ticket):
        raise PermissionDenied
    form = LoggedCallForm(request.POST)
    if not form.is_valid():
        form_errors_to_messages(request, form)
        return _back(ticket)
    try:
        services.ticket_reply(ticket, body=form.cleaned_data["body"], actor=request.user, channel=Channel.PHONE)
    except TicketError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The call is logged: the customer was answered by phone."))
    return _back(ticket)
