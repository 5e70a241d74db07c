"""Demo data for routing and VIP tiers (an ``opsdesk.demo.DEMO_SEEDERS`` entry); idempotent."""

from __future__ import annotations

from datetime import timedelta

from routing.models import AgentSkill, ClassificationRule, Skill, TicketTypeSkill, VipRule
from tickets.models import QueueMembership, RoutingStrategy, VipTier
from tickets.queue_priority import refresh_queue_priority

SKILLS = [("network", "Network", "Сети"), ("billing", "Billing", "Биллинг"), ("returns", "Returns", "Возвраты")]
AGENT_SKILLS = {"bekzat": {"network": 4}, "timur": {"network": 2, "billing": 3}, "sergey": {"returns": 4},
                "dana": {"returns": 2, "billing": 4}, "aigerim": {"billing": 2}}
TYPE_SKILLS = {"critical-incident": [("network", 2)], "complex-case": [("returns", 2)]}
STRATEGIES = {"sales": RoutingStrategy.LEAST_LOADED, "service": RoutingStrategy.HYBRID,
              "support": RoutingStrategy.PULL}
THRESHOLDS = {"sales": (20, timedelta(hours=1)), "service": (10, timedelta(minutes=30)),
              "support": (5, timedelta(minutes=15))}
KEYWORDS = [("complex-case", "refund, return, claim, возврат, претензия"),
            ("critical-incident", "outage, down, not working, не работает, авария")]
TIER_SETTINGS = {"Gold": 1, "Platinum": 2, "Diamond": 3}


def seed_demo_routing(ctx) -> None:
    skills = {}
    for code, name, name_ru in SKILLS:
        skills[code], _created = Skill.objects.get_or_create(code=code, defaults={"name": name, "name_ru": name_ru})
    for username, levels in AGENT_SKILLS.items():
        user = ctx.users.get(username)
        if user is None:
            continue
        for code, level in levels.items():
            AgentSkill.objects.get_or_create(user=user, skill=skills[code], defaults={"level": level})
    for slug, needs in TYPE_SKILLS.items():
        ticket_type = ctx.ticket_types.get(slug)
        for code, level in needs if ticket_type else ():
            TicketTypeSkill.objects.get_or_create(ticket_type=ticket_type, skill=skills[code],
                                                  defaults={"min_level": level})
    for slug, strategy in STRATEGIES.items():
        queue = ctx.queues.get(slug)
        if queue is None:
            continue
        max_waiting, max_oldest = THRESHOLDS[slug]
        type(queue).objects.filter(pk=queue.pk).update(strategy=strategy, max_waiting=max_waiting,
                                                       max_oldest_wait=max_oldest)
        QueueMembership.objects.filter(queue=queue, role=QueueMembership.Role.AGENT, capacity__isnull=True).update(
            capacity=8
        )
    for slug, keywords in KEYWORDS:
        ticket_type = ctx.ticket_types.get(slug)
        if ticket_type is not None:
            ClassificationRule.objects.get_or_create(ticket_type=ticket_type, defaults={"keywords": keywords})
    for name, priority in TIER_SETTINGS.items():
        VipTier.objects.filter(name=name).update(queue_priority=priority, escalate_on_threat=priority >= 2,
                                                 account_manager_direct=name == "Diamond")
    refresh_queue_priority()  # the demo tickets carry their customers' new tier priorities
    tiers = {t.name: t for t in VipTier.objects.filter(name__in=TIER_SETTINGS)}
    if "Gold" in tiers and not VipRule.objects.exists():
        VipRule.objects.create(tier=tiers["Gold"], kind=VipRule.Kind.TOP_PERCENT, months=12, percent=20)
        if "Platinum" in tiers:
            VipRule.objects.create(tier=tiers["Platinum"], kind=VipRule.Kind.STRATEGIC)
        if "Diamond" in tiers:
            VipRule.objects.create(tier=tiers["Diamond"], kind=VipRule.Kind.PREMIUM)
