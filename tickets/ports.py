"""Questions the ticket services ask a higher floor (answers plugged in by ``opsdesk/wiring.py``)."""

from __future__ import annotations

from core.ports import Port


def _no_classification(title: str, description: str):
    return None


# The keyword rule that gives a new ticket without a type its type (an object with ``ticket_type``), or None.
classify = Port("tickets.classify", default=_no_classification)


def _no_sla(ticket, *, actor):
    return None


# The SLA of a new ticket, planned before its row is written (``ticket_create``): None when no policy applies, else
# an object with ``deadline`` (the default deadline: the resolution due, None when the ticket has a deadline or the
# clock does not run), ``next_due`` (the earliest running due, ``Ticket.sla_next_due``), both written with the row,
# and ``save()``, which stores the clocks once the row has its key. Answered by ``sla``.
plan_clocks = Port("tickets.plan_clocks", default=_no_sla)


def _stored_only(ticket) -> str:
    return "stored"


# How a public reply on ``ticket`` would reach its customer (``"email"``, ``"gateway"``), or "" when no
# channel can carry it; ``ticket_reply(refuse_undeliverable=True)`` refuses then. Answered by ``channels``.
reply_route = Port("tickets.reply_route", default=_stored_only)


def _no_addressing(ticket, messages):
    return None


# Whom the ticket's email conversation involves (the ticket page, which passes the messages it shows, so a
# ticket without a customer email costs no query): an object with ``copies`` (inbound message id
# -> (Reply-To addresses, Cc addresses) of the email it came in), ``to`` and ``cc`` (where the next reply goes by
# email; empty when it does not), or None when no customer email is on the ticket. Answered by ``channels``.
email_addressing = Port("tickets.email_addressing", default=_no_addressing)
