"""The search page (``GET /search/?q=``): the top bar's box, narrowed by the ticket list's filters (docs/search.md).

The search itself, and the visibility it obeys, are ``tickets.search``'s; this view only reads the request.
The filter fields are rendered with the results only when a filter is set; otherwise the page's Filters box
fetches them (``?filters=form``) when it is opened: their choices (queues, people, reasons, tiers, …) cost the
page more than a search at a million tickets (docs/search.md).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from portal.filters import TicketListFilter
from tickets import search as ticket_search
from tickets.models import Ticket


def _page(request) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isdigit() and len(value) < 5 else 1


@login_required
def search(request):
    text = request.GET.get("q", "")
    ticket = ticket_search.openable_ticket(request.user, text)
    if ticket is not None:
        return redirect("tickets:detail", pk=ticket.pk)
    params = request.GET.copy()
    for name in ("q", "page", "filters"):
        params.pop(name, None)
    filterset = TicketListFilter(params or None, queryset=Ticket.objects.all(), request=request)
    del filterset.filters["q"]  # the box is the search itself, not "title contains"
    if request.GET.get("filters") == "form":  # the fields alone, fetched when the Filters box is opened
        return render(request, "tickets/_filter_fields.html", {"filter": filterset})
    results = ticket_search.search(request.user, text, tickets=filterset.qs, page=_page(request))
    params.pop("csrfmiddlewaretoken", None)
    return render(
        request,
        "tickets/search.html",
        {
            "results": results,
            "filter": filterset,
            "filtered": bool(params),
            "query_string": params.urlencode(),
            "max_length": ticket_search.search_text.QUERY_MAX,
        },
    )
