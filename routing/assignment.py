"""Routing applied: load a queue's agents, ask ``routing.strategies`` who gets the ticket, assign, record why.

Entry points
    ``route_ticket(ticket, trigger=...)``  on creation (no performer given) and when a ticket returns to its
                                           queue (``tickets.services`` hooks), and for queued work when agents
                                           come on shift (``offer_queued_work``, a django-q2 schedule)
    ``take_next(user, queue)``             pull queues: the agent takes the next ticket in queue order
    ``ticket_skip(ticket, user=, reason=)`` pull queues: pass over the offered ticket, with a reason
    ``classify_text`` / ``classification_record`` / ``classification_corrected``  keyword rules

Every automatic assignment goes through ``services.ticket_assign`` (actor ``None``) and writes a
``ticket.routed`` history row with the strategy, the reason and its figures. The candidates of a queue are
loaded in a constant number of queries (memberships with profiles and calendars, open-ticket counts,
absences, skills); routing for one queue is serialised by a row lock on the queue, which also guards the
round-robin cursor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.people import user_ref as _ref
from notifications import work
from routing import strategies as routing
from routing.models import AgentSkill, ClassificationRule, TicketSkip, TicketTypeSkill
from routing.queue_order import in_queue_order, waiting
from routing.strategies import Agent, Decision, Requirement
from sla.models import Calendar
from tickets import services
from tickets.history import record
from tickets.models import Absence, Profile, Queue, QueueMembership, Status, Ticket, TicketEvent, VipTier
from tickets.services import TicketError

OFFER_BATCH = 200  # waiting tickets offered per queue and run of the schedule


@dataclass
class Member:
    user: object
    role: str
    agent: Agent


def _on_shift(profile: Profile | None, now: datetime) -> bool:
    if profile is None or profile.work_calendar_id is None:
        return True
    try:
        return profile.work_calendar.work_calendar().is_working(now)
    except ValueError:  # an invalid calendar: treat the person as off shift rather than crash routing
        return False


def agent_states(
    queue_ids: Iterable[int], *, now: datetime | None = None, skills: bool = False, users: bool = True
) -> dict[int, list[Member]]:
    """Members (agents and dispatchers) of the queues with their routing state, in four or five queries.

    ``users=False`` (routing) leaves ``Member.user`` empty and reads only the columns routing needs, in one
    query (plus one for working calendars when someone has one, one for skills when asked).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    memberships = QueueMembership.objects.filter(queue_id__in=list(queue_ids), user__is_active=True).order_by(
        "queue_id", "user_id"
    )
    if users:
        memberships = list(memberships.select_related("user__profile__work_calendar"))
        user_ids = {m.user_id for m in memberships}
        open_counts = dict(
            Ticket.objects.open()
            .filter(performer_id__in=user_ids)
            .values("performer_id")
            .annotate(n=Count("pk"))
            .values_list("performer_id", "n")
        )
        absences = {
            a.user_id: a.substitute_id
            for a in Absence.objects.filter(user_id__in=user_ids, starts_on__lte=today, ends_on__gte=today).order_by(
                "starts_on", "pk"
            )
        }
    else:
        # Routing: one query for the members, their load and today's absence (correlated subqueries on the
        # (performer, status) and (user, dates) indexes), whatever the number of agents.
        absence = Absence.objects.filter(user_id=OuterRef("user_id"), starts_on__lte=today, ends_on__gte=today)
        rows = list(memberships.annotate(
            open_n=Subquery(
                Ticket.objects.open().filter(performer_id=OuterRef("user_id")).order_by()
                .values("performer_id").annotate(n=Count("pk")).values("n")[:1]
            ),
            absent=Exists(absence),
            substitute=Subquery(absence.order_by("-starts_on", "-pk").values("substitute_id")[:1]),
        ).values_list(
            "queue_id", "user_id", "role", "capacity", "user__profile__work_calendar_id",
            "user__profile__is_away", "user__profile__last_assigned_at", "open_n", "absent", "substitute",
        ))
        calendars = _calendars({row[4] for row in rows if row[4] is not None})
        memberships = [
            _Row(queue_id, user_id, role, capacity, _ProfileRow(calendar_id, bool(away), last,
                                                                calendars.get(calendar_id)))
            for queue_id, user_id, role, capacity, calendar_id, away, last, *_rest in rows
        ]
        user_ids = {m.user_id for m in memberships}
        open_counts = {row[1]: row[7] or 0 for row in rows}
        absences = {row[1]: row[9] for row in rows if row[8]}
    agent_skills: dict[int, dict[str, int]] = defaultdict(dict)
    if skills:
        for user_id, code, level in AgentSkill.objects.filter(user_id__in=user_ids).values_list(
            "user_id", "skill__code", "level"
        ):
            agent_skills[user_id][code] = level
    result: dict[int, list[Member]] = defaultdict(list)
    for m in memberships:
        profile = getattr(m.user, "profile", None) if users else m.profile
        agent = Agent(
            user_id=m.user_id,
            on_shift=_on_shift(profile, now),
            away=bool(profile and profile.is_away),
            absent=m.user_id in absences,
            substitute_id=absences.get(m.user_id),
            open_tickets=open_counts.get(m.user_id, 0),
            capacity=m.capacity if m.role == QueueMembership.Role.AGENT else None,
            last_assigned_at=profile.last_assigned_at if profile else None,
            skills=agent_skills.get(m.user_id, {}),
        )
        result[m.queue_id].append(Member(m.user if users else None, m.role, agent))
    return result


@dataclass
class _ProfileRow:
    work_calendar_id: int | None
    is_away: bool
    last_assigned_at: datetime | None
    work_calendar: object = None


@dataclass
class _Row:
    queue_id: int
    user_id: int
    role: str
    capacity: int | None
    profile: _ProfileRow


def _calendars(ids: set[int]) -> dict:
    """The agents' working calendars in one query (``Calendar.work_calendar`` caches each engine by version)."""
    if not ids:
        return {}
    return Calendar.objects.in_bulk(list(ids))


def _requirements(ticket_type_id: int | None) -> tuple[Requirement, ...]:
    if ticket_type_id is None:
        return ()
    rows = TicketTypeSkill.objects.filter(ticket_type_id=ticket_type_id).values_list("skill__code", "min_level")
    return tuple(Requirement(code, level) for code, level in rows)


def _apply(ticket: Ticket, user, decision: Decision, *, trigger: str, actor=None, now: datetime) -> bool:
    """Assign and record; False (nothing changed) if the assignment service refuses."""
    try:
        with transaction.atomic():
            services.ticket_assign(ticket, performer=user, actor=actor)
            data = decision.as_data()
            if decision.substitute_for is not None:
                data["substitute_for"] = _ref(_user(decision.substitute_for))
            record(ticket, "ticket.routed", actor, at=now, trigger=trigger, performer=_ref(user), **data)
            Profile.objects.filter(user=user).update(last_assigned_at=now)
    except TicketError:
        return False
    return True


def _user(user_id: int):
    return get_user_model().objects.filter(pk=user_id).select_related("profile").first()


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
        on_shift=_on_shift(profile, now),
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
    # catches an error of the block, so a failure rolls back with the caller; ``_apply`` keeps its savepoint.
    with transaction.atomic(savepoint=False):
        cursor = Queue.objects.select_for_update().filter(pk=queue.pk).values_list("routing_cursor", flat=True).first()
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


def offer_queued_work(now: datetime | None = None) -> int:
    """Offer waiting tickets of every automatic queue, in queue order, to the agents available now."""
    now = now or timezone.now()
    assigned = 0
    for queue in Queue.objects.filter(is_active=True, strategy__in=routing.AUTOMATIC).order_by("pk"):
        tickets = in_queue_order(waiting(Ticket.objects.filter(queue=queue))).select_related("queue", "customer")
        for ticket in tickets[:OFFER_BATCH]:
            decision = route_ticket(ticket, trigger="offer", now=now)
            if decision is not None and decision.assigned:
                assigned += 1
            elif decision is not None and decision.reason == routing.R_NO_AGENT:
                break  # nobody can take anything in this queue now
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
    agents = (get_user_model().objects.filter(is_active=True, queue_memberships__queue=queue,
                                              queue_memberships__role=QueueMembership.Role.AGENT)
              .exclude(pk__in=list(exclude)).select_related("profile").distinct())
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
        ticket = Ticket.objects.select_for_update().filter(pk=ticket_id, performer__isnull=True,
                                                           status=Status.NEW).first()
        if ticket is None:
            continue
        services.ticket_assign(ticket, performer=user, actor=user)
        record(ticket, "ticket.routed", user, at=now, trigger="take_next", performer=_ref(user),
               strategy=routing.PULL, reason=routing.R_TAKE_NEXT)
        Profile.objects.filter(user=user).update(last_assigned_at=now)
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
    """The first active rule (by position) with a keyword in the texts; one query."""
    rules = list(ClassificationRule.objects.filter(active=True, ticket_type__is_active=True)
                 .select_related("ticket_type__default_queue").order_by("position", "pk"))
    if not rules:
        return None
    by_pk = {r.pk: r for r in rules}
    key = routing.classify("\n".join(t for t in texts if t), [(r.pk, r.keywords) for r in rules])
    return by_pk.get(key)


def classification_record(ticket: Ticket, rule: ClassificationRule) -> None:
    """The ticket got its type from ``rule``: count the hit and say so in the history."""
    ClassificationRule.objects.filter(pk=rule.pk).update(hits=F("hits") + 1)
    record(ticket, "ticket.classified", None, rule=rule.pk, type=rule.ticket_type.slug,
           type_id=rule.ticket_type_id)


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
        routing.R_SKILLED_LEAST_LOADED: lambda: _("has the skills %(skills)s and the fewest open tickets (%(load)s)")
        % {"skills": skills, "load": load},
        routing.R_FALLBACK_LEAST_LOADED: lambda: _("nobody available has the skills %(skills)s; fewest open tickets "
                                                   "(%(load)s)") % {"skills": skills, "load": load},
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
