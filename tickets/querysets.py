"""Ticket querysets: ``open()`` and ``visible_to(user)`` (the rule lives in ``tickets/visibility.py``)."""

from __future__ import annotations

from django.db import models

from tickets import visibility
from tickets.choices import OPEN_STATUSES


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def visible_to(self, user):
        """Tickets ``user`` may see; everything else is a 404 for them (``tickets.visibility``)."""
        condition = visibility.condition(user)
        return self if condition is None else self.filter(condition)
