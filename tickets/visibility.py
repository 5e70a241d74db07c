"""Who sees which ticket: the one rule, in two renderings.

A user sees a ticket when one of these holds (admins and ``view_all_tickets`` see all):

    queue_id IN queues  OR  performer_id IN people  OR  owner_id IN people
    OR  approver_id = viewer  OR  the viewer observes it

- ``people`` = the viewer, plus their team (users whose direct manager they are) for a manager;
- ``queues`` = queues they belong to as an agent (engineers) or dispatch (dispatchers), and the
  queues they manage (managers, ``Queue.manager``).

:func:`sources` states that rule once, as querysets. It is rendered two ways:

- :func:`condition`, lazy subqueries for ``Ticket.objects.visible_to(user)`` (portal pages, one
  statement, no extra queries);
- :func:`visibility_of`, the same sources resolved first into id sets (:class:`Visibility`), which
  the reports use: PostgreSQL cannot push OR'ed subqueries into an index scan on
  ``sla_slaclock (stopped_at)`` or ``tickets_ticket (done_at)``, but it can use id lists.

``tests/reports/test_visibility.py`` checks that both select the same tickets for every role.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet

from tickets import access

# The models are looked up in the app registry: ``tickets.models`` builds the ticket manager from
# ``tickets.querysets``, which asks this module, so importing the models here would be a cycle.


def _model(name: str):
    return apps.get_model("tickets", name)


@dataclass(frozen=True)
class Sources:
    """The rule for one viewer, as unevaluated querysets (``everything``/``nothing`` short-cut it)."""

    everything: bool = False
    nothing: bool = False
    viewer_id: int | None = None
    member_queues: QuerySet | None = None  # queue ids by membership role (agent, dispatcher)
    managed_queues: QuerySet | None = None  # queue ids the viewer manages
    team: QuerySet | None = None  # user ids of the viewer's direct reports
    observed: QuerySet | None = None  # ticket ids the viewer observes


def sources(user) -> Sources:
    """The one statement of who sees what (see the module docstring)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Sources(nothing=True)
    if access.sees_everything(user):
        return Sources(everything=True)
    roles = access.roles_of(user)
    membership_roles = []
    if access.ENGINEER in roles:
        membership_roles.append(access.AGENT_MEMBERSHIP)
    if access.DISPATCHER in roles:
        membership_roles.append(access.DISPATCHER_MEMBERSHIP)
    manager = access.MANAGER in roles
    membership, queue, ticket = _model("QueueMembership"), _model("Queue"), _model("Ticket")
    return Sources(
        viewer_id=user.pk,
        member_queues=(
            membership.objects.filter(user=user, role__in=membership_roles).values_list("queue_id", flat=True)
            if membership_roles else None
        ),
        managed_queues=queue.objects.filter(manager=user).values_list("pk", flat=True) if manager else None,
        team=access.team_user_ids(user) if manager else None,
        observed=ticket.observers.through.objects.filter(user_id=user.pk).values_list("ticket_id", flat=True),
    )


def condition(user) -> Q | None:
    """The rule as one lazy condition on tickets (None: everything).

    Built once per user object, like its roles (``access.roles_of``), and for the same request: the ticket page
    asks three times (the ticket, its links, the customer's other tickets). The condition holds subqueries, not
    their answers, so each query still reads the memberships and observers as they are when it runs.
    """
    if user is None:
        return _condition(user)
    cached = getattr(user, "_opsdesk_visibility", _NOT_BUILT)
    if cached is _NOT_BUILT:
        cached = _condition(user)
        user._opsdesk_visibility = cached
    return cached


_NOT_BUILT = object()


def sees(user, ticket) -> bool:
    """Whether ``user`` sees ``ticket``, a ticket already read: the rule of :func:`condition` for one row.

    The parts the row itself answers (everything, or the viewer is its owner, performer or approver) need no
    query; otherwise the condition is asked about this ticket's key alone.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if access.sees_everything(user) or user.pk in (ticket.owner_id, ticket.performer_id, ticket.approver_id):
        return True
    return type(ticket).objects.filter(condition(user)).filter(pk=ticket.pk).exists()


def _condition(user) -> Q | None:
    src = sources(user)
    if src.everything:
        return None
    if src.nothing:
        return Q(pk__in=[])
    observed = _model("Ticket").observers.through.objects.filter(ticket_id=OuterRef("pk"), user_id=src.viewer_id)
    result = (Q(owner_id=src.viewer_id) | Q(performer_id=src.viewer_id) | Q(approver_id=src.viewer_id)
              | Exists(observed))
    for queues in (src.member_queues, src.managed_queues):
        if queues is not None:
            result |= Q(queue_id__in=queues)
    if src.team is not None:
        result |= Q(performer_id__in=src.team) | Q(owner_id__in=src.team)
    return result


@dataclass(frozen=True)
class Visibility:
    """The rule resolved into id sets, for queries that must stay index-friendly."""

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
        result = Q(**{f"{prefix}approver_id": self.viewer_id})
        if self.queue_ids:
            result |= Q(**{f"{prefix}queue_id__in": sorted(self.queue_ids)})
        if self.people_ids:
            people = sorted(self.people_ids)
            result |= Q(**{f"{prefix}performer_id__in": people}) | Q(**{f"{prefix}owner_id__in": people})
        if self.observed_ids and observed:
            result |= Q(**{f"{prefix}{ticket_pk}__in": sorted(self.observed_ids)})
        return result

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
    src = sources(user)
    if src.everything or src.nothing:
        result = Visibility(everything=src.everything, nothing=src.nothing)
    else:
        queues: set[int] = set()
        for subquery in (src.member_queues, src.managed_queues):
            if subquery is not None:
                queues.update(subquery)
        people = {src.viewer_id}
        if src.team is not None:
            people.update(src.team.values_list("user_id", flat=True))
        result = Visibility(viewer_id=src.viewer_id, queue_ids=frozenset(queues), people_ids=frozenset(people),
                            observed_ids=frozenset(src.observed))
    if user is not None:
        user._report_visibility = result  # like ``access.roles_of``: a request loads its user afresh
    return result
