"""What the base demo seed produced (``DemoContext``), handed to every building block and extra seeder.

Also the demo's clock: the time zone of its people and offices, and how many days of history it writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from tickets.models import BlockingReason, Customer, IntakeChannel, Queue, RelatedObject, TicketType, VipTier

HISTORY_DAYS = 60
TZ = ZoneInfo("Asia/Almaty")


@dataclass
class DemoContext:
    """What the base seed produced; handed to the extra seeders (``opsdesk/demo.py``)."""

    seed: int
    now: datetime
    users: dict[str, object] = field(default_factory=dict)
    queues: dict[str, Queue] = field(default_factory=dict)
    ticket_types: dict[str, TicketType] = field(default_factory=dict)
    reasons: dict[str, BlockingReason] = field(default_factory=dict)
    vip_tiers: dict[str, VipTier] = field(default_factory=dict)
    customers: list[Customer] = field(default_factory=list)
    related: dict[int, dict[str, list[RelatedObject]]] = field(default_factory=dict)
    intake_channels: dict[str, IntakeChannel] = field(default_factory=dict)
    agents: dict[str, list] = field(default_factory=dict)
    managers: dict[int, object] = field(default_factory=dict)  # user id -> direct manager (approver)
