"""Tickets: people, customers, catalogues, tickets, messages, history, waiting segments and intake channels.

Models hold data and small derived properties only. Every write that matters
goes through ``tickets.services``; reads that pages share live in
``tickets.querysets`` and ``tickets.selectors``.

Split by responsibility, imported from here (``from tickets.models import Ticket``):
``base`` (abstract bilingual names and append-only history rows), ``people`` (profiles,
absences), ``catalogue`` (VIP tiers, customers, queues, types, blocking reasons), ``tickets``
(tickets, messages, history events, waiting segments) and ``intake`` (intake channels).
"""

from tickets.models.base import AppendOnlyModel, AppendOnlyQuerySet, BilingualLabel, BilingualName, Language
from tickets.models.catalogue import (
    INHERITED_FIELDS,
    BlockingReason,
    Customer,
    Organisation,
    Queue,
    QueueMembership,
    RelatedObject,
    RoutingStrategy,
    TicketType,
    TierSource,
    VipTier,
)
from tickets.models.intake import IntakeChannel, hash_token
from tickets.models.links import LinkKind, TicketLink
from tickets.models.people import Absence, Profile, Workload, display_name
from tickets.models.satisfaction import Rating, SatisfactionRating, SatisfactionSurvey
from tickets.models.tickets import (
    CLOSED_STATUSES,
    NO_TIER_PRIORITY,
    OPEN_STATUSES,
    Attachment,
    Channel,
    DeliveryStatus,
    Message,
    Priority,
    Status,
    Ticket,
    TicketEvent,
    TicketKind,
    WaitSegment,
    closed_rank,
)
from tickets.models.tools import BulkJob, CannedReply

__all__ = [
    "CLOSED_STATUSES",
    "INHERITED_FIELDS",
    "NO_TIER_PRIORITY",
    "OPEN_STATUSES",
    "Absence",
    "AppendOnlyModel",
    "AppendOnlyQuerySet",
    "Attachment",
    "BilingualLabel",
    "BilingualName",
    "BlockingReason",
    "BulkJob",
    "CannedReply",
    "Channel",
    "Customer",
    "DeliveryStatus",
    "IntakeChannel",
    "Language",
    "LinkKind",
    "Message",
    "Organisation",
    "Priority",
    "Profile",
    "Queue",
    "QueueMembership",
    "Rating",
    "RelatedObject",
    "RoutingStrategy",
    "SatisfactionRating",
    "SatisfactionSurvey",
    "Status",
    "Ticket",
    "TicketEvent",
    "TicketKind",
    "TicketLink",
    "TicketType",
    "TierSource",
    "VipTier",
    "WaitSegment",
    "Workload",
    "closed_rank",
    "display_name",
    "hash_token",
]
