"""Who reacts to what: the one table that connects the floors.

Lower apps publish events (``tickets/events.py``) and declare ports (questions
they ask, ``tickets/ports.py``, ``sla/ports.py``); the apps above subscribe and
answer here, and nowhere else. Handlers of one event run in the order listed,
inside the publishing service's transaction. ``docs/architecture.md`` prints
this table ("who reacts to what"); ``tests/architecture/test_wiring.py`` pins it.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
from typing import Any

from channels import email as channel_email
from channels import handlers as channels
from channels import routes as channel_routes
from core.events import bus
from deferrals import handlers as deferrals
from escalations.planner import LadderPlanner
from notifications import handlers as notifications
from routing import assignment
from routing import handlers as routing
from sla import handlers as sla
from sla import ports as sla_ports
from tickets import events
from tickets import ports as ticket_ports

SUBSCRIBERS: list[tuple[type, list]] = [
    # A keyword rule typed it: the rule's hit is counted and told in the history.
    (events.TicketClassified, [routing.record_classification]),
    # It waits in its queue with no performer (new, or handed back): the queue's strategy may assign it.
    # Still waiting in a pull queue after that: its agents hear they can take it.
    (events.TicketQueued, [routing.route, routing.announce_waiting]),
    # The performer changed (assigned, reassigned, handed back): the new and the former performer hear of it.
    (events.PerformerChanged, [notifications.performer_changed]),
    # A new owner, approver or observer (also named on creation) hears of their role.
    (events.PeopleChanged, [notifications.people_changed]),
    # Status and blocking reason: the clocks pause, resume or stop; waiting segments open and close.
    # The approver hears a ticket waits for them; observers hear of status changes and of the resolution;
    # a ticket done or canceled withdraws its pending deferral request; a ticket done for the first time sends its
    # customer the satisfaction survey.
    (events.StatusChanged,
     [sla.follow_status, sla.record_wait, notifications.status_changed, deferrals.withdraw_on_close,
      channels.send_survey]),
    (events.BlockingReasonChanged, [sla.follow_reason, sla.record_wait]),
    # The conversation: a public message goes to the customer's outbox; when it is delivered (sent, not
    # clicked) first response and next reply stop; a customer message may start next reply, and the
    # performer (and the owner) hear the customer answered.
    (events.PublicReplyAdded, [channels.deliver_reply]),
    (events.PublicMessageDelivered, [sla.stop_on_reply]),
    (events.CustomerWrote, [sla.customer_wrote, notifications.customer_wrote]),
    # The approver decided: the performer hears the decision.
    (events.ApprovalDecided, [notifications.approval_decided]),
    # Triage fields changed: routing learns from a corrected type; the SLA policy may change.
    (events.Reclassified, [routing.learn_from_correction, sla.rematch]),
    # The deadline moved (SLA default, admin override, deferral decision): the deadline clock follows.
    (events.DeadlineChanged, [sla.follow_deadline]),
    # The customer answered the satisfaction survey: a bad answer is told to the owner.
    (events.SatisfactionRated, [notifications.satisfaction_rated]),
]

PROVIDERS: list[tuple[object, object]] = [
    # tickets asks sla: the clocks of a new ticket, its default deadline and earliest due (written with its row).
    (ticket_ports.plan_clocks, sla.plan_clocks),
    # tickets asks routing: the keyword rule that types a new ticket.
    (ticket_ports.classify, assignment.classify_text),
    # sla asks escalations: when must the sweep look at a clock next.
    (sla_ports.escalation_planner, LadderPlanner()),
    # tickets asks channels: can a public reply reach this ticket's customer at all.
    (ticket_ports.reply_route, channel_routes.reply_route),
    # tickets asks channels: whom the customer's emails named (Reply-To, Cc) and where a reply goes.
    (ticket_ports.email_addressing, channel_email.addressing),
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
    """The table as names: ``[("TicketClassified", ["routing.handlers.record_classification"]), …]`` (docs and the
    pinning test)."""
    return [
        (event_type.__name__, [f"{h.__module__}.{h.__qualname__}" for h in handlers])
        for event_type, handlers in SUBSCRIBERS
    ]


# --- The table as documentation (docs/architecture.md, "Who reacts to what"; ``manage.py architecture_docs``) ---


def _dotted(obj) -> str:
    """``module.qualname`` of a function or class; an instance is named by its class."""
    target = obj if hasattr(obj, "__qualname__") else type(obj)
    return f"{target.__module__}.{target.__qualname__}"


def providers() -> list[tuple[str, str]]:
    """The ports as names: ``[("tickets.classify", "routing.assignment.classify_text"), …]``."""
    return [(port.name, _dotted(provider)) for port, provider in PROVIDERS]


def _md(text: str) -> str:
    """Docstring text as one Markdown line fit for a table cell: double backticks become single, pipes escaped."""
    return " ".join(text.replace("``", "`").split()).replace("|", "\\|")


def _doc(obj) -> list[str]:
    """The docstring of ``obj`` (of its class for an instance) as paragraphs; the first is its summary."""
    target = obj if hasattr(obj, "__qualname__") else type(obj)
    text = inspect.getdoc(target) or ""
    return [_md(paragraph) for paragraph in text.split("\n\n") if paragraph.strip()]


def _summary(obj) -> str:
    paragraphs = _doc(obj)
    return paragraphs[0] if paragraphs else ""


def _port_module(port) -> str:
    """The module that declares ``port``: ``<app>.ports`` by convention (else just the port's app)."""
    app, _dot, attr = port.name.partition(".")
    module = sys.modules.get(f"{app}.ports")
    return f"{app}.ports" if module is not None and getattr(module, attr, None) is port else app


_COMMON_FIELDS = ("ticket", "actor", "at")


def _field(f: dataclasses.Field) -> str:
    text = f.name if f.type in ("Any", Any) else f"{f.name}: {f.type}"
    if f.default is not dataclasses.MISSING:
        text += f" = {f.default!r}"
    elif f.default_factory is not dataclasses.MISSING:
        text += f" = {f.default_factory()!r}"
    return f"`{text}`"


def markdown() -> str:
    """The "who reacts to what" table as Markdown: events in order with their handlers, the ports, event fields.

    Rendered from ``SUBSCRIBERS`` and ``PROVIDERS`` and the docstrings of the events, handlers and providers;
    ``docs/architecture.md`` holds exactly this between its ``wiring`` markers (a test checks it).
    """
    lines = [
        "| # | event | what it means | who reacts, in this order |",
        "|---|---|---|---|",
    ]
    for number, (event_type, handlers) in enumerate(SUBSCRIBERS, start=1):
        reactions = "<br>".join(
            f"{i}. `{_dotted(handler)}`: {_summary(handler)}" for i, handler in enumerate(handlers, start=1)
        )
        lines.append(f"| {number} | `{event_type.__name__}` | {_summary(event_type)} | {reactions} |")
    lines += [
        "",
        "| port (declared in) | answered by | the answer |",
        "|---|---|---|",
    ]
    for port, provider in PROVIDERS:
        lines.append(f"| `{port.name}` (`{_port_module(port)}`) | `{_dotted(provider)}` | {_summary(provider)} |")
    lines += [
        "",
        f"Fields of each event (`{events.__name__}`), besides {', '.join(f'`{n}`' for n in _COMMON_FIELDS)}:",
        "",
    ]
    for event_type, _handlers in SUBSCRIBERS:
        fields = [_field(f) for f in dataclasses.fields(event_type) if f.name not in _COMMON_FIELDS]
        meaning = " ".join(_doc(event_type)[1:]) or _summary(event_type)  # the details, else the summary
        lines.append(f"- `{event_type.__name__}`: {', '.join(fields) or 'none'}. {meaning}".rstrip())
    return "\n".join(lines) + "\n"
