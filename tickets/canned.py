"""Canned replies: which templates a ticket offers, filling their placeholders, and counting their use.

Placeholders are a fixed set written ``{{name}}`` (spaces inside the braces allowed). Filling is a
plain text substitution (:func:`fill`): a template is never run through a template engine, so its
text can neither read data nor run code. An unknown placeholder, or one whose value the ticket
lacks (no performer yet, no deadline), stays in the text as written and is reported, so the agent
sees it in the reply box before sending.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets import services
from tickets.models import CannedReply, Ticket, display_name

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

# name → what it is (shown to the people who write templates).
PLACEHOLDERS = {
    "customer_name": _("the customer's name"),
    "ticket_number": _("the ticket number, e.g. #1042"),
    "performer": _("the performer's name"),
    "due_date": _("the ticket's deadline in the customer's time zone"),
}

_MONTHS_RU = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Filled:
    """A filled template: ``text``, plus the placeholders left as written (``unknown``: not in the set;
    ``missing``: in the set but the ticket has no value for it)."""

    text: str
    unknown: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unknown and not self.missing


def fill(text: str, values: dict[str, str]) -> Filled:
    """Replace each known ``{{name}}`` of ``text`` by ``values[name]`` (pure: no database, no templates).

    ``values`` holds the known names; an empty value counts as missing and leaves the placeholder visible.
    """
    unknown: list[str] = []
    missing: list[str] = []

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if name not in PLACEHOLDERS:
            if name not in unknown:
                unknown.append(name)
            return match.group(0)
        value = values.get(name) or ""
        if not value:
            if name not in missing:
                missing.append(name)
            return match.group(0)
        return value

    return Filled(PLACEHOLDER.sub(substitute, text or ""), unknown, missing)


def format_due(value: datetime | None, *, zone: str, language: str) -> str:
    """A deadline as the customer reads it: "12 марта 2027, 15:30 (Europe/Moscow)" (pure).

    An unknown ``zone`` falls back to the OpsDesk time zone.
    """
    if value is None:
        return ""
    try:
        tz = ZoneInfo(zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo(settings.TIME_ZONE)
    local = value.astimezone(tz)
    months = _MONTHS_RU if language.startswith("ru") else _MONTHS_EN
    return f"{local.day} {months[local.month - 1]} {local.year}, {local:%H:%M} ({tz.key})"


def values_for(ticket: Ticket, *, language: str) -> dict[str, str]:
    """The placeholder values of ``ticket`` (its customer, number, performer, deadline)."""
    customer = ticket.customer
    return {
        "customer_name": customer.name if customer and not customer.is_internal else "",
        "ticket_number": ticket.reference,
        "performer": display_name(ticket.performer) if ticket.performer_id else "",
        "due_date": format_due(ticket.deadline, zone=getattr(customer, "time_zone", ""), language=language),
    }


def fill_for(template: CannedReply, ticket: Ticket, *, language: str) -> Filled:
    return fill(template.body_in(language), values_for(ticket, language=language))


def offered_for(ticket: Ticket) -> QuerySet:
    """The active templates a ticket offers: its queue's and the global ones."""
    return CannedReply.objects.filter(Q(queue__isnull=True) | Q(queue_id=ticket.queue_id), is_active=True).order_by(
        "name"
    )


def offered_template(ticket: Ticket, pk) -> CannedReply | None:
    """The template ``pk`` if ``ticket`` offers it (anything else, a bad id included: ``None``)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return offered_for(ticket).filter(pk=pk).first()


@transaction.atomic
def ticket_reply_with_template(ticket: Ticket, *, template: CannedReply | None, **reply):
    """``tickets.services.ticket_reply`` that also counts the template's use, in the same transaction
    (a refused reply counts nothing)."""
    message = services.ticket_reply(ticket, **reply)
    if template is not None:
        CannedReply.objects.filter(pk=template.pk).update(usage_count=F("usage_count") + 1, last_used_at=timezone.now())
    return message
