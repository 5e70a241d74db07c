"""What every case service shares: the update cadence, the timeline, the guards, who is told and how.

A service locks the case (``participant``: the owner and the members only), checks with ``require`` (a
``TicketError`` fit for the person who caused it), appends to the timeline with ``record`` and tells
people with ``notify_people`` (one notice per person and key, never to the actor).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _

from core.locks import lock as _lock
from escalations.access import can_take_part
from escalations.models import (
    CaseEvent,
    CaseMember,
    CaseSeverity,
    CaseSeverityPolicy,
    CaseStatus,
    CaseTicket,
    EscalationCase,
)
from notifications.models import Urgency
from notifications.service import notify
from tickets import access
from tickets.models import Queue
from tickets.services import TicketError

# --- Cadence --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cadence:
    update_every: timedelta
    escalate_after: timedelta


DEFAULT_CADENCE: dict[str, Cadence] = {
    CaseSeverity.SEV1: Cadence(timedelta(minutes=60), timedelta(hours=4)),
    CaseSeverity.SEV2: Cadence(timedelta(hours=2), timedelta(hours=8)),
    CaseSeverity.SEV3: Cadence(timedelta(hours=4), timedelta(hours=24)),
    CaseSeverity.SEV4: Cadence(timedelta(hours=24), timedelta(days=3)),
}
"""Used for a severity that has no ``CaseSeverityPolicy`` row in admin."""

SEVERITY_URGENCY = {
    CaseSeverity.SEV1: Urgency.CRITICAL,
    CaseSeverity.SEV2: Urgency.IMPORTANT,
    CaseSeverity.SEV3: Urgency.IMPORTANT,
    CaseSeverity.SEV4: Urgency.ROUTINE,
}


def cadence_for(severity: str) -> Cadence:
    row = CaseSeverityPolicy.objects.filter(severity=severity).first()
    if row is not None:
        return Cadence(row.update_every, row.escalate_after)
    return DEFAULT_CADENCE[CaseSeverity(severity)]


# --- Timeline, guards, notices ---------------------------------------------------------------------


def record(case: EscalationCase, kind: str, actor=None, at: datetime | None = None, **data) -> CaseEvent:
    """Append one line to the case timeline."""
    return CaseEvent.objects.create(case=case, actor=actor, kind=kind, data=data, created_at=at or timezone.now())


def require(condition: bool, message: str) -> None:
    if not condition:
        raise TicketError(message)


def check_person(user) -> None:
    require(user is not None and user.is_active and bool(access.roles_of(user)),
            _("Choose an active person with a role in OpsDesk."))


def not_closed(case: EscalationCase) -> None:
    require(case.status != CaseStatus.CLOSED, _("The case is closed."))


def case_url(case: EscalationCase) -> str:
    return reverse("cases:detail", args=[case.pk])


def stakeholders(case: EscalationCase) -> list:
    """Internal stakeholders: the owner, the members, and the queue managers of the linked tickets."""
    people = {case.owner_id: case.owner}
    for link in CaseMember.objects.filter(case=case).select_related("user"):
        people.setdefault(link.user_id, link.user)
    managers = Queue.objects.filter(tickets__case_links__case=case, manager__isnull=False).select_related("manager")
    for queue in managers.distinct():
        people.setdefault(queue.manager_id, queue.manager)
    return [u for u in people.values() if u is not None]


def account_managers(case: EscalationCase) -> list:
    """The account managers of the affected customers (``Customer.account_manager``)."""
    found = {}
    for customer in case.customers.filter(account_manager__isnull=False).select_related("account_manager"):
        found.setdefault(customer.account_manager_id, customer.account_manager)
    return list(found.values())


def notify_people(users: Iterable, case: EscalationCase, *, kind: str, key: str, title, body, actor=None,
                  urgency: str | None = None) -> int:
    """Tell each person once (never the actor); the dedupe key makes a retry send nothing twice."""
    sent = 0
    seen = set()
    for user in users:
        if user is None or user.pk in seen or (actor is not None and user.pk == actor.pk):
            continue
        seen.add(user.pk)
        if notify(user, kind=kind, urgency=urgency or SEVERITY_URGENCY[CaseSeverity(case.severity)], title=title,
                  body=body, url=case_url(case), actor=actor, dedupe_key=f"case:{case.pk}:{key}:{user.pk}"):
            sent += 1
    return sent


def case_title(case: EscalationCase, template):
    return format_lazy(template, reference=case.reference, title=case.title)


def affected_links(case: EscalationCase):
    return CaseTicket.objects.filter(case=case, role=CaseTicket.Role.AFFECTED).select_related("ticket__customer")


def participant(case: EscalationCase, actor) -> EscalationCase:
    _lock(case)
    if not can_take_part(actor, case):
        raise TicketError(_("Only the owner and the members of the case may do this."))
    not_closed(case)
    return case
