"""Ticket querysets: ``open()`` and ``visible_to(user)`` (the rule lives in ``tickets/visibility.py``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from tickets import visibility
from tickets.choices import OPEN_STATUSES


def next_step_overdue_condition(now=None) -> models.Q:
    """A next step was planned with a date, and that date has passed (on open tickets: see the method)."""
    return ~models.Q(next_step="") & models.Q(next_step_due__lt=now or timezone.now())


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def without_next_step(self):
        """Open tickets nobody planned a next step for (seed 000's "tasks without the next step")."""
        return self.open().filter(next_step="")

    def next_step_overdue(self, now=None):
        """Open tickets whose next step was due before ``now`` (``Ticket.is_next_step_overdue``)."""
        return self.open().filter(next_step_overdue_condition(now))

    def visible_to(self, user):
        """Tickets ``user`` may see; everything else is a 404 for them (``tickets.visibility``)."""
        condition = visibility.condition(user)
        return self if condition is None else self.filter(condition)
