"""Bulk actions in the portal: the bar above the ticket list, My work and the intake board, and the job page.

The views only parse the request: which tickets (the rows ticked, or every row of the page's filter) and
which action. ``tickets.bulk`` checks the action, runs each ticket through the ticket services in its own
transaction and records the outcome on a ``BulkJob``, whose page shows the progress (polled by htmx
while a django-q2 worker runs it) and each ticket that was skipped or failed, with the reason.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import router
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.http import safe_next
from core.rowcache import Precompiled, RowCheckedCache
from portal import selectors
from portal.filters import MyWorkFilter, TicketListFilter
from tickets import access, bulk
from tickets import selectors as ticket_selectors
from tickets.models import BulkJob, Priority, Status, Ticket
from tickets.tables import SelectColumn

SOURCES = ("list", "my_work", "intake")
# The bar's field → the action's parameter ("assignee": the rows' inline assign forms already post "performer").
PARAMS = {
    "assignee": "performer",
    "status": "status",
    "reason": "reason",
    "comment": "comment",
    "priority": "priority",
    "queue": "queue",
}


def select_column(table_class, user) -> dict:
    """Keyword arguments for a ticket table: the checkbox column first, for those who may act in bulk."""
    if not access.can_bulk_act(user):
        return {}
    sequence = list(table_class._meta.sequence or ()) or ["..."]
    return {"extra_columns": [("select", SelectColumn())], "sequence": ["select", *sequence]}


def _options(pairs) -> str:
    """``<option value="…">…</option>`` for each ``(value, label)``, escaped, with nothing between them."""
    return format_html_join("", '<option value="{}">{}</option>', pairs)




def toolbar(request, source: str, count: int) -> dict:
    """The bulk bar's context (empty for those who may not act in bulk).

    Every list page of a lead carries the bar: its ``<option>``s (people twice, reasons, queues) are built
    here in one pass each, not by a template loop per option on every page view."""
    if not access.can_bulk_act(request.user):
        return {}
    # Plain rows, no model instances: the profile's display name, else the username.
    using = router.db_for_read(Ticket)
    rows = _PEOPLE.rows(using=using)
    people = _options((pk, display or username) for pk, display, username in rows)
    return {
        "bulk": {
            "source": source,
            "count": count,
            "action_options": _options(BulkJob.Action.choices),
            "people_options": people,
            "status_options": _options((value, Status(value).label) for value in bulk.BULK_STATUSES),
            "reason_options": _options((reason.pk, reason.label) for reason in _REASONS.get(using)),
            "priority_options": _options(Priority.choices),
            "queue_options": _options((queue.pk, queue.label) for queue in _QUEUES.get(using)),
            "query": request.GET.urlencode(),
        }
    }


# Every lead's list page draws the bar: its choices are read by statements compiled once per process, and the
# queues and reasons are built again only when their rows change (``core.rowcache``).
_PEOPLE = Precompiled(lambda: ticket_selectors.people().values_list("pk", "profile__display_name", "username"))
_REASONS = RowCheckedCache(ticket_selectors.active_reasons)
_QUEUES = RowCheckedCache(ticket_selectors.active_queues)


def _filter_ids(request, source: str, query: str) -> list[int]:
    """Every ticket of a page's filter (``query``: that page's query string), at most one more than a job takes."""
    data, user = QueryDict(query or ""), request.user
    if source == "my_work":
        tickets = MyWorkFilter(data or None, queryset=selectors.my_work(user), request=request).qs
    elif source == "intake":
        tickets = selectors.intake_board(user)
    else:
        tickets = TicketListFilter(data or None, queryset=selectors.ticket_list(user), request=request).qs
    return list(tickets.values_list("pk", flat=True)[: bulk.MAX_TICKETS + 1])


@login_required
@require_POST
def bulk_apply(request):
    if not access.can_bulk_act(request.user):
        raise PermissionDenied
    post = request.POST
    back = safe_next(request, reverse("tickets:list"))
    source = post.get("source") if post.get("source") in SOURCES else "list"
    everything = post.get("scope") == "filter"
    ids = _filter_ids(request, source, post.get("query", "")) if everything else post.getlist("ticket")
    params = {param: post.get(name, "") for name, param in PARAMS.items()}
    params["observers"] = post.getlist("observers")
    action = post.get("action", "")
    try:
        job = bulk.bulk_start(
            request.user, action=action, params=_relevant(action, params), ticket_ids=ids, force_async=everything
        )
    except bulk.TicketError as exc:
        messages.error(request, _("Nothing was changed: %(reason)s") % {"reason": exc})
        return redirect(back)
    if job.state == BulkJob.State.FINISHED:
        messages.success(request, _("%(done)d of %(total)d tickets changed.") % {"done": job.done, "total": job.total})
    else:
        messages.info(request, _("%(total)d tickets are being changed in the background.") % {"total": job.total})
    return redirect("tickets:bulk_job", pk=job.pk)


def _relevant(action: str, params: dict) -> dict:
    """Only the parameters the action reads (a stray reason with "assign" is not an error)."""
    keys = {
        BulkJob.Action.ASSIGN: ("performer",),
        BulkJob.Action.STATUS: ("status", "reason", "comment"),
        BulkJob.Action.PRIORITY: ("priority",),
        BulkJob.Action.QUEUE: ("queue",),
        BulkJob.Action.OBSERVERS: ("observers",),
    }.get(action, ())
    return {key: params[key] for key in keys}


@login_required
@require_GET
def bulk_job(request, pk: int):
    """A job's progress and outcome: only for the person who started it."""
    if not access.can_bulk_act(request.user):
        raise PermissionDenied
    job = get_object_or_404(BulkJob, pk=pk, actor=request.user)
    template = "tickets/_bulk_progress.html" if request.htmx else "tickets/bulk_job.html"
    return render(request, template, {"job": job})
