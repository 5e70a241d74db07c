"""Domain events of the ticket lifecycle.

The ticket services (``tickets/services.py``) publish these inside their
transaction, after the change is applied to the ticket (in memory and, unless
said otherwise, saved). Handlers run synchronously, in the order of the table in
``opsdesk/wiring.py`` ("who reacts to what", printed in docs/architecture.md),
and may call the ticket services themselves. Events carry the ticket object the
service holds (locked, current); handlers must not keep it beyond the call.

Every event has ``ticket``, ``actor`` (the user, or ``None`` for the system or
the customer) and ``at`` (the instant of the change, aware UTC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.events import publish

__all__ = [
    "ApprovalDecided",
    "BlockingReasonChanged",
    "CustomerWrote",
    "DeadlineChanged",
    "PeopleChanged",
    "PerformerChanged",
    "PublicMessageDelivered",
    "PublicReplyAdded",
    "Reclassified",
    "SatisfactionRated",
    "StatusChanged",
    "TicketClassified",
    "TicketQueued",
    "publish",
]


@dataclass(frozen=True)
class TicketClassified:
    """A keyword rule gave the new ticket its type (``rule``: the rule object that matched)."""

    ticket: Any
    actor: Any
    at: datetime
    rule: Any


@dataclass(frozen=True)
class TicketQueued:
    """The ticket waits in its queue with no performer: on creation or when handed back.

    ``trigger``: ``created`` or ``returned``; ``exclude``: user ids who just let it go.
    """

    ticket: Any
    actor: Any
    at: datetime
    trigger: str
    exclude: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class PerformerChanged:
    """The performer changed (saved): ``previous`` let go of the ticket, ``ticket.performer`` has it now.

    ``previous``: the former performer, or ``None``; ``ticket.performer`` is ``None`` when it went back to
    the queue.
    """

    ticket: Any
    actor: Any
    at: datetime
    previous: Any


@dataclass(frozen=True)
class PeopleChanged:
    """The owner of the result, the approver or the observers changed (saved), or were named on a new ticket.

    ``changed``: ``owner`` and/or ``approver`` when that person changed (the new one is on the ticket, or
    ``None``); ``added``: user ids who became observers.
    """

    ticket: Any
    actor: Any
    at: datetime
    changed: frozenset[str] = field(default_factory=frozenset)
    added: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class StatusChanged:
    """The status moved from ``old`` to ``new`` (the ticket is not saved yet; the service saves it).

    ``cause``: why, when the system did it (``reply``, ``customer_message``, ``returned_to_queue``…).
    """

    ticket: Any
    actor: Any
    at: datetime
    old: str
    new: str
    cause: str = ""


@dataclass(frozen=True)
class BlockingReasonChanged:
    """A waiting ticket waits for something else now (``previous``: the old reason, or ``None``)."""

    ticket: Any
    actor: Any
    at: datetime
    previous: Any


@dataclass(frozen=True)
class PublicReplyAdded:
    """A public message to the customer was written and is on its way (delivery decides when it counts).

    ``first``: no earlier public reply that counts was written; ``counts_as_response``: ``False`` for an
    automatic apology of an escalation (it stops no clock). The first-response clock stops only when
    the message is delivered (``PublicMessageDelivered``).
    """

    ticket: Any
    actor: Any
    at: datetime
    message: Any
    first: bool
    counts_as_response: bool = True


@dataclass(frozen=True)
class PublicMessageDelivered:
    """A public message that counts as a response left through the customer's channel (``at``: the sending instant).

    ``first``: the ticket's first delivered response; ``message``: the message (its ``sent_at`` is ``at``).
    Published by ``tickets.delivery.message_delivered`` when the mail server accepted it, the gateway took
    it, or an agent logged a reply given by phone.
    """

    ticket: Any
    actor: Any
    at: datetime
    message: Any
    first: bool


@dataclass(frozen=True)
class CustomerWrote:
    """A customer message was appended (after any status change it caused)."""

    ticket: Any
    actor: Any
    at: datetime
    message: Any


@dataclass(frozen=True)
class Reclassified:
    """Triage fields changed: ``changed`` names them (``priority``, ``queue``, ``ticket_type``…).

    ``old_type_id``: the ticket type before, when ``ticket_type`` changed.
    """

    ticket: Any
    actor: Any
    at: datetime
    changed: frozenset[str]
    old_type_id: int | None = None


@dataclass(frozen=True)
class DeadlineChanged:
    """``Ticket.deadline`` moved from ``previous`` to ``ticket.deadline`` (saved).

    ``cause``: ``sla_default``, ``override``, ``deferral``…; ``details``: what the cause adds
    (a deferral's verdict and request id), kept in the SLA clock's history.
    """

    ticket: Any
    actor: Any
    at: datetime
    previous: datetime | None
    cause: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ApprovalDecided:
    """The approver decided on a ticket on approval (its status already moved; ``tickets/approval.py``).

    ``approved``: approved or rejected; ``closed``: approved and closed at once; ``comment``: the approver's words.
    """

    ticket: Any
    actor: Any
    at: datetime
    approved: bool
    closed: bool = False
    comment: str = ""


@dataclass(frozen=True)
class SatisfactionRated:
    """The customer answered the ticket's satisfaction survey (``tickets/satisfaction.py``; ``actor`` is ``None``).

    ``rating``: the ``SatisfactionRating`` row (``good``, ``neutral`` or ``bad``, with the optional comment);
    ``reopened``: the queue's rule sent the done ticket back to work (a bad rating).
    """

    ticket: Any
    actor: Any
    at: datetime
    rating: Any
    reopened: bool = False
