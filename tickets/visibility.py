"""Which tickets a report counts, as explicit id sets the planner can use with the period indexes.

``Ticket.objects.visible_to`` is the rule (tickets/querysets.py); it is written with OR'ed
subqueries (an EXISTS on observers, ``IN (SELECT …)`` on memberships and the team), which
PostgreSQL cannot push into an index scan on ``sla_slaclock (stopped_at)`` or
``tickets_ticket (done_at)``: it ends up scanning the period and probing every subquery per row.
Here the same rule is resolved first, in a constant number of small queries, into sets of ids:

    queue_id IN queues  OR  performer_id IN people  OR  owner_id IN people
    OR  approver_id = viewer  OR  id IN observed

- ``people`` = the viewer, plus their team (users whose direct manager they are) for a manager;
- ``queues`` = queues they belong to as an agent (engineers), dispatch (dispatchers) or manage
  (managers, ``Queue.manager``);
- ``observed`` = tickets they observe.

Admins (and ``view_all_tickets``) see everything: no condition. ``tests/reports/test_visibility.py``
checks that this and ``visible_to`` select the same tickets for every role.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from tickets import access


@dataclass(frozen=True)
class Visibility:
    everything: bool = False
    nothing: bool = False
    viewer_id: int | None = None
    queue_ids: frozenset[int] = frozenset()
    people_ids: frozenset[int] = frozenset()
    observed_ids: frozenset[int] = frozenset()

    def q(self, prefix: str = "", *, ticket_pk: str = "pk", observed: bool = True) -> Q:
        """The condition on tickets (``prefix`` = the path to the ticket, e.g. ``"ticket__"``).

        On a table that copies the ticket's columns (``reports.models.ClockFact``), ``ticket_pk`` names its
        ticket column; ``observed=False`` leaves out the observed tickets (``ClockDay`` cannot tell them).
        """
        if self.everything:
            return Q()
        if self.nothing:
            return Q(**{f"{prefix}{ticket_pk}__in": []})
        condition = Q(**{f"{prefix}approver_id": self.viewer_id})
        if self.queue_ids:
            condition |= Q(**{f"{prefix}queue_id__in": sorted(self.queue_ids)})
        if self.people_ids:
            people = sorted(self.people_ids)
            condition |= Q(**{f"{prefix}performer_id__in": people}) | Q(**{f"{prefix}owner_id__in": people})
        if self.observed_ids and observed:
            condition |= Q(**{f"{prefix}{ticket_pk}__in": sorted(self.observed_ids)})
        return condition

    def filter(self, queryset: QuerySet, prefix: str = "", **options) -> QuerySet:
        """``queryset`` narrowed by ``q(prefix, **options)``."""
        if self.everything:
            return queryset
        if self.nothing:
            return queryset.none()
        return queryset.filter(self.q(prefix, **options))


def visibility_of(user) -> Visibility:
    """The viewer's visibility as id sets (cached on the user object for the request)."""
    cached = getattr(user, "_report_visibility", None)
    if cached is not None:
        return cached
    result = _resolve(user)
    if user is not None:
        user._report_visibility = result  # like ``access.roles_of``: a request loads its user afresh
    return result


def _resolve(user) -> Visibility:
    from tickets.models import Queue, QueueMembership, Ticket

    if user is None or not user.is_authenticated or not user.is_active:
        return Visibility(nothing=True)
    if access.sees_everything(user):
        return Visibility(everything=True)
    roles = access.roles_of(user)
    membership_roles = []
    if access.ENGINEER in roles:
        membership_roles.append(QueueMembership.Role.AGENT)
    if access.DISPATCHER in roles:
        membership_roles.append(QueueMembership.Role.DISPATCHER)
    queues: set[int] = set()
    if membership_roles:
        queues.update(QueueMembership.objects.filter(user=user, role__in=membership_roles)
                      .values_list("queue_id", flat=True))
    people = {user.pk}
    if access.MANAGER in roles:
        people.update(access.team_user_ids(user).values_list("user_id", flat=True))
        queues.update(Queue.objects.filter(manager=user).values_list("pk", flat=True))
    observed = Ticket.observers.through.objects.filter(user_id=user.pk).values_list("ticket_id", flat=True)
    return Visibility(viewer_id=user.pk, queue_ids=frozenset(queues), people_ids=frozenset(people),
                      observed_ids=frozenset(observed))
