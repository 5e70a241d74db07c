"""Escalation data, split by responsibility: ladders (policies, levels, contacts, firings, the urgent
mark, manual escalations) in ``ladders``, escalation cases in ``cases``. Import from here:
``from escalations.models import EscalationPolicy`` keeps working whatever module holds the class.

Notifications (inbox rows, outbox, digests, preferences, webhook endpoints) live in
``notifications.models``.
"""

from escalations.models.cases import (
    SEVERITY_RANK,
    AffectedService,
    CaseCause,
    CaseEscalation,
    CaseEvent,
    CaseMember,
    CaseRule,
    CaseRuleCrossing,
    CaseSeverity,
    CaseSeverityPolicy,
    CaseStatus,
    CaseTicket,
    CaseUpdate,
    EscalationCase,
)
from escalations.models.ladders import (
    ClockKind,
    ContactRole,
    EscalationLevel,
    EscalationPolicy,
    Firing,
    ManualEscalation,
    QueueEscalationContact,
    Reassign,
    TicketEscalationState,
    level_default_name,
)

__all__ = [
    "SEVERITY_RANK",
    "AffectedService",
    "CaseCause",
    "CaseEscalation",
    "CaseEvent",
    "CaseMember",
    "CaseRule",
    "CaseRuleCrossing",
    "CaseSeverity",
    "CaseSeverityPolicy",
    "CaseStatus",
    "CaseTicket",
    "CaseUpdate",
    "ClockKind",
    "ContactRole",
    "EscalationCase",
    "EscalationLevel",
    "EscalationPolicy",
    "Firing",
    "ManualEscalation",
    "QueueEscalationContact",
    "Reassign",
    "TicketEscalationState",
    "level_default_name",
]
