"""Canned replies in the portal: managers and admins maintain them; the ticket page inserts one into the reply box.

Insertion works without JavaScript: the ticket page's "insert" form is a GET to the ticket page with
``?canned=<id>&canned_lang=ru``, which renders the reply box filled (``tickets.canned.fill``); with htmx
the same request swaps only the reply box. The filled text is what the agent sees and can edit before
sending; placeholders left unfilled stay visible and are named above the box.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.tool_forms import CannedReplyForm
from tickets import access, canned
from tickets.access import role_required
from tickets.models import CannedReply


def _check(user) -> None:
    if not access.can_manage_canned_replies(user):
        raise PermissionDenied


@role_required
def canned_list(request):
    _check(request.user)
    replies = CannedReply.objects.select_related("queue").order_by("queue__name", "name")
    return render(request, "tickets/canned_list.html", {"replies": replies, "placeholders": canned.PLACEHOLDERS})


@role_required
def canned_edit(request, pk: int | None = None):
    _check(request.user)
    instance = get_object_or_404(CannedReply, pk=pk) if pk is not None else None
    form = CannedReplyForm(request.POST or None, instance=instance)
    if request.method == "POST":
        if form.is_valid():
            reply = form.save(commit=False)
            if instance is None:
                reply.created_by = request.user
            reply.save()
            messages.success(request, _("Canned reply “%(name)s” saved.") % {"name": reply.label})
            return redirect("tickets:canned_list")
        messages.error(request, _("The canned reply was not saved: please check the highlighted fields."))
    return render(request, "tickets/canned_form.html", {"form": form, "reply": instance})


@role_required
@require_http_methods(["GET", "POST"])
def canned_delete(request, pk: int):
    """GET asks to confirm (what goes, how often agents used it); POST deletes."""
    _check(request.user)
    reply = get_object_or_404(CannedReply.objects.select_related("queue"), pk=pk)
    if request.method == "GET":
        return render(request, "tickets/canned_delete.html", {"reply": reply})
    reply.delete()
    messages.success(request, _("Canned reply “%(name)s” deleted.") % {"name": reply.label})
    return redirect("tickets:canned_list")


def reply_box_context(request, ticket) -> dict:
    """What the ticket page's reply box needs: the templates offered, and the one asked for by ``?canned=``
    filled for this ticket in ``?canned_lang=`` (the customer's language by default)."""
    offered = list(canned.offered_for(ticket))
    context = {"canned_replies": offered, "canned_filled": None, "canned_template": None}
    wanted = request.GET.get("canned")
    if wanted in (None, ""):
        return context
    template = next((t for t in offered if str(t.pk) == wanted), None)
    if template is None:
        messages.error(request, _("This canned reply is not offered for this ticket."))
        return context
    language = request.GET.get("canned_lang")
    if language not in ("ru", "en"):
        language = ticket.customer.language or "ru"
    context.update(
        canned_template=template,
        canned_language=language,
        canned_filled=canned.fill_for(template, ticket, language=language),
    )
    return context
