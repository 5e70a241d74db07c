"""The demo's catalogue: queues with their agents and dispatcher, ticket types with their targets, VIP tiers."""

from __future__ import annotations

from dataclasses import dataclass

from tickets.catalogue import ensure_blocking_reasons
from tickets.demo.context import DemoContext
from tickets.models import BlockingReason, Queue, QueueMembership, TicketType, VipTier

# slug, English, Russian, queue manager, agents
DEMO_QUEUES: list[tuple[str, str, str, str, list[str]]] = [
    ("sales", "Sales", "Продажи", "manager", ["aigerim", "bekzat", "sergey", "dana", "timur"]),
    ("service", "Service", "Сервис", "lead", ["aigerim", "sergey", "dana"]),
    ("support", "Tech support", "Техподдержка", "lead", ["bekzat", "timur"]),
]


@dataclass(frozen=True)
class DemoType:
    slug: str
    name: str
    name_ru: str
    queue: str
    first_response_minutes: int
    resolution_hours: int
    around_the_clock: bool = False


# Targets from the domain guide (seed 001).
DEMO_TYPES: list[DemoType] = [
    DemoType("simple-question", "Simple question", "Простой вопрос", "sales", 30, 2),
    DemoType("standard-request", "Standard request", "Стандартный запрос", "service", 120, 24),
    DemoType(
        "complex-case", "Complex case (claims, returns)", "Сложный случай (претензии, возвраты)", "service", 240, 72
    ),
    DemoType("critical-incident", "Critical incident", "Критический инцидент", "support", 15, 4, True),
]

TYPE_SPECS = {t.slug: t for t in DEMO_TYPES}

VIP_TIERS = [("Gold", 1), ("Platinum", 2), ("Diamond", 3)]


def seed_catalogue(ctx: DemoContext) -> None:
    """Queues with memberships, ticket types, VIP tiers; blocking reasons come with every installation."""
    for slug, name, name_ru, manager, agents in DEMO_QUEUES:
        queue, _ = Queue.objects.get_or_create(
            slug=slug, defaults={"name": name, "name_ru": name_ru, "manager": ctx.users[manager]}
        )
        ctx.queues[slug] = queue
        for username in agents:
            QueueMembership.objects.get_or_create(
                queue=queue, user=ctx.users[username], role=QueueMembership.Role.AGENT
            )
        QueueMembership.objects.get_or_create(
            queue=queue, user=ctx.users["dispatcher"], role=QueueMembership.Role.DISPATCHER
        )
    for spec in DEMO_TYPES:
        defaults = {"name": spec.name, "name_ru": spec.name_ru, "default_queue": ctx.queues[spec.queue]}
        ticket_type, _ = TicketType.objects.get_or_create(slug=spec.slug, defaults=defaults)
        ctx.ticket_types[spec.slug] = ticket_type
    for name, rank in VIP_TIERS:
        ctx.vip_tiers[name], _ = VipTier.objects.get_or_create(name=name, defaults={"rank": rank})
    ensure_blocking_reasons(BlockingReason)
    ctx.reasons = {r.code: r for r in BlockingReason.objects.all()}
    # Demo tickets go to the demo agents of each queue (all of them members, see above).
    for slug, _name, _name_ru, _manager, agents in DEMO_QUEUES:
        ctx.agents[slug] = [ctx.users[name] for name in agents]
