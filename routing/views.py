"""Queue pages: the live queue monitor (dispatchers, managers, admins) and pull-queue actions (agents).

Thin views: ``routing.queue_monitor`` builds the numbers, ``routing.assignment`` takes and skips tickets;
a ``TicketError`` becomes an error message. State changes are POSTs that redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from routing import access as routing_access
from routing import assignment, queue_monitor
from tickets.models import Queue, QueueMembership, Ticket
from tickets.services import TicketError


@login_required
@require_GET
def monitor(request):
    if not routing_access.can_monitor(request.user):
        raise PermissionDenied
    now = timezone.now()
    queues = list(queue_monitor.monitored_queues(request.user).order_by("name"))
    # Read-only: the page shows a crossing (``QueueStats.alerts``); the ``routing.queue_alerts`` schedule
    # stores it and notifies the dispatchers (``queue_monitor.evaluate_all_alerts``), never a GET.
    stats = queue_monitor.queue_stats(queues, now=now)
    context = {"stats": stats, "skips": queue_monitor.skip_summary(queues, now=now), "now": now}
    template = "routing/_monitor.html" if request.htmx else "routing/monitor.html"
    return render(request, template, context)


def _agent_of(user, queue: Queue) -> bool:
    return QueueMembership.objects.filter(user=user, queue=queue, role=QueueMembership.Role.AGENT).exists()


@login_required
@require_POST
def take_next(request, queue_pk: int):
    queue = get_object_or_404(Queue, pk=queue_pk, is_active=True)
    if not _agent_of(request.user, queue):
        raise PermissionDenied
    try:
        ticket = assignment.take_next(request.user, queue)
    except TicketError as exc:
        messages.error(request, str(exc))
        return redirect("tickets:my_work")
    messages.success(request, _("%(ticket)s is yours now.") % {"ticket": ticket.reference})
    return redirect("tickets:detail", pk=ticket.pk)


@login_required
@require_POST
def skip(request, pk: int):
    ticket = get_object_or_404(Ticket.objects.visible_to(request.user).select_related("queue"), pk=pk)
    if not _agent_of(request.user, ticket.queue):
        raise PermissionDenied
    try:
        assignment.ticket_skip(ticket, user=request.user, reason=request.POST.get("reason", ""))
    except TicketError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, _("You skipped %(ticket)s.") % {"ticket": ticket.reference})
    return redirect("tickets:my_work")
