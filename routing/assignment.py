"""Routing applied: load a queue's agents, ask ``routing.strategies`` who gets the ticket, assign, record why.

Entry points
    ``route_ticket(ticket, trigger=...)``  on creation (no performer given) and when a ticket returns to its
                                           queue (``tickets.services`` hooks)
    ``route_waiting(queue, tickets, ...)`` a burst of waiting tickets of one queue, decided as one by one: for
                                           queued work when agents come on shift (``offer_queued_work``, a
                                           django-q2 schedule)
    ``take_next(user, queue)``             pull queues: the agent takes the next ticket in queue order
    ``ticket_skip(ticket, user=, reason=)`` pull queues: pass over the offered ticket, with a reason
    ``classify_text`` / ``classification_record`` / ``classification_corrected``  keyword rules

Every automatic assignment goes through ``services.ticket_assign`` (actor ``None``) and writes a
``ticket.routed`` history row with the strategy, the reason and its figures. The candidates of a queue are
loaded in a constant number of queries (``routing.team``: memberships with profiles and calendars, open-ticket
counts, absences, skills); routing for one queue is serialised by a row lock on the queue, which also guards the
round-robin cursor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from core.people import user_ref as _ref
from core.rowcache import Precompiled, RowCheckedCache
from notifications import work
from notifications.service import deferred as notices_deferred
from routing import strategies as routing
from routing.models import ClassificationRule, TicketSkip, TicketTypeSkill
from routing.queue_order import in_queue_order, waiting
from routing.strategies import Agent, Decision, Requirement
from routing.team import agent_states, on_shift
from tickets import history, services, workload
from tickets.access import ADMIN, ROLES
from tickets.history import record
from tickets.models import Absence, Queue, QueueMembership, Status, Ticket, TicketEvent, VipTier
from tickets.services import TicketError

OFFER_BATCH = 200  # waiting tickets offered per queue and run of the schedule


def _requirements(ticket_type_id: int | None) -> tuple[Requirement, ...]:
    if ticket_type_id is None:
        return ()
    rows = TicketTypeSkill.objects.filter(ticket_type_id=ticket_type_id).values_list("skill__code", "min_level")
    return tuple(Requirement(code, level) for code, level in rows)


def _assign(
    ticket: Ticket,
    user,
    decision: Decision,
    *,
    trigger: str,
    now: datetime,
    actor=None,
    users: dict | None = None,
    deferred: tuple[list, ...] = (),
) -> TicketEvent | None:
    """Assign through the ticket service; the unsaved ``ticket.routed`` history row to write, or None if it refuses.

    ``ticket_assign`` refuses (``TicketError``) inside its own savepoint, so the caller's transaction goes on;
    what it left in the ``deferred`` lists (history rows, notices to write when a burst ends) goes with it.
    """
    marks = [len(pending) for pending in deferred]
    try:
        services.ticket_assign(ticket, performer=user, actor=actor)
    except TicketError:
        for pending, mark in zip(deferred, marks, strict=True):
            del pending[mark:]
        return None
    data = {"trigger": trigger, "performer": _ref(user), **decision.as_data()}
    if decision.substitute_for is not None:
        data["substitute_for"] = _ref(_cached_user(decision.substitute_for, users))
    return history.event(ticket, "ticket.routed", actor, at=now, **data)


def _apply(ticket: Ticket, user, decision: Decision, *, trigger: str, actor=None, now: datetime) -> bool:
    """Assign and record; False (nothing changed) if the assignment service refuses."""
    # The assignment's history rows and the ``ticket.routed`` row: one insert; the performer's open-ticket count and
    # last routing time: one upsert (inside a burst, the burst's).
    with (
        transaction.atomic(savepoint=False),
        history.deferred() as history_rows,
        notices_deferred() as notices,
        workload.deferred() as moves,
    ):
        deferred = (history_rows, notices, moves)
        row = _assign(ticket, user, decision, trigger=trigger, now=now, actor=actor, deferred=deferred)
        if row is None:
            return False
        history_rows.append(row)
        workload.routed(user.pk, now)
    return True


def _cached_user(user_id: int, users: dict | None):
    if users is None:
        return _user(user_id)
    if user_id not in users:
        users[user_id] = _user(user_id)
    return users[user_id]


def _user(user_id: int):
    """The user with their profile and OpsDesk roles (``ticket_assign`` checks them): one query, compiled once."""
    found = _USER_WITH_ROLES.objects(user_id)
    return _roles_cached(found[0]) if found else None


def _roles_cached(user):
    names = {role for role in ROLES if getattr(user, f"has_role_{role}")}
    if user.is_superuser:
        names.add(ADMIN)
    user._opsdesk_roles = frozenset(names)  # what ``tickets.access.roles_of`` caches on the user object
    return user


def _with_roles(users):
    """``users`` with their OpsDesk roles (one ``EXISTS`` each) and what the assignment's notice reads next
    (``notifications``: language, time zone, working calendar, notification settings), so that it reads nothing
    more."""
    memberships = get_user_model().groups.through.objects.filter(user_id=OuterRef("pk"))
    roles = {f"has_role_{role}": Exists(memberships.filter(group__name=role)) for role in ROLES}
    return users.select_related("profile__work_calendar", "notification_settings").annotate(**roles).order_by()


def _user_query(user_id: int):
    return _with_roles(get_user_model().objects.filter(pk=user_id))[:1]


_USER_WITH_ROLES = Precompiled(_user_query, -7_100_201, prepare=True)


def _users(user_ids: Iterable[int]) -> dict[int, object]:
    """The users by id, each read as :func:`_user` reads one (roles, profile, notification settings): one query."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    found = _with_roles(get_user_model().objects.filter(pk__in=user_ids))
    return {user.pk: _roles_cached(user) for user in found}


def _route_to_account_manager(ticket: Ticket, *, trigger: str, exclude: frozenset[int], now: datetime):
    customer = ticket.customer
    if customer.vip_tier_id is None or customer.account_manager_id is None:
        return None
    if not VipTier.objects.filter(pk=customer.vip_tier_id, account_manager_direct=True).exists():
        return None
    if customer.account_manager_id in exclude:
        return None
    manager = _user(customer.account_manager_id)
    if manager is None or not manager.is_active:
        return None
    states = agent_states([ticket.queue_id], now=now)[ticket.queue_id]
    today = timezone.localdate(now)
    absence = Absence.objects.filter(user=manager, starts_on__lte=today, ends_on__gte=today).order_by("pk").first()
    profile = getattr(manager, "profile", None)
    manager_state = Agent(
        user_id=manager.pk,
        on_shift=on_shift(profile, now),
        away=bool(profile and profile.is_away),
        absent=absence is not None,
        substitute_id=absence.substitute_id if absence else None,
    )
    members = [m.agent for m in states if m.role == QueueMembership.Role.AGENT and m.agent.user_id not in exclude]
    decision = routing.account_manager_choice(manager_state, members)
    if decision is None:
        return None
    user = manager if decision.user_id == manager.pk else next(m.user for m in states if m.user.pk == decision.user_id)
    return decision if _apply(ticket, user, decision, trigger=trigger, now=now) else None


def route_ticket(ticket: Ticket, *, trigger: str, exclude: Iterable[int] = (), now: datetime | None = None):
    """Give a waiting ticket to the agent its queue's strategy picks; returns the Decision (or None).

    A VIP tier with ``account_manager_direct`` sends it to the customer's account manager first (their
    substitute if absent and a member of the queue); otherwise, and when the manager is away, the queue's
    strategy decides. Manual and pull queues are left alone. ``exclude``: people who must not get it (the
    performer who just let go of it).
    """
    if ticket.performer_id is not None or ticket.status != Status.NEW:
        return None
    now = now or timezone.now()
    exclude = frozenset(exclude)
    queue = ticket.queue
    customer = ticket.customer
    if customer.vip_tier_id is not None and customer.account_manager_id is not None:
        decision = _route_to_account_manager(ticket, trigger=trigger, exclude=exclude, now=now)
        if decision is not None:
            return decision
    if queue.strategy not in routing.AUTOMATIC or not queue.is_active:
        return None
    # No savepoint of its own inside a caller's transaction (ticket creation, return to the queue): nothing here
    # catches an error of the block, so a failure rolls back with the caller; ``ticket_assign`` keeps its savepoint.
    with transaction.atomic(savepoint=False):
        locked = _QUEUE_CURSOR.rows(queue.pk)  # locks the queue's row: one decision at a time per queue
        cursor = locked[0][0] if locked else None
        needs_skills = queue.strategy in (routing.SKILLS, routing.HYBRID)
        states = agent_states([queue.pk], now=now, skills=needs_skills, users=False)[queue.pk]
        agents = [m for m in states if m.role == QueueMembership.Role.AGENT]
        decision = routing.choose(
            queue.strategy,
            [m.agent for m in agents],
            required=_requirements(ticket.ticket_type_id) if needs_skills else (),
            cursor=cursor,
            exclude=exclude,
        )
        if not decision.assigned:
            return decision
        user = _user(decision.user_id)
        if not _apply(ticket, user, decision, trigger=trigger, now=now):
            return None
        if queue.strategy == routing.ROUND_ROBIN:
            Queue.objects.filter(pk=queue.pk).update(routing_cursor=decision.cursor)
            queue.routing_cursor = decision.cursor
    return decision


_QUEUE_CURSOR = Precompiled(
    lambda queue_id: Queue.objects.select_for_update().filter(pk=queue_id).values_list("routing_cursor").order_by(),
    -7_100_202,
    prepare=True,
)


def _waiting(ticket: Ticket, still: frozenset[int] | None = None) -> bool:
    """Waiting as the caller read it, and (``still``) as the burst found it under its row locks."""
    return ticket.performer_id is None and ticket.status == Status.NEW and (still is None or ticket.pk in still)


def _for_account_manager(ticket: Ticket) -> bool:
    customer = ticket.customer
    return customer.vip_tier_id is not None and customer.account_manager_id is not None


@dataclass
class _Burst:
    """The state of a burst: the team as the next decision sees it, fed back after each assignment."""

    strategy: str
    team: list[Agent]
    cursor: int | None
    now: datetime
    still: frozenset[int] | None = None

    def __post_init__(self) -> None:
        self.slot_of = {agent.user_id: i for i, agent in enumerate(self.team)}

    def took(self, decision: Decision) -> None:
        """What the team query would read for the next ticket: one more open ticket, assigned now."""
        i = self.slot_of.get(decision.user_id)
        if i is not None:
            agent = self.team[i]
            self.team[i] = agent._replace(open_tickets=agent.open_tickets + 1, last_assigned_at=self.now)
        if self.strategy == routing.ROUND_ROBIN and decision.strategy == routing.ROUND_ROBIN:
            self.cursor = decision.cursor

    def plan(self, tickets: list[Ticket], requirements) -> list[Decision | None]:
        """Decisions for ``tickets`` (none for a VIP manager's), on a copy of the team, as if each succeeded.

        Stops after the first ``R_NO_AGENT`` and before the first ticket for an account manager.
        """
        trial = _Burst(self.strategy, list(self.team), self.cursor, self.now, self.still)
        plan: list[Decision | None] = []
        for ticket in tickets:
            if not _waiting(ticket, self.still):
                plan.append(None)
                continue
            if _for_account_manager(ticket):
                break
            decision = routing.choose(self.strategy, trial.team, required=requirements(ticket), cursor=trial.cursor)
            plan.append(decision)
            if decision.assigned:
                trial.took(decision)
            elif decision.reason == routing.R_NO_AGENT:
                break
        return plan


def route_waiting(
    queue: Queue, tickets: Iterable[Ticket], *, trigger: str, now: datetime | None = None
) -> list[Decision | None]:
    """Route waiting tickets of ``queue`` in the given order, deciding as ``route_ticket`` would one by one.

    One transaction for the burst: the queue is locked and its team read once; the decisions are planned in memory,
    each fed back into the team (one more open ticket and this assignment time for whoever got it, the
    round-robin cursor); the chosen people are read in one query; each ticket is assigned through
    ``ticket_assign``; the ``ticket.routed`` rows, the open-ticket counts, the last assignment times and the cursor
    are written once at the end. A refused assignment plans the rest again from what really happened. A VIP ticket
    for an account manager takes ``route_ticket``'s manager path. The burst stops at the first ticket nobody can take
    (``R_NO_AGENT``): one decision (or None) per ticket looked at. The query count does not grow with the team.
    """
    now = now or timezone.now()
    tickets = list(tickets)
    if any(t.queue_id != queue.pk for t in tickets):
        raise ValueError("route_waiting routes the tickets of one queue")
    automatic = queue.strategy in routing.AUTOMATIC and queue.is_active
    needs_skills = queue.strategy in (routing.SKILLS, routing.HYBRID)
    decisions: list[Decision | None] = []
    with transaction.atomic(savepoint=False):
        locked = Queue.objects.select_for_update().filter(pk=queue.pk).values_list("routing_cursor", flat=True).first()
        team: list[Agent] = []
        if automatic:
            states = agent_states([queue.pk], now=now, skills=needs_skills, users=False)[queue.pk]
            team = [m.agent for m in states if m.role == QueueMembership.Role.AGENT]
        # Lock the tickets still waiting; one another transaction holds (someone is assigning it) is left alone.
        still = frozenset(
            Ticket.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[t.pk for t in tickets], performer__isnull=True, status=Status.NEW)
            .values_list("pk", flat=True)
        )
        burst = _Burst(queue.strategy, team, locked, now, still)
        by_type: dict[int | None, tuple[Requirement, ...]] = {}

        def requirements(ticket: Ticket) -> tuple[Requirement, ...]:
            if needs_skills and ticket.ticket_type_id not in by_type:
                by_type[ticket.ticket_type_id] = _requirements(ticket.ticket_type_id)
            return by_type.get(ticket.ticket_type_id, ())

        users: dict[int, object] = {}
        rows: list[TicketEvent] = []
        chosen: set[int] = set()
        # The history rows and the notices of the burst's assignments are each written in one go when it ends.
        with history.deferred() as history_rows, notices_deferred() as notices, workload.deferred() as moves:
            stop = False
            while len(decisions) < len(tickets) and not stop:
                ticket = tickets[len(decisions)]
                if _waiting(ticket, still) and _for_account_manager(ticket):
                    decision = _route_to_account_manager(ticket, trigger=trigger, exclude=frozenset(), now=now)
                    if decision is not None or not automatic:
                        if decision is not None:
                            burst.took(decision)
                        decisions.append(decision)
                        continue
                    plan = [
                        routing.choose(queue.strategy, burst.team, required=requirements(ticket), cursor=burst.cursor)
                    ]
                elif not automatic:
                    decisions.append(None)
                    continue
                else:
                    plan = burst.plan(tickets[len(decisions) :], requirements)
                wanted = {d.user_id for d in plan if d and d.assigned} | {d.substitute_for for d in plan if d}
                users.update(_users(wanted - set(users) - {None}))
                for decision in plan:
                    ticket = tickets[len(decisions)]
                    if decision is None or not decision.assigned:
                        decisions.append(decision)
                        stop = decision is not None and decision.reason == routing.R_NO_AGENT
                        continue
                    user = users.get(decision.user_id)
                    row = _assign(
                        ticket,
                        user,
                        decision,
                        trigger=trigger,
                        now=now,
                        users=users,
                        deferred=(history_rows, notices, moves),
                    )
                    if row is None:  # refused: nobody got it; plan the rest again
                        decisions.append(None)
                        break
                    rows.append(row)
                    chosen.add(decision.user_id)
                    burst.took(decision)
                    decisions.append(decision)
            # The ``ticket.routed`` rows go in the same insert, after the assignments' own rows; the last routing
            # times in the same upsert as the open-ticket counts.
            history_rows.extend(rows)
            for user_id in chosen:
                workload.routed(user_id, now)
        if queue.strategy == routing.ROUND_ROBIN and burst.cursor != locked:
            Queue.objects.filter(pk=queue.pk).update(routing_cursor=burst.cursor)
            queue.routing_cursor = burst.cursor
    return decisions


def offer_queued_work(now: datetime | None = None) -> int:
    """Offer waiting tickets of every automatic queue, in queue order, to the agents available now."""
    now = now or timezone.now()
    assigned = 0
    for queue in Queue.objects.filter(is_active=True, strategy__in=routing.AUTOMATIC).order_by("pk"):
        tickets = in_queue_order(waiting(Ticket.objects.filter(queue=queue))).select_related("queue", "customer")
        decisions = route_waiting(queue, tickets[:OFFER_BATCH], trigger="offer", now=now)
        assigned += sum(1 for decision in decisions if decision is not None and decision.assigned)
    return assigned


def offer_queued_work_task() -> int:
    return offer_queued_work()


# --- Pull queues ----------------------------------------------------------------------------------


def _agent_membership(user, queue: Queue) -> QueueMembership:
    membership = QueueMembership.objects.filter(user=user, queue=queue, role=QueueMembership.Role.AGENT).first()
    if membership is None:
        raise TicketError(_("You are not an agent of this queue."))
    if queue.strategy != routing.PULL:
        raise TicketError(_("Tickets of this queue are routed; there is nothing to take."))
    return membership


def announce_waiting(ticket: Ticket, *, trigger: str, exclude: Iterable[int] = (), actor=None) -> int:
    """Tell the agents of a pull queue that a ticket waits there (nobody routed it); returns how many were told.

    Not those in ``exclude`` (who just let it go), not the actor; the notices are routine, so digests group them.
    """
    queue = ticket.queue
    if ticket.performer_id is not None or ticket.status != Status.NEW:
        return 0
    if queue.strategy != routing.PULL or not queue.is_active:
        return 0
    agents = (
        get_user_model()
        .objects.filter(
            is_active=True, queue_memberships__queue=queue, queue_memberships__role=QueueMembership.Role.AGENT
        )
        .exclude(pk__in=list(exclude))
        .select_related("profile")
        .distinct()
    )
    return work.queue_ticket(ticket, agents=agents, actor=actor, returned=trigger == "returned")


def pull_candidates(user, queue: Queue):
    """The waiting tickets ``user`` may take from ``queue``, in queue order (what they skipped left out)."""
    skipped = TicketSkip.objects.filter(user=user).values("ticket_id")
    return in_queue_order(waiting(Ticket.objects.filter(queue=queue)).exclude(pk__in=skipped))


def next_for(user, queue: Queue) -> Ticket | None:
    return pull_candidates(user, queue).select_related("customer__vip_tier").first()


@transaction.atomic
def take_next(user, queue: Queue, *, now: datetime | None = None) -> Ticket:
    """Give ``user`` the next ticket of the pull ``queue`` in queue order; TicketError if none or at capacity."""
    now = now or timezone.now()
    membership = _agent_membership(user, queue)
    if membership.capacity is not None:
        open_now = Ticket.objects.open().filter(performer=user).count()
        if open_now >= membership.capacity:
            raise TicketError(_("You already have %(count)d open tickets, your capacity.") % {"count": open_now})
    for ticket_id in pull_candidates(user, queue).values_list("pk", flat=True)[:10]:
        # Someone may take the same ticket at the same moment: re-check it is still waiting under the lock.
        ticket = (
            Ticket.objects.select_for_update().filter(pk=ticket_id, performer__isnull=True, status=Status.NEW).first()
        )
        if ticket is None:
            continue
        with workload.deferred():  # the count's move and the routing time: one upsert
            services.ticket_assign(ticket, performer=user, actor=user)
            record(
                ticket,
                "ticket.routed",
                user,
                at=now,
                trigger="take_next",
                performer=_ref(user),
                strategy=routing.PULL,
                reason=routing.R_TAKE_NEXT,
            )
            workload.routed(user.pk, now)
        return ticket
    raise TicketError(_("Nothing is waiting in this queue."))


@transaction.atomic
def ticket_skip(ticket: Ticket, *, user, reason: str) -> TicketSkip:
    """``user`` passes over ``ticket`` offered to them in a pull queue; the reason is required and recorded."""
    reason = (reason or "").strip()
    if not reason:
        raise TicketError(_("Say why you skip this ticket."))
    queue = ticket.queue
    _agent_membership(user, queue)
    if ticket.performer_id is not None or ticket.status != Status.NEW:
        raise TicketError(_("This ticket is no longer waiting."))
    try:
        with transaction.atomic():
            skip = TicketSkip.objects.create(ticket=ticket, user=user, queue=queue, reason=reason[:300])
    except IntegrityError:
        raise TicketError(_("You already skipped this ticket.")) from None
    record(ticket, "ticket.skipped", user, reason=skip.reason)
    return skip


# --- Keyword classification ------------------------------------------------------------------------


def classify_text(*texts: str) -> ClassificationRule | None:
    """The first active rule (by position) with a keyword in the texts; one query (shared objects: read-only)."""
    rules = _ACTIVE_RULES.get()
    if not rules:
        return None
    by_pk = {r.pk: r for r in rules}
    key = routing.classify("\n".join(t for t in texts if t), [(r.pk, r.keywords) for r in rules])
    return by_pk.get(key)


_ACTIVE_RULES = RowCheckedCache(
    lambda: (
        ClassificationRule.objects.filter(active=True, ticket_type__is_active=True)
        .select_related("ticket_type__default_queue")
        .defer("hits", "corrections")  # counters bumped on each hit: not part of what the cache compares
        .order_by("position", "pk")
    ),
    prepare=True,  # read on every new ticket; one plan whatever the rows
)


def classification_record(ticket: Ticket, rule: ClassificationRule) -> None:
    """The ticket got its type from ``rule``: count the hit and say so in the history."""
    ClassificationRule.objects.filter(pk=rule.pk).update(hits=F("hits") + 1)
    record(ticket, "ticket.classified", None, rule=rule.pk, type=rule.ticket_type.slug, type_id=rule.ticket_type_id)


def classification_corrected(ticket: Ticket, *, old_type_id: int | None) -> bool:
    """A dispatcher changed the type a rule gave: count a correction on the rule (once per wrong guess)."""
    if old_type_id is None:
        return False
    event = TicketEvent.objects.filter(ticket=ticket, kind="ticket.classified").order_by("-pk").first()
    if event is None or event.data.get("type_id") != old_type_id:
        return False
    return bool(ClassificationRule.objects.filter(pk=event.data.get("rule")).update(corrections=F("corrections") + 1))


# --- History sentences (registered in tickets.templatetags.opsdesk) ------------------------------------------


def name_of(ref) -> str:
    return (ref or {}).get("name") or _("nobody")


def describe_reason(data: dict) -> str:
    """Why routing chose this person, in the active language."""
    reason = data.get("reason")
    figures = {"open": data.get("open", 0), "capacity": data.get("capacity")}
    load = (
        _("%(open)d open of %(capacity)d") % figures
        if figures["capacity"] is not None
        else _("%(open)d open") % figures
    )
    skills = ", ".join(data.get("skills") or []) or "—"
    text = {
        routing.R_NEXT_IN_TURN: lambda: _("next in turn (%(load)s)") % {"load": load},
        routing.R_LEAST_LOADED: lambda: _("fewest open tickets (%(load)s)") % {"load": load},
        routing.R_MOST_SKILLED: lambda: _("most skilled for %(skills)s (%(load)s)") % {"skills": skills, "load": load},
        routing.R_SKILLED_LEAST_LOADED: lambda: (
            _("has the skills %(skills)s and the fewest open tickets (%(load)s)") % {"skills": skills, "load": load}
        ),
        routing.R_FALLBACK_LEAST_LOADED: lambda: (
            _("nobody available has the skills %(skills)s; fewest open tickets (%(load)s)")
            % {"skills": skills, "load": load}
        ),
        routing.R_ACCOUNT_MANAGER: lambda: _("the customer's account manager"),
        routing.R_ACCOUNT_MANAGER_SUBSTITUTE: lambda: _("substitute of the absent account manager"),
        routing.R_TAKE_NEXT: lambda: _("took the next ticket of the queue"),
    }.get(reason)
    result = text() if text else str(reason)
    if data.get("substitute_for") and reason != routing.R_ACCOUNT_MANAGER_SUBSTITUTE:
        result += " " + _("(standing in for %(person)s)") % {"person": name_of(data["substitute_for"])}
    return result


STRATEGY_LABELS = {
    routing.ROUND_ROBIN: lambda: _("round robin"),
    routing.LEAST_LOADED: lambda: _("least loaded"),
    routing.SKILLS: lambda: _("skills"),
    routing.HYBRID: lambda: _("hybrid"),
    routing.PULL: lambda: _("pull"),
    "account_manager": lambda: _("VIP account manager"),
}
