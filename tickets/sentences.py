"""History rows as sentences in the viewer's language (the ticket page, the approval screen, cases).

Each app declares its history kinds with a sentence renderer ``fn(event, who, lookups, ticket) -> str``
(``tickets.history.declare``); the helpers here turn stored codes and references back into names.
"""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.formatting import format_dt
from core.people import display_name
from tickets import history
from tickets.models import BlockingReason, Queue, TicketType


class Lookups:
    """Catalogue names for codes stored in history rows, loaded once per page."""

    def __init__(self) -> None:
        self._queues: dict[str, str] | None = None
        self._types: dict[str, str] | None = None
        self._reasons: dict[str, str] | None = None

    def queue(self, slug) -> str:
        if self._queues is None:
            self._queues = {q.slug: q.label for q in Queue.objects.all()}
        return self._queues.get(slug, str(slug or "—"))

    def ticket_type(self, slug) -> str:
        if self._types is None:
            self._types = {t.slug: t.label for t in TicketType.objects.all()}
        return self._types.get(slug, str(slug or "—"))

    def reason(self, code) -> str:
        if self._reasons is None:
            self._reasons = {r.code: r.label for r in BlockingReason.objects.all()}
        return self._reasons.get(code, str(code or "—"))


def label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def ref_name(ref) -> str:
    return (ref or {}).get("name") or _("nobody")


def when(value) -> str:
    parsed = parse_datetime(value) if isinstance(value, str) else value
    return format_dt(parsed) if parsed else ""


def describe_event(event, ticket=None, lookups: Lookups | None = None) -> str:
    """One history row as a sentence in the active language."""
    who = display_name(event.actor)
    renderer = history.sentence_for(event.kind)
    if renderer is None:
        return _("%(who)s: %(event)s.") % {"who": who, "event": event.kind}
    return renderer(event, who, lookups or Lookups(), ticket)
