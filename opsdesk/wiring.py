"""Who reacts to what: the one table that connects the floors.

Lower apps publish events (``tickets/events.py``) and declare ports (questions
they ask, ``tickets/ports.py``, ``sla/ports.py``); the apps above subscribe and
answer here, and nowhere else. Handlers of one event run in the order listed,
inside the publishing service's transaction. ``docs/architecture.md`` prints
this table ("who reacts to what"); ``tests/architecture/test_wiring.py`` pins it.
"""

from __future__ import annotations

from core.events import bus
from escalations.planner import LadderPlanner
from routing import assignment
from routing import handlers as routing
from sla import handlers as sla
from sla import ports as sla_ports
from tickets import events
from tickets import ports as ticket_ports

SUBSCRIBERS: list[tuple[type, list]] = [
    # A ticket exists: the SLA starts its clocks and gives the default deadline.
    (events.TicketCreated, [sla.start_clocks]),
    # A keyword rule typed it: the rule's hit is counted and told in the history.
    (events.TicketClassified, [routing.record_classification]),
    # It waits in its queue with no performer (new, or handed back): the queue's strategy may assign it.
    (events.TicketQueued, [routing.route]),
    # Status and blocking reason: the clocks pause, resume or stop; waiting segments open and close.
    (events.StatusChanged, [sla.follow_status, sla.record_wait]),
    (events.BlockingReasonChanged, [sla.follow_reason, sla.record_wait]),
    # The conversation: a public reply stops first response; a customer message may start next reply.
    (events.PublicReplyAdded, [sla.stop_on_reply]),
    (events.CustomerWrote, [sla.customer_wrote]),
    # Triage fields changed: routing learns from a corrected type; the SLA policy may change.
    (events.Reclassified, [routing.learn_from_correction, sla.rematch]),
    # The deadline moved (SLA default, admin override, deferral decision): the deadline clock follows.
    (events.DeadlineChanged, [sla.follow_deadline]),
]

PROVIDERS: list[tuple[object, object]] = [
    # tickets asks routing: the keyword rule that types a new ticket.
    (ticket_ports.classify, assignment.classify_text),
    # sla asks escalations: when must the sweep look at a clock next.
    (sla_ports.escalation_planner, LadderPlanner()),
]


def install() -> None:
    """Subscribe every handler and plug every port (idempotent; runs in ``OpsdeskConfig.ready``)."""
    bus.clear()
    for event_type, handlers in SUBSCRIBERS:
        for handler in handlers:
            bus.subscribe(event_type, handler)
    for port, provider in PROVIDERS:
        port.provide(provider)


def table() -> list[tuple[str, list[str]]]:
    """The table as names: ``[("TicketCreated", ["sla.handlers.start_clocks"]), …]`` (docs and the pinning test)."""
    return [
        (event_type.__name__, [f"{h.__module__}.{h.__qualname__}" for h in handlers])
        for event_type, handlers in SUBSCRIBERS
    ]
