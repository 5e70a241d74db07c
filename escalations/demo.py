"""Demo escalations: the default and VIP ladders on the demo SLA policies, contacts, and armed clocks.

``seed_demo_escalations(ctx)`` is an ``opsdesk.demo.DEMO_SEEDERS`` entry (after
``sla.demo.seed_demo_sla``, which gives the demo tickets their clocks). It is
idempotent. Levels that fell due more than ``QUIET_BEFORE`` before the seed's
"now" are recorded as already fired (``data.seeded``, no notices), so a fresh
demo escalates the recent tickets as soon as the cluster runs instead of
burying everyone under two months of history.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from escalations import rules
from escalations.defaults import DEFAULT_LADDER, VIP_LADDER, install_default_ladders
from escalations.ladder import LadderCache, bulk_next_escalation, fired_levels, snapshot
from escalations.models import ContactRole, Firing, QueueEscalationContact
from sla.models import SLAClock, SLAPolicy
from tickets.models import VipTier

QUIET_BEFORE = timedelta(days=1)
CHUNK = 2000
# Demo users as the escalation hierarchy, as tickets/demo/people.py describes them: the shift lead, the head of
# department (the engineers' manager) and the service director.
DEMO_CONTACTS = {ContactRole.SHIFT_LEAD: "lead", ContactRole.HEAD: "manager", ContactRole.DIRECTOR: "director"}


@transaction.atomic
def seed_escalations() -> dict:
    """Ladders on every SLA policy (the VIP ladder for VIP customers) and the default contacts."""
    ladders = install_default_ladders()
    policies = list(SLAPolicy.objects.all())
    ladders[DEFAULT_LADDER].sla_policies.add(*policies)
    ladders[VIP_LADDER].sla_policies.add(*policies)
    ladders[VIP_LADDER].vip_tiers.add(*VipTier.objects.all())
    users = get_user_model().objects.in_bulk(DEMO_CONTACTS.values(), field_name="username")
    for role, username in DEMO_CONTACTS.items():
        if username in users:
            QueueEscalationContact.objects.get_or_create(queue=None, role=role, defaults={"user": users[username]})
    return {"ladders": len(ladders), "policies": len(policies)}


def arm_clocks(now=None) -> int:
    """Compute ``next_escalation_at`` of every running clock in bulk; returns how many changed."""
    now = now or timezone.now()
    cache = LadderCache()
    ids = list(SLAClock.objects.filter(state=SLAClock.State.RUNNING).order_by("pk").values_list("pk", flat=True))
    changed = 0
    for offset in range(0, len(ids), CHUNK):
        with transaction.atomic():
            clocks = list(
                SLAClock.objects.select_for_update(of=("self",))
                .filter(pk__in=ids[offset : offset + CHUNK])
                .select_related("calendar", "ticket__customer")
            )
            cache.preload({c.policy_id for c in clocks if c.policy_id})
            fired = fired_levels(clocks)
            old = []
            for clock in clocks:
                ladder = cache.ladder(clock.policy_id, clock.ticket.customer.vip_tier_id)
                work = clock.calendar.work_calendar()
                for at, rule in rules.fire_instants(snapshot(clock), ladder.rules, work, fired=fired[clock.pk]):
                    if at < now - QUIET_BEFORE:
                        old.append(Firing(clock=clock, level_id=rule.key, generation=clock.generation,
                                          ticket_id=clock.ticket_id, due_at=at, fired_at=now, data={"seeded": True}))
            Firing.objects.bulk_create(old, ignore_conflicts=True)
            moved = bulk_next_escalation(clocks, cache=cache)
            SLAClock.objects.bulk_update(moved, ["next_escalation_at"])
            changed += len(moved)
    return changed


def seed_demo_escalations(ctx=None) -> int:
    """``opsdesk.demo.DEMO_SEEDERS`` hook."""
    seed_escalations()
    return arm_clocks(getattr(ctx, "now", None))
