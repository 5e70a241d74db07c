"""Opening a case and linking what it affects: tickets, customers, services, and people to the task force.

``link_ticket`` and the ``add_*`` helpers link one thing once and record it on the timeline (an affected
ticket brings its customer along); ``case_open`` and the ``case_add_*`` services are the guarded entry
points.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.people import user_ref as _ref
from escalations.access import can_open_case
from escalations.cases.common import (
    account_managers,
    cadence_for,
    case_title,
    check_person,
    notify_people,
    participant,
    record,
    require,
    stakeholders,
)
from escalations.models import AffectedService, CaseMember, CaseRule, CaseSeverity, CaseTicket, EscalationCase
from tickets import history
from tickets.models import Customer, Ticket, display_name

# --- Opening ---------------------------------------------------------------------------------------


@transaction.atomic
def case_open(
    *,
    actor,
    title: str,
    severity: str,
    owner,
    triggering_criteria: str = "",
    tickets: Iterable[Ticket] = (),
    customers: Iterable[Customer] = (),
    services: Iterable[AffectedService] = (),
    members: Iterable = (),
    rule: CaseRule | None = None,
    now: datetime | None = None,
) -> EscalationCase:
    """Open a case, link what it affects, and inform the stakeholders and the account managers.

    ``actor`` None is the system (a rule); a person must be allowed to open cases.
    """
    if actor is not None:
        require(can_open_case(actor), _("You may not open escalation cases."))
    title = (title or "").strip()
    require(bool(title), _("A case needs a title."))
    require(severity in CaseSeverity.values, _("Choose a severity."))
    check_person(owner)
    now = now or timezone.now()
    case = EscalationCase.objects.create(
        title=title[:200],
        severity=severity,
        owner=owner,
        triggering_criteria=(triggering_criteria or "").strip(),
        rule=rule,
        opened_by=actor,
        opened_at=now,
        next_update_due=now + cadence_for(severity).update_every,
    )
    record(case, "case.opened", actor, at=now, severity=severity, owner=_ref(owner),
           rule=rule.name if rule else None, criteria=case.triggering_criteria)
    for ticket in tickets:
        link_ticket(case, ticket, role=CaseTicket.Role.AFFECTED, actor=actor, at=now)
    for customer in customers:
        add_customer(case, customer, actor=actor, at=now)
    for service in services:
        add_service(case, service, actor=actor, at=now)
    for user in members:
        if user.pk != owner.pk:
            add_member(case, user, actor=actor, at=now)
    people = stakeholders(case) + account_managers(case)
    notify_people(
        people, case, kind="case.opened", key="opened", actor=actor,
        title=case_title(case, gettext_lazy("Escalation case {reference} opened: {title}")),
        body=format_lazy(gettext_lazy("Severity {severity}. Owner: {owner}. {criteria}"),
                         severity=CaseSeverity(severity).label, owner=display_name(owner),
                         criteria=case.triggering_criteria),
    )
    return case


def link_ticket(case, ticket: Ticket, *, role: str, actor, at=None) -> bool:
    _link, created = CaseTicket.objects.get_or_create(
        case=case, ticket=ticket, defaults={"role": role, "added_by": actor, "added_at": at or timezone.now()}
    )
    if not created:
        return False
    if role == CaseTicket.Role.AFFECTED:  # a task is recorded once, as "case.task_added"
        record(case, "case.ticket_linked", actor, at=at, ticket=ticket.pk, title=ticket.title, role=role)
    history.record(ticket, "ticket.case_linked", actor, at=at, case=case.pk, reference=case.reference,
                   role=role)
    if role == CaseTicket.Role.AFFECTED:
        add_customer(case, ticket.customer, actor=actor, at=at)
    return True


def add_customer(case, customer: Customer, *, actor, at=None) -> bool:
    if case.customers.filter(pk=customer.pk).exists():
        return False
    case.customers.add(customer)
    record(case, "case.customer_added", actor, at=at, customer=customer.pk, name=customer.name)
    return True


def add_service(case, service: AffectedService, *, actor, at=None) -> bool:
    if case.services.filter(pk=service.pk).exists():
        return False
    case.services.add(service)
    record(case, "case.service_added", actor, at=at, service=service.code, name=service.name)
    return True


def add_member(case, user, *, actor, at=None) -> bool:
    check_person(user)
    _, created = CaseMember.objects.get_or_create(
        case=case, user=user, defaults={"added_by": actor, "added_at": at or timezone.now()}
    )
    if created:
        record(case, "case.member_added", actor, at=at, member=_ref(user))
    return created


# --- Links -------------------------------------------------------------------------------------------


@transaction.atomic
def case_add_ticket(case: EscalationCase, *, ticket: Ticket, actor) -> EscalationCase:
    """Link an affected ticket (its customer becomes an affected customer)."""
    participant(case, actor)
    require(Ticket.objects.visible_to(actor).filter(pk=ticket.pk).exists(), _("Unknown ticket."))
    require(link_ticket(case, ticket, role=CaseTicket.Role.AFFECTED, actor=actor),
            _("This ticket is already linked to the case."))
    return case


@transaction.atomic
def case_add_customer(case: EscalationCase, *, customer: Customer, actor) -> EscalationCase:
    participant(case, actor)
    require(add_customer(case, customer, actor=actor), _("This customer is already affected."))
    return case


@transaction.atomic
def case_add_service(case: EscalationCase, *, service: AffectedService, actor) -> EscalationCase:
    participant(case, actor)
    require(service.is_active, _("This service is no longer in use."))
    require(add_service(case, service, actor=actor), _("This service is already affected."))
    return case
