"""How the deferral workflow reacts to the ticket lifecycle (subscribed in ``opsdesk/wiring.py``)."""

from __future__ import annotations

from deferrals import services
from tickets import events
from tickets.models import CLOSED_STATUSES


def withdraw_on_close(event: events.StatusChanged) -> None:
    """A ticket done or canceled withdraws its pending deferral request: nobody decides on a closed ticket."""
    if event.new in CLOSED_STATUSES:
        services.deferrals_withdraw_for_closed(event.ticket, actor=event.actor, at=event.at)
