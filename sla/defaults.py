"""No ticket without control (issue 16): the catch-all policy and the coverage check of the policies.

``ensure_catch_all_policy`` is idempotent. It runs from ``post_migrate`` (``SlaConfig.ready``, when
``settings.SLA_ENSURE_CATCH_ALL`` is on: the default; the test settings turn it off so tests start
without policies) and from the demo seed. It creates the policy "Everything else" (lowest precedence,
no condition: it matches every ticket no other policy matches) on the calendar "Working hours"
(Mon–Fri 09:00–18:00 in the site's time zone) when no policy without conditions exists, active or
not: an administrator who deactivates it keeps it deactivated (the admin then warns).

``uncovered_combinations`` lists the queue × type × priority combinations of a customer without a
VIP tier that no active policy matches; the SLA policy admin shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from sla.models import Calendar, CalendarWindow, SLAPolicy
from tickets.models import Priority, Queue, TicketType

CATCH_ALL_NAME = "Everything else"
CATCH_ALL_NAME_RU = "Всё остальное"
CATCH_ALL_PRECEDENCE = 1000  # tried last: lower numbers come first
CATCH_ALL_FIRST_RESPONSE = timedelta(hours=2)  # the seed's "standard request"
CATCH_ALL_RESOLUTION = timedelta(hours=24)
DEFAULT_CALENDAR = "Working hours"
DEFAULT_CALENDAR_RU = "Рабочие часы"
_NO_CONDITION = {"queue": None, "ticket_type": None, "priority": None, "vip_tier": None}


def is_catch_all(policy: SLAPolicy) -> bool:
    """The policy has no condition: it matches every ticket."""
    return (
        policy.queue_id is None
        and policy.ticket_type_id is None
        and policy.priority is None
        and (policy.vip_tier_id is None)
    )


def _default_calendar() -> Calendar:
    calendar, created = Calendar.objects.get_or_create(
        name=DEFAULT_CALENDAR, defaults={"name_ru": DEFAULT_CALENDAR_RU, "time_zone": settings.TIME_ZONE}
    )
    if created:
        CalendarWindow.objects.bulk_create(
            CalendarWindow(calendar=calendar, weekday=day, start="09:00", end="18:00") for day in range(5)
        )
        calendar.save()  # a new version: the windows were bulk-created
    return calendar


@transaction.atomic
def ensure_catch_all_policy(calendar: Calendar | None = None) -> SLAPolicy | None:
    """Create the catch-all policy unless a policy without conditions exists; returns the one created."""
    if SLAPolicy.objects.filter(**_NO_CONDITION).exists():
        return None
    precedence = max(CATCH_ALL_PRECEDENCE, 1 + max(SLAPolicy.objects.values_list("precedence", flat=True), default=0))
    return SLAPolicy.objects.create(
        name=CATCH_ALL_NAME,
        name_ru=CATCH_ALL_NAME_RU,
        precedence=precedence,
        calendar=calendar or _default_calendar(),
        first_response_target=CATCH_ALL_FIRST_RESPONSE,
        resolution_target=CATCH_ALL_RESOLUTION,
        next_reply_target=CATCH_ALL_FIRST_RESPONSE,
    )


def post_migrate_handler(sender, **kwargs) -> None:
    if getattr(settings, "SLA_ENSURE_CATCH_ALL", True):
        ensure_catch_all_policy()


@dataclass(frozen=True)
class Combination:
    queue: Queue
    ticket_type: TicketType | None
    priority: int

    def __str__(self) -> str:
        return " · ".join(
            [
                str(self.queue),
                str(self.ticket_type) if self.ticket_type else _("no type"),
                str(Priority(self.priority).label),
            ]
        )


def uncovered_combinations(limit: int = 5) -> tuple[int, list[Combination]]:
    """How many queue × type × priority combinations (customer without VIP tier) no active policy matches,
    and the first ``limit`` of them. One query per catalogue; the product is walked in Python."""
    policies = list(SLAPolicy.objects.filter(is_active=True, vip_tier__isnull=True))
    if any(is_catch_all(p) for p in policies):
        return 0, []
    queues = list(Queue.objects.filter(is_active=True).order_by("name"))
    types = [None, *TicketType.objects.filter(is_active=True).order_by("name")]
    count, examples = 0, []
    for queue in queues:
        for ticket_type in types:
            for priority in Priority.values:
                type_id = ticket_type.pk if ticket_type else None
                if any(
                    p.matches(queue_id=queue.pk, ticket_type_id=type_id, priority=priority, vip_tier_id=None)
                    for p in policies
                ):
                    continue
                count += 1
                if len(examples) < limit:
                    examples.append(Combination(queue, ticket_type, priority))
    return count, examples
