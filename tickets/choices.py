"""The ticket's fixed vocabularies (no tables): status, priority, channel, membership roles.

Kept apart from ``tickets/models.py`` so that querysets, access rules and pure helpers can use
them without importing the models. ``tickets.models`` re-exports them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting for external action")
    ON_APPROVAL = "on_approval", _("On approval")
    DONE = "done", _("Done")
    CANCELED = "canceled", _("Canceled")


OPEN_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING, Status.ON_APPROVAL)
CLOSED_STATUSES = (Status.DONE, Status.CANCELED)


class TicketKind(models.TextChoices):
    """Who the work is for: a customer, or someone inside the company (an internal task)."""

    CUSTOMER = "customer", _("Customer ticket")
    INTERNAL = "internal", _("Internal task")


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    CRITICAL = 4, _("Critical")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    MESSENGER = "messenger", _("Messenger")
    WEB = "web", _("Web form")
    PHONE = "phone", _("Phone")
    PORTAL = "portal", _("Portal")


class MembershipRole(models.TextChoices):
    AGENT = "agent", _("Agent")
    DISPATCHER = "dispatcher", _("Dispatcher")
