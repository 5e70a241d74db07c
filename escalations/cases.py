"""Escalation cases: every write to a case goes through here (see docs/escalation-cases.md).

Each service takes the case and an explicit ``actor``, runs in a transaction,
locks the case row, checks who may do it (``can_*`` below, the one access
module for cases), and appends a ``CaseEvent`` to the case's immutable
timeline. Ticket changes (public replies, task tickets, closing tickets) go
through ``tickets.services``; notices through ``notify()``. Domain errors are
``TicketError`` with a message fit for the person who caused them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.locks import lock as _lock
from core.people import user_ref as _ref
from escalations.access import can_open_case, can_take_part, is_owner
from escalations.models import (
    AffectedService,
    CaseEscalation,
    CaseEvent,
    CaseMember,
    CaseRule,
    CaseSeverity,
    CaseSeverityPolicy,
    CaseStatus,
    CaseTicket,
    CaseUpdate,
    ContactRole,
    EscalationCase,
    QueueEscalationContact,
)
from notifications.models import Urgency
from notifications.service import notify
from tickets import access, history
from tickets import services as ticket_services
from tickets.models import CLOSED_STATUSES, Customer, Queue, Status, Ticket, display_name
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

MAX_LEVEL = 3
LEVEL_LABELS = {
    1: gettext_lazy("the owner's manager"),
    2: gettext_lazy("the head of department"),
    3: gettext_lazy("the service director"),
}

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


# --- Access -----------------------------------------------------------------------------------


# --- Helpers ---------------------------------------------------------------------------------------


def record(case: EscalationCase, kind: str, actor=None, at: datetime | None = None, **data) -> CaseEvent:
    """Append one line to the case timeline."""
    return CaseEvent.objects.create(case=case, actor=actor, kind=kind, data=data, created_at=at or timezone.now())


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise TicketError(message)


def _check_person(user) -> None:
    _require(user is not None and user.is_active and bool(access.roles_of(user)),
             _("Choose an active person with a role in OpsDesk."))


def _not_closed(case: EscalationCase) -> None:
    _require(case.status != CaseStatus.CLOSED, _("The case is closed."))


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


def _notify(users: Iterable, case: EscalationCase, *, kind: str, key: str, title, body, actor=None,
            urgency: str | None = None) -> int:
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


def _title(case: EscalationCase, template):
    return format_lazy(template, reference=case.reference, title=case.title)


def affected_links(case: EscalationCase):
    return CaseTicket.objects.filter(case=case, role=CaseTicket.Role.AFFECTED).select_related("ticket__customer")


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
        _require(can_open_case(actor), _("You may not open escalation cases."))
    title = (title or "").strip()
    _require(bool(title), _("A case needs a title."))
    _require(severity in CaseSeverity.values, _("Choose a severity."))
    _check_person(owner)
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
        _link_ticket(case, ticket, role=CaseTicket.Role.AFFECTED, actor=actor, at=now)
    for customer in customers:
        _add_customer(case, customer, actor=actor, at=now)
    for service in services:
        _add_service(case, service, actor=actor, at=now)
    for user in members:
        if user.pk != owner.pk:
            _add_member(case, user, actor=actor, at=now)
    people = stakeholders(case) + account_managers(case)
    _notify(
        people, case, kind="case.opened", key="opened", actor=actor,
        title=_title(case, gettext_lazy("Escalation case {reference} opened: {title}")),
        body=format_lazy(gettext_lazy("Severity {severity}. Owner: {owner}. {criteria}"),
                         severity=CaseSeverity(severity).label, owner=display_name(owner),
                         criteria=case.triggering_criteria),
    )
    return case


def _link_ticket(case, ticket: Ticket, *, role: str, actor, at=None) -> bool:
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
        _add_customer(case, ticket.customer, actor=actor, at=at)
    return True


def _add_customer(case, customer: Customer, *, actor, at=None) -> bool:
    if case.customers.filter(pk=customer.pk).exists():
        return False
    case.customers.add(customer)
    record(case, "case.customer_added", actor, at=at, customer=customer.pk, name=customer.name)
    return True


def _add_service(case, service: AffectedService, *, actor, at=None) -> bool:
    if case.services.filter(pk=service.pk).exists():
        return False
    case.services.add(service)
    record(case, "case.service_added", actor, at=at, service=service.code, name=service.name)
    return True


def _add_member(case, user, *, actor, at=None) -> bool:
    _check_person(user)
    _, created = CaseMember.objects.get_or_create(
        case=case, user=user, defaults={"added_by": actor, "added_at": at or timezone.now()}
    )
    if created:
        record(case, "case.member_added", actor, at=at, member=_ref(user))
    return created


# --- Links and the task force -------------------------------------------------------------------------


def _participant(case: EscalationCase, actor) -> EscalationCase:
    _lock(case)
    if not can_take_part(actor, case):
        raise TicketError(_("Only the owner and the members of the case may do this."))
    _not_closed(case)
    return case


@transaction.atomic
def case_add_ticket(case: EscalationCase, *, ticket: Ticket, actor) -> EscalationCase:
    """Link an affected ticket (its customer becomes an affected customer)."""
    _participant(case, actor)
    _require(Ticket.objects.visible_to(actor).filter(pk=ticket.pk).exists(), _("Unknown ticket."))
    _require(_link_ticket(case, ticket, role=CaseTicket.Role.AFFECTED, actor=actor),
             _("This ticket is already linked to the case."))
    return case


@transaction.atomic
def case_add_customer(case: EscalationCase, *, customer: Customer, actor) -> EscalationCase:
    _participant(case, actor)
    _require(_add_customer(case, customer, actor=actor), _("This customer is already affected."))
    return case


@transaction.atomic
def case_add_service(case: EscalationCase, *, service: AffectedService, actor) -> EscalationCase:
    _participant(case, actor)
    _require(service.is_active, _("This service is no longer in use."))
    _require(_add_service(case, service, actor=actor), _("This service is already affected."))
    return case


@transaction.atomic
def case_add_member(case: EscalationCase, *, user, actor) -> EscalationCase:
    """Add a person to the task force; they are told."""
    _participant(case, actor)
    _require(user.pk != case.owner_id, _("The owner leads the case already."))
    _require(_add_member(case, user, actor=actor), _("This person is already a member."))
    membership = CaseMember.objects.get(case=case, user=user)
    _notify([user], case, kind="case.member_added", key=f"member:{membership.pk}",
            actor=actor, urgency=Urgency.IMPORTANT,
            title=_title(case, gettext_lazy("You joined escalation case {reference}: {title}")),
            body=format_lazy(gettext_lazy("{who} added you to the task force."), who=display_name(actor)))
    return case


@transaction.atomic
def case_remove_member(case: EscalationCase, *, user, actor) -> EscalationCase:
    _participant(case, actor)
    deleted, _rows = CaseMember.objects.filter(case=case, user=user).delete()
    _require(bool(deleted), _("This person is not a member."))
    record(case, "case.member_removed", actor, member=_ref(user))
    return case


# --- Communication -----------------------------------------------------------------------------------------


@transaction.atomic
def case_post_update(case: EscalationCase, *, actor, body: str, public: bool, token: str,
                     now: datetime | None = None) -> CaseUpdate:
    """Post a status update once per ``token``; a repeated token returns the update already posted.

    Members and the owner are notified; a public update is also a public reply on every affected
    linked ticket that is not canceled (``counts_as_response=True``: it is a real answer to the
    customer). The next update falls due one cadence later.
    """
    body = (body or "").strip()
    _require(bool(body), _("The update is empty."))
    token = (token or "").strip()[:64]
    _require(bool(token), _("The form expired: reload the page and post again."))
    _participant(case, actor)
    existing = CaseUpdate.objects.filter(case=case, token=token).first()
    if existing is not None:
        return existing
    _require(case.status == CaseStatus.OPEN, _("Updates are posted while the case is open."))
    now = now or timezone.now()
    late = case.next_update_due is not None and now > case.next_update_due
    update = CaseUpdate.objects.create(case=case, author=actor, body=body, public=public, token=token, late=late,
                                       created_at=now)
    replies = 0
    if public:
        for link in affected_links(case):
            if link.ticket.status == Status.CANCELED:
                continue
            ticket_services.ticket_reply(link.ticket, body=body, actor=actor, counts_as_response=True)
            replies += 1
        update.replies = replies
        update.save(update_fields=["replies"])
    previous_due = case.next_update_due
    case.next_update_due = now + cadence_for(case.severity).update_every
    fields = ["next_update_due"]
    if case.first_update_at is None:
        case.first_update_at = now
        fields.append("first_update_at")
    case.save(update_fields=fields)
    record(case, "case.update_posted", actor, at=now, update=update.pk, public=public, late=late, replies=replies,
           previous_due=previous_due.isoformat() if previous_due else None, next_due=case.next_update_due.isoformat())
    people = [case.owner] + [m.user for m in CaseMember.objects.filter(case=case).select_related("user")]
    _notify(people, case, kind="case.update", key=f"update:{update.pk}", actor=actor,
            title=_title(case, gettext_lazy("Update on {reference}: {title}")), body=body)
    return update


# --- The action plan -----------------------------------------------------------------------------------------


@transaction.atomic
def case_add_task(case: EscalationCase, *, actor, title: str, queue: Queue, performer, due: datetime,
                  description: str = "") -> Ticket:
    """A task of the plan: an ordinary ticket (SLA, "My work") for ``performer`` due at ``due``."""
    _participant(case, actor)
    _require(case.status == CaseStatus.OPEN, _("Tasks are planned while the case is open."))
    _require(bool((title or "").strip()), _("A task needs a title."))
    _require(due is not None and due > timezone.now(), _("The due time must be in the future."))
    _check_person(performer)
    customer = case.customers.order_by("pk").first()
    _require(customer is not None, _("Link an affected customer or ticket before planning tasks."))
    text = _("Task of escalation case %(reference)s “%(title)s”.") % {"reference": case.reference,
                                                                      "title": case.title}
    task = ticket_services.ticket_create(
        actor=actor, title=title.strip(), customer=customer, queue=queue, performer=performer, deadline=due,
        description="",
    )
    ticket_services.ticket_add_note(task, body=f"{text}\n{description}".strip(), actor=actor)
    _link_ticket(case, task, role=CaseTicket.Role.TASK, actor=actor)
    record(case, "case.task_added", actor, ticket=task.pk, title=task.title, performer=_ref(performer),
           due=due.isoformat())
    return task


def plan(case: EscalationCase) -> list[Ticket]:
    return [link.ticket for link in CaseTicket.objects.filter(case=case, role=CaseTicket.Role.TASK)
            .select_related("ticket__performer__profile", "ticket__queue")]


# --- Escalation up the hierarchy ----------------------------------------------------------------------------------


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
        _notify([target], case, kind="case.escalated", key=f"escalated:{level}", urgency=Urgency.CRITICAL,
                title=_title(case, gettext_lazy("Escalation case {reference} escalated to you: {title}")), body=reason)
    _notify(stakeholders(case), case, kind="case.escalated", key=f"escalated:{level}", actor=actor,
            title=_title(case, gettext_lazy("Escalation case {reference} went up a level: {title}")), body=reason)
    return row


@transaction.atomic
def case_escalate(case: EscalationCase, *, actor, reason: str) -> CaseEscalation:
    """By hand: take the case one level of management up, with a reason."""
    _participant(case, actor)
    _require(case.status == CaseStatus.OPEN, _("Only an open case escalates."))
    reason = (reason or "").strip()
    _require(bool(reason), _("Say why the case is escalated."))
    _require(case.escalation_level < MAX_LEVEL, _("The case is at the top of the hierarchy already."))
    row = _escalate_to(case, case.escalation_level + 1, actor=actor, reason=reason[:2000], now=timezone.now())
    _require(row is not None, _("The case was escalated meanwhile; reload the page."))
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
        overdue = Ticket.objects.filter(
            case_links__case=case, case_links__role=CaseTicket.Role.TASK, deadline__lt=now
        ).exclude(status__in=CLOSED_STATUSES).exists()
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


# --- Resolution and closure ----------------------------------------------------------------------------------------


def _owner_only(case: EscalationCase, actor) -> EscalationCase:
    _lock(case)
    _require(is_owner(actor, case), _("Only the owner of the case may do this."))
    _not_closed(case)
    return case


@transaction.atomic
def case_announce_resolution(case: EscalationCase, *, actor, summary: str) -> EscalationCase:
    """The owner declares the problem solved: the update cadence stops and everybody is told."""
    _owner_only(case, actor)
    _require(case.status == CaseStatus.OPEN, _("The resolution is announced already."))
    summary = (summary or "").strip()
    _require(bool(summary), _("Describe the resolution."))
    now = timezone.now()
    case.status = CaseStatus.RESOLVED
    case.resolved_at = now
    case.resolution = summary
    case.next_update_due = None
    case.save(update_fields=["status", "resolved_at", "resolution", "next_update_due"])
    record(case, "case.resolved", actor, at=now, summary=summary)
    _notify(stakeholders(case) + account_managers(case), case, kind="case.resolved", key="resolved", actor=actor,
            title=_title(case, gettext_lazy("Escalation case {reference} is resolved: {title}")), body=summary)
    return case


@transaction.atomic
def case_write_rca(case: EscalationCase, *, actor, internal: str, customer: str, cause: str = "") -> EscalationCase:
    """The root-cause analysis: an internal part and a customer-facing part.

    Changing the customer-facing text withdraws its approval; once sent it cannot change.
    """
    from escalations.models import CaseCause

    _participant(case, actor)
    internal, customer = (internal or "").strip(), (customer or "").strip()
    _require(bool(internal or customer), _("Write at least one part of the analysis."))
    _require(cause in CaseCause.values, _("Unknown cause."))
    fields = []
    if customer != case.rca_customer:
        _require(case.rca_customer_sent_at is None, _("The customer analysis was sent already; it cannot change."))
        case.rca_customer = customer
        case.rca_customer_approved_by = None
        fields += ["rca_customer", "rca_customer_approved_by"]
    if internal != case.rca_internal:
        case.rca_internal = internal
        fields.append("rca_internal")
    if cause != case.cause:
        case.cause = cause
        fields.append("cause")
    if fields:
        case.save(update_fields=fields)
        record(case, "case.rca_written", actor, internal="rca_internal" in fields,
               customer="rca_customer" in fields, cause=cause)
    return case


@transaction.atomic
def case_approve_customer_rca(case: EscalationCase, *, actor) -> int:
    """The owner approves the customer-facing analysis; it goes out as a public reply on each affected ticket.

    Returns the number of replies sent.
    """
    _owner_only(case, actor)
    _require(bool(case.rca_customer), _("Write the customer analysis first."))
    _require(case.rca_customer_sent_at is None, _("The customer analysis was sent already."))
    sent = 0
    for link in affected_links(case):
        if link.ticket.status == Status.CANCELED:
            continue
        ticket_services.ticket_reply(link.ticket, body=case.rca_customer, actor=actor, counts_as_response=True)
        sent += 1
    now = timezone.now()
    case.rca_customer_approved_by = actor
    case.rca_customer_sent_at = now
    case.save(update_fields=["rca_customer_approved_by", "rca_customer_sent_at"])
    record(case, "case.rca_approved", actor, at=now, replies=sent)
    return sent


def rca_complete(case: EscalationCase) -> bool:
    """Both parts written and the customer part approved and sent (or no customers to send it to)."""
    if not case.rca_internal:
        return False
    if not affected_links(case).exists():
        return True
    return bool(case.rca_customer) and case.rca_customer_sent_at is not None


CLOSE_TICKET = "close"
HAND_BACK = "hand_back"


@transaction.atomic
def case_close(
    case: EscalationCase, *, actor, ticket_actions: dict[int, str], no_rca_reason: str = ""
) -> EscalationCase:
    """Close the case: each linked ticket closed (done) or handed back open; the RCA is required unless
    the owner records why none is needed."""
    _owner_only(case, actor)
    _require(case.status == CaseStatus.RESOLVED, _("Announce the resolution before closing the case."))
    no_rca_reason = (no_rca_reason or "").strip()
    _require(rca_complete(case) or bool(no_rca_reason),
             _("Write the root-cause analysis (and approve its customer part) or say why none is needed."))
    closed, handed_back = [], []
    for link in CaseTicket.objects.filter(case=case).select_related("ticket"):
        ticket = link.ticket
        if ticket.status in CLOSED_STATUSES:
            continue
        choice = ticket_actions.get(ticket.pk, HAND_BACK)
        _require(choice in (CLOSE_TICKET, HAND_BACK), _("Unknown choice for a ticket."))
        if choice == CLOSE_TICKET:
            if Status.DONE not in ticket_services.allowed_statuses(ticket):
                raise TicketError(_("%(ticket)s cannot be closed now (assign a performer first); hand it back.")
                                  % {"ticket": ticket.reference})
            ticket_services.ticket_change_status(
                ticket, status=Status.DONE, actor=actor,
                comment=_("Closed with escalation case %(reference)s.") % {"reference": case.reference},
            )
            closed.append(ticket.pk)
        else:
            handed_back.append(ticket.pk)
    now = timezone.now()
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.no_rca_reason = "" if rca_complete(case) else no_rca_reason
    case.next_update_due = None
    case.save(update_fields=["status", "closed_at", "no_rca_reason", "next_update_due"])
    record(case, "case.closed", actor, at=now, closed=closed, handed_back=handed_back,
           no_rca_reason=case.no_rca_reason)
    _notify(stakeholders(case), case, kind="case.closed", key="closed", actor=actor, urgency=Urgency.ROUTINE,
            title=_title(case, gettext_lazy("Escalation case {reference} is closed: {title}")),
            body=case.resolution)
    return case
