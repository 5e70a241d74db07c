"""Ticket querysets: the one place that says which tickets a user may see."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q


class TicketQuerySet(models.QuerySet):
    def open(self):
        from tickets.models import OPEN_STATUSES

        return self.filter(status__in=OPEN_STATUSES)

    def visible_to(self, user):
        """Tickets ``user`` may see; everything else is a 404 for them.

        - admins (and users with ``view_all_tickets``) see everything;
        - everybody sees tickets they own, perform, approve or observe;
        - engineers see tickets of queues they belong to as agents;
        - dispatchers see tickets of queues they dispatch;
        - managers see tickets owned or performed by their team, and of the queues they manage.
        """
        from tickets import access
        from tickets.models import QueueMembership, Ticket

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if access.sees_everything(user):
            return self
        roles = access.roles_of(user)
        observed = Ticket.observers.through.objects.filter(ticket_id=OuterRef("pk"), user_id=user.pk)
        condition = Q(owner=user) | Q(performer=user) | Q(approver=user) | Exists(observed)
        membership_roles = []
        if access.ENGINEER in roles:
            membership_roles.append(QueueMembership.Role.AGENT)
        if access.DISPATCHER in roles:
            membership_roles.append(QueueMembership.Role.DISPATCHER)
        if membership_roles:
            queues = QueueMembership.objects.filter(user=user, role__in=membership_roles).values("queue_id")
            condition |= Q(queue_id__in=queues)
        if access.MANAGER in roles:
            team = access.team_user_ids(user)
            condition |= Q(performer_id__in=team) | Q(owner_id__in=team) | Q(queue__manager=user)
        return self.filter(condition)
