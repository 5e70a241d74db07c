"""The customer page: every ticket of one customer the viewer may open, with totals.

Visibility decides (``Ticket.objects.visible_to``): the page lists and counts only tickets the
viewer may open, and a customer none of whose tickets the viewer may open is a 404 (as if there
were no such customer), so the page never tells who writes to a queue the viewer does not work.
The internal requester record (internal tasks) has no customer page.
"""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from portal import customer_selectors as selectors
from portal.views import _table_page
from tickets import access
from tickets.models import Customer
from tickets.tables import CustomerTicketTable


@require_GET
@access.role_required
def customer_page(request, pk: int):
    customer = get_object_or_404(Customer.objects.select_related("organisation", "vip_tier"), pk=pk, is_internal=False)
    tickets = selectors.customer_tickets(customer, request.user)
    totals = selectors.customer_totals(customer, request.user)
    if totals.total == 0:
        raise Http404
    table = _table_page(request, CustomerTicketTable, tickets, bulk=False)  # no bulk bar on this page
    return render(request, "tickets/customer.html", {"customer": customer, "totals": totals, "table": table})
