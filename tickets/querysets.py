"""Ticket querysets: ``open()``, ``overdue(now)``, ``visible_to(user)`` (the rule lives in ``tickets/visibility.py``).

``Ticket.deadline`` is the deadline in force (docs/sla.md), so "overdue" and "closed on time" are
defined here once, on that one value, for every list, filter, report and rule that asks.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from tickets import visibility
from tickets.choices import OPEN_STATUSES


def on_time_q(prefix: str = "") -> Q:
    """A closed ticket was on time: done by its deadline in force (a ticket without one cannot be late)."""
    return Q(**{f"{prefix}deadline__isnull": True}) | Q(**{f"{prefix}done_at__lte": F(f"{prefix}deadline")})


def overdue_q(now, prefix: str = "") -> Q:
    """An open ticket whose deadline in force has passed (a deadline on hold, empty, never has)."""
    return Q(**{f"{prefix}status__in": OPEN_STATUSES, f"{prefix}deadline__lt": now})


def next_step_overdue_condition(now=None) -> models.Q:
    """A next step was planned with a date, and that date has passed (on open tickets: see the method)."""
    return ~models.Q(next_step="") & models.Q(next_step_due__lt=now or timezone.now())


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self, now):
        return self.filter(overdue_q(now))

    def on_time(self):
        return self.filter(on_time_q())

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
