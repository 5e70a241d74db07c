"""Which SLA policy applies to a ticket.

The first active policy by precedence whose non-empty conditions (queue, ticket type, priority,
the customer's VIP tier) all hold; none means the ticket has no SLA. ``sla.lifecycle`` matches
when clocks start, when triage or a VIP tier changes (re-matching), and in the backfill, which
reads :func:`active_policies` once for the whole batch.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.rowcache import RowCheckedCache
from sla.models import SLAPolicy, TargetUnit
from tickets.models import Customer, Ticket

_MIN_TARGET = timedelta(seconds=1)


def due_from(policy: SLAPolicy, kind: str, start: datetime) -> datetime | None:
    """When a clock of ``kind`` started at ``start`` is due under ``policy``, its target read in its unit."""
    target = policy.target_for(kind)
    if target is None:
        return None
    work = policy.calendar.work_calendar()
    unit = policy.unit_for(kind)
    if unit == TargetUnit.BUSINESS_DAYS:
        return work.add_days(start, target.days)
    if unit == TargetUnit.END_OF_DAY:
        return work.end_of_day(start, target.days)
    return work.add(start, target)


def target_from(policy: SLAPolicy, kind: str, start: datetime) -> timedelta | None:
    """The business time a clock of ``kind`` started at ``start`` has under ``policy`` (``None``: no such target).

    Business hours and minutes are the stored target; business days and "by the end of the business day"
    become the business time from ``start`` to the due instant they name (at least a second), so the
    clocks, pauses and escalation shares work in business time whatever the unit.
    """
    target = policy.target_for(kind)
    if target is None or policy.unit_for(kind) == TargetUnit.BUSINESS_TIME:
        return target
    work = policy.calendar.work_calendar()
    return max(work.between(start, due_from(policy, kind, start)), _MIN_TARGET)


def active_policies() -> list[SLAPolicy]:
    """The active policies in precedence order, with their calendars (shared objects: read-only).

    One query of precompiled SQL; the objects are built again only when its rows changed (``core.rowcache``).
    """
    return _ACTIVE_POLICIES.get()


_ACTIVE_POLICIES = RowCheckedCache(
    lambda: SLAPolicy.objects.filter(is_active=True).select_related("calendar").order_by("precedence"), prepare=True
)


def policy_match(ticket: Ticket, policies: list[SLAPolicy] | None = None) -> SLAPolicy | None:
    """The first active policy, by precedence, whose non-empty conditions all hold; ``None``: no SLA."""
    if policies is None:
        policies = active_policies()
    if not policies:
        return None
    customer = ticket.customer if Ticket.customer.is_cached(ticket) else None
    vip_tier_id = (
        customer.vip_tier_id
        if customer is not None
        else Customer.objects.filter(pk=ticket.customer_id).values_list("vip_tier_id", flat=True).first()
    )
    for policy in policies:
        if policy.matches(
            queue_id=ticket.queue_id,
            ticket_type_id=ticket.ticket_type_id,
            priority=ticket.priority,
            vip_tier_id=vip_tier_id,
        ):
            return policy
    return None
