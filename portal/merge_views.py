"""Merge and links on the ticket page: POST only, each through its one service (``tickets.merge``, ``tickets.links``).

The ticket acted on is looked up visible to the user (404 otherwise) and the role checked with
``tickets.access`` (403 otherwise); the other ticket is named by number, and a number the user may
not open reads exactly like one that does not exist. A refusal is an error message that changes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from core.http import form_errors_to_messages as _form_errors
from portal.views import ticket_action
from tickets import access, links, merge
from tickets.errors import TicketError
from tickets.link_forms import LinkForm, MergeForm, UnlinkForm
from tickets.models import Ticket

MAX_ID = 2**63 - 1


def _other(user, pk: int) -> Ticket:
    """The ticket numbered ``pk`` if ``user`` may open it; otherwise a refusal that does not say which case."""
    other = Ticket.objects.visible_to(user).filter(pk=pk).first() if pk <= MAX_ID else None
    if other is None:
        raise TicketError(_("Ticket #%(pk)s does not exist or you may not open it.") % {"pk": pk})
    return other


@ticket_action(access.can_merge)
def ticket_merge(request, ticket):
    form = MergeForm(request.POST, auto_id="merge_%s")
    if not form.is_valid():
        return _form_errors(request, form)
    into = merge.ticket_merge(ticket, into=_other(request.user, form.cleaned_data["into"]), actor=request.user)
    messages.success(
        request,
        _("Ticket %(dup)s was merged into %(into)s and closed as a duplicate.")
        % {"dup": ticket.reference, "into": into.reference},
    )
    return redirect("tickets:detail", into.pk)


@ticket_action(access.can_link)
def ticket_link(request, ticket):
    form = LinkForm(request.POST, auto_id="link_%s")
    if not form.is_valid():
        return _form_errors(request, form)
    other = _other(request.user, form.cleaned_data["other"])
    links.ticket_link(ticket, other=other, kind=form.cleaned_data["kind"], actor=request.user)
    messages.success(request, _("Linked with %(other)s.") % {"other": other.reference})


@ticket_action(access.can_link)
def ticket_unlink(request, ticket):
    form = UnlinkForm(request.POST)
    if not form.is_valid():
        return _form_errors(request, form)
    other = _other(request.user, form.cleaned_data["other"])
    links.ticket_unlink(ticket, other=other, actor=request.user)
    messages.success(request, _("The link with %(other)s was removed.") % {"other": other.reference})
