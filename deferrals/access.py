"""Who may do what in the deferral workflow (views, templates and services ask here)."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model

from deferrals.models import DeferralRequest
from deferrals.selectors import approvable, desk
from tickets import access
from tickets.models import Ticket

logger = logging.getLogger(__name__)
User = get_user_model()
Verdict = DeferralRequest.Status


def is_approver(user) -> bool:
    """Managers and admins, and anyone a request is addressed to (a substitute): the approval pages are theirs."""
    if user is None or not user.is_authenticated:
        return False
    if access.roles_of(user) & {access.MANAGER, access.ADMIN} or user.is_superuser:
        return True
    return desk(user).exists()


def can_decide(user, deferral: DeferralRequest) -> bool:
    if user is None or not user.is_authenticated or user.pk == deferral.requested_by_id:
        return False
    return approvable(user).filter(pk=deferral.pk).exists()


def can_request(user, ticket: Ticket) -> bool:
    """The performer or the owner of the result, while they can work the ticket."""
    if user is None or not user.is_authenticated or user.pk not in (ticket.performer_id, ticket.owner_id):
        return False
    return access.can_work(user, ticket)
