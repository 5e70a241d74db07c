"""Escalation up the hierarchy: the owner's manager, the head of department, the service director.

Each level is recorded once (``CaseEscalation`` is unique per case and level) and its person is told: by
hand with ``case_escalate``; by the timing of the plan with ``case_escalate_automatically``, which
``escalations.case_rules`` runs for every open case that is due.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.locks import lock as _lock
from core.people import user_ref as _ref
from escalations.cases.common import cadence_for, case_title, notify_people, participant, record, require, stakeholders
from escalations.models import (
    CaseEscalation,
    CaseStatus,
    CaseTicket,
    ContactRole,
    EscalationCase,
    QueueEscalationContact,
)
from notifications.models import Urgency
from tickets.models import Ticket

MAX_LEVEL = 3
LEVEL_LABELS = {
    1: gettext_lazy("the owner's manager"),
    2: gettext_lazy("the head of department"),
    3: gettext_lazy("the service director"),
}


def _contact(queue_id: int | None, role: str):
    """The queue's contact for ``role``, else the default one: the ladder's contact lookup (escalations.audience)."""
    rows = {row.queue_id: row.user for row in QueueEscalationContact.objects.filter(
        Q(queue_id=queue_id) | Q(queue__isnull=True), role=role, user__is_active=True).select_related("user")}
    return rows.get(queue_id) or rows.get(None)


def escalation_target(case: EscalationCase, level: int):
    """Level 1: the owner's direct manager; 2: head of department; 3: service director (of the first
    linked ticket's queue, else the default contacts)."""
    if level == 1:
        profile = getattr(case.owner, "profile", None)
        manager = profile.manager if profile is not None and profile.manager_id else None
        return manager if manager is not None and manager.is_active else None
    link = CaseTicket.objects.filter(case=case).order_by("added_at", "pk").select_related("ticket").first()
    queue_id = link.ticket.queue_id if link else None
    return _contact(queue_id, ContactRole.HEAD if level == 2 else ContactRole.DIRECTOR)


def _escalate_to(case: EscalationCase, level: int, *, actor, reason: str, now: datetime) -> CaseEscalation | None:
    """Record one level exactly once (the unique constraint) and notify its person; None if already there."""
    target = escalation_target(case, level)
    try:
        with transaction.atomic():
            row = CaseEscalation.objects.create(case=case, level=level, to_user=target, reason=reason, actor=actor,
                                                created_at=now)
    except IntegrityError:
        return None
    case.escalation_level = max(case.escalation_level, level)
    case.save(update_fields=["escalation_level"])
    record(case, "case.escalated", actor, at=now, level=level, to=_ref(target), reason=reason)
    if target is not None:
        notify_people([target], case, kind="case.escalated", key=f"escalated:{level}", urgency=Urgency.CRITICAL,
                      title=case_title(case, gettext_lazy("Escalation case {reference} escalated to you: {title}")),
                      body=reason)
    notify_people(stakeholders(case), case, kind="case.escalated", key=f"escalated:{level}", actor=actor,
                  title=case_title(case, gettext_lazy("Escalation case {reference} went up a level: {title}")),
                  body=reason)
    return row


@transaction.atomic
def case_escalate(case: EscalationCase, *, actor, reason: str) -> CaseEscalation:
    """By hand: take the case one level of management up, with a reason."""
    participant(case, actor)
    require(case.status == CaseStatus.OPEN, _("Only an open case escalates."))
    reason = (reason or "").strip()
    require(bool(reason), _("Say why the case is escalated."))
    require(case.escalation_level < MAX_LEVEL, _("The case is at the top of the hierarchy already."))
    row = _escalate_to(case, case.escalation_level + 1, actor=actor, reason=reason[:2000], now=timezone.now())
    require(row is not None, _("The case was escalated meanwhile; reload the page."))
    return row


def due_level(case: EscalationCase, now: datetime, *, task_overdue: bool) -> tuple[int, str]:
    """The level the plan's timing calls for: one per ``escalate_after`` the case has been open, at least
    level 1 while a task is overdue (pure; ``case_rules.escalate_overdue_cases`` applies it)."""
    periods = int((now - case.opened_at) / cadence_for(case.severity).escalate_after)
    level, reason = min(periods, MAX_LEVEL), "open_too_long"
    if task_overdue and level < 1:
        level, reason = 1, "task_overdue"
    return level, reason


def case_escalate_automatically(case: EscalationCase, *, now: datetime | None = None) -> list[CaseEscalation]:
    """Raise the case to the level its timing calls for; each level once, however often this runs."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock(case)
        if case.status != CaseStatus.OPEN:
            return []
        overdue = Ticket.objects.overdue(now).filter(
            case_links__case=case, case_links__role=CaseTicket.Role.TASK
        ).exists()
        target, why = due_level(case, now, task_overdue=overdue)
        rows = []
        for level in range(case.escalation_level + 1, target + 1):
            if why == "task_overdue":
                reason = _("A task of the action plan is overdue.")
            else:
                reason = _("The case has been open longer than its severity allows.")
            row = _escalate_to(case, level, actor=None, reason=reason, now=now)
            if row is not None:
                rows.append(row)
        return rows
