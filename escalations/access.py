"""Who may do what with escalation cases (views, templates and services ask here)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from escalations.models import CaseMember, CaseTicket, EscalationCase
from tickets import access
from tickets.models import Ticket


def can_open_case(user) -> bool:
    """Managers, dispatchers and admins open cases."""
    return bool(access.roles_of(user) & {access.MANAGER, access.DISPATCHER, access.ADMIN})


def visible_cases(user):
    """Cases ``user`` may see; anything else is a 404.

    Managers, dispatchers and admins see every case (they coordinate them);
    everybody sees the cases they own or belong to; an engineer also sees, read
    only, the cases linked to a ticket they can see.
    """
    if user is None or not user.is_authenticated or not user.is_active or not access.roles_of(user):
        return EscalationCase.objects.none()
    if can_open_case(user):
        return EscalationCase.objects.all()
    tickets = Ticket.objects.visible_to(user).values("pk")
    linked = CaseTicket.objects.filter(case_id=OuterRef("pk"), ticket_id__in=tickets)
    member = CaseMember.objects.filter(case_id=OuterRef("pk"), user=user)
    return EscalationCase.objects.filter(Q(owner=user) | Exists(member) | Exists(linked))


def is_member(user, case: EscalationCase) -> bool:
    return CaseMember.objects.filter(case=case, user_id=user.pk).exists()


def can_take_part(user, case: EscalationCase) -> bool:
    """Owner and members: post updates, manage the plan, the task force and the links, write the RCA."""
    if user is None or not user.is_authenticated:
        return False
    return case.owner_id == user.pk or is_member(user, case)


def is_owner(user, case: EscalationCase) -> bool:
    """Announce resolution, approve the customer RCA and close: the owner alone."""
    return user is not None and user.is_authenticated and case.owner_id == user.pk
