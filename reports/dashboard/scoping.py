"""Which tickets a figure counts (the ``Scope``); who may open the pages is ``reports.access``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from tickets import access
from tickets.models import Ticket
from tickets.visibility import Visibility, visibility_of


@dataclass(frozen=True)
class Scope:
    """The tickets a report counts: those ``user`` may see, optionally of one queue and one type."""

    user: object
    queue: object = None
    ticket_type: object = None

    @property
    def visibility(self) -> Visibility:
        return visibility_of(self.user)

    def narrow(self, queryset: QuerySet, prefix: str = "", **options) -> QuerySet:
        """``queryset`` (of tickets, or of rows reaching their ticket through ``prefix``) narrowed to the scope.

        ``options`` go to ``Visibility.q`` (``ticket_pk``, ``observed``) for tables that copy ticket columns.
        """
        queryset = self.visibility.filter(queryset, prefix, **options)
        if self.queue is not None:
            queryset = queryset.filter(**{f"{prefix}queue": self.queue})
        if self.ticket_type is not None:
            queryset = queryset.filter(**{f"{prefix}ticket_type": self.ticket_type})
        return queryset

    def tickets(self) -> QuerySet:
        """The tickets in scope: ``Ticket.objects.visible_to`` resolved to id sets (``tickets.visibility``)."""
        return self.narrow(Ticket.objects.all())

    @property
    def unrestricted(self) -> bool:
        return self.queue is None and self.ticket_type is None and access.sees_everything(self.user)


def as_scope(who) -> Scope:
    return who if isinstance(who, Scope) else Scope(who)


def scope(who) -> QuerySet:
    return as_scope(who).tickets()


def in_scope(queryset: QuerySet, who, field: str = "ticket") -> QuerySet:
    """``queryset`` narrowed to rows whose ticket is in scope (no condition for those who see all).

    The condition is put on the joined ticket's columns (``queue_id IN (…) OR performer_id IN (…) …``)
    rather than ``ticket_id IN (SELECT visible tickets)``, so the period index of ``queryset`` drives the plan.
    """
    who = as_scope(who)
    if who.unrestricted:
        return queryset
    return who.narrow(queryset, f"{field}__")
