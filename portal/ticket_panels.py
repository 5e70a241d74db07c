"""What the ticket page's link, merge and customer-history panels show (a constant number of queries).

``ticket_panels`` is merged into the ticket page's context by ``portal.views``; each panel is a small
include (``tickets/_links.html``, ``tickets/_merge.html``, ``tickets/_organisation_tickets.html``).
"""

from __future__ import annotations

from portal.customer_selectors import other_tickets
from tickets import links
from tickets.link_forms import LinkForm, MergeForm


def ticket_panels(ticket, user, *, can_work: bool, can_assign: bool) -> dict:
    """Links (both ends), the merge form and the customer's other tickets: three queries at most.

    ``can_work`` and ``can_assign`` are the page's answers from ``tickets.access``; linking is
    ``access.can_link`` (= can work), merging ``access.can_merge`` (= can assign), so no query repeats them.
    """
    shown = links.ticket_links(ticket, user)
    can_merge = can_assign and ticket.is_open and ticket.merged_into_id is None and not ticket.is_internal
    return {
        "ticket_links": shown,
        "child_links": [item for item in shown if item.is_child],
        "link_form": LinkForm(auto_id="link_%s") if can_work else None,
        "merge_form": MergeForm(auto_id="merge_%s") if can_merge else None,
        "organisation_tickets": other_tickets(ticket, user),
    }
