"""The ticket lists and the ticket page of the portal: tickets with what their rows show across apps.

Every query starts from ``Ticket.objects.visible_to(user)`` and loads the related rows it renders
up front (SLA clocks, the escalation's urgent mark, agents for the inline assign form), so a page
runs the same number of queries whatever its size.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import router
from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery, prefetch_related_objects

from core.forms import PK_MAX  # a bigger number in the URL is no ticket (and SQLite refuses to bind it)
from core.rowcache import Precompiled, set_prefetched
from escalations.models import TicketEscalationState
from routing.queue_order import in_queue_order
from sla.selectors import attach_clocks, with_clocks
from tickets import access, visibility
from tickets.models import Message, QueueMembership, Status, Ticket, TicketEvent

User = get_user_model()


def _agent_memberships() -> Prefetch:
    return Prefetch(
        "queue__memberships",
        queryset=QueueMembership.objects.filter(role=QueueMembership.Role.AGENT, user__is_active=True)
        .select_related("user__profile")
        .order_by("user__profile__display_name", "user__username"),
        to_attr="agent_memberships",
    )


# What each table's rows draw (tickets.tables), joined by select_related: only those. Every further join
# costs on each request, PostgreSQL most of all: it plans a query of eleven joined tables in 10-25 ms, however
# few rows it then reads (the whole list query runs in about 1 ms), and eight or fewer in a few.
LIST_ROW_RELATED = ("customer__vip_tier", "queue", "blocking_reason", "performer__profile")  # TicketListTable
MY_WORK_ROW_RELATED = ("customer__vip_tier", "blocking_reason")  # MyWorkTable
INTAKE_ROW_RELATED = ("customer__vip_tier", "queue", "ticket_type")  # IntakeTable


def _urgent_since() -> Subquery:
    """The escalation's urgent mark of each row, read per row shown rather than joined: a join would stay in the
    key and count queries of the tables (``tickets.tables``), and SQLite then no longer reads one person's open
    tickets off two indexes at once (My work: 3 ms instead of 11 ms at 100,000 tickets)."""
    return Subquery(TicketEscalationState.objects.filter(ticket_id=OuterRef("pk")).values("urgent_since")[:1])


def _with_rows(tickets: QuerySet, related: tuple[str, ...]) -> QuerySet:
    """``tickets`` with what a table's rows show: ``related``, the SLA clocks and the escalation's urgent mark."""
    return with_clocks(tickets.select_related(*related).annotate(urgent_since=_urgent_since()))


def ticket_list(user) -> QuerySet:
    """Every ticket ``user`` may see, with what a list row shows (the escalation's urgent mark included)."""
    return _with_rows(Ticket.objects.visible_to(user), LIST_ROW_RELATED)


def my_work(user) -> QuerySet:
    """Open tickets ``user`` performs or owns.

    The visibility rule (``tickets.visibility``) lets every signed-in, active person see the tickets they
    perform or own, so the rule is not repeated here: ``performer OR owner`` alone lets the database read the
    person's open tickets off the ``(performer, status)`` and ``(owner, status)`` indexes, without testing the
    rest of the rule (queue memberships, observers) on each of them."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Ticket.objects.none()
    return _with_rows(Ticket.objects.open().filter(Q(performer=user) | Q(owner=user)), MY_WORK_ROW_RELATED)


def dispatched_queue_ids(user) -> QuerySet:
    return QueueMembership.objects.filter(user=user, role=QueueMembership.Role.DISPATCHER).values("queue_id")


def intake_board(user) -> QuerySet:
    """Open tickets nobody performs yet (or still new), in queue order (``routing.queue_order``).

    Dispatchers see the queues they dispatch; managers and admins everything visible to them.
    Each ticket's queue carries ``agent_memberships`` for the inline assign form.
    """
    roles = access.roles_of(user)
    if roles & {access.MANAGER, access.ADMIN} or access.sees_everything(user):
        tickets = Ticket.objects.visible_to(user)
    elif access.DISPATCHER in roles and user.is_active:
        # The visibility rule shows a dispatcher every ticket of the queues they dispatch (tickets.visibility:
        # queue memberships by role), so those queues alone are the board, without testing the rest of the rule
        # (own tickets, observers, other memberships) on each waiting ticket.
        tickets = Ticket.objects.filter(queue_id__in=dispatched_queue_ids(user))
    else:
        tickets = Ticket.objects.visible_to(user).filter(queue_id__in=dispatched_queue_ids(user))
    tickets = _with_rows(tickets, INTAKE_ROW_RELATED).open().filter(Q(performer__isnull=True) | Q(status=Status.NEW))
    return in_queue_order(tickets.prefetch_related(_agent_memberships()))


# The people a ticket names, read with the observers in one query of their own (``_load_people``): joined to the
# ticket they were ten more tables in its query, which PostgreSQL spent milliseconds planning on every view.
TICKET_PEOPLE = ("owner", "performer", "approver", "created_by", "requester_user")


def ticket_detail(user, pk: int) -> Ticket:
    """The ticket page's ticket with its people, conversation and history loaded; DoesNotExist if not visible.

    The ticket is read by its key alone, by a statement compiled once per process, and then checked against the
    visibility rule (``visibility.sees``: no query when the row or the viewer's roles answer it). Read through
    ``visible_to(user)``, its SQL was compiled anew on every view, with the viewer's rule inside (3.6 ms of the
    page's time on PostgreSQL).
    """
    found = _TICKET.objects(pk, using=router.db_for_read(Ticket)) if 0 < pk <= PK_MAX else []
    if not found or not visibility.sees(user, found[0]):
        raise Ticket.DoesNotExist
    ticket = found[0]
    _load_conversation(ticket)
    attach_clocks([ticket])
    _load_people(ticket)
    return access.mark_visible(ticket, user)  # the page's access checks and panels ask again: no query


_TICKET = Precompiled(
    lambda pk: Ticket.objects.select_related(
        "customer__vip_tier",
        "customer__organisation",
        "queue",
        "ticket_type",
        "blocking_reason",
        "related_object",
        "requester_queue",
        "satisfaction_survey__rating",  # the survey and its answer (tickets.satisfaction): no extra query
    )
    .annotate(urgent_since=F("escalation_state__urgent_since"))  # the escalation panel's mark: no query
    .filter(pk=pk),
    -7_100_902,
    prepare=True,
)


def _load_conversation(ticket: Ticket) -> None:
    """The ticket's messages (with their authors, customer and files) and history rows, where ``prefetch_related``
    would leave them, read by statements compiled once per process (the files by a prefetch, when there are
    messages)."""
    using = router.db_for_read(Message)
    messages = _MESSAGES.objects(ticket.pk, using=using)
    prefetch_related_objects(messages, "attachments")
    events = _EVENTS.objects(ticket.pk, using=using)
    set_prefetched(ticket, "messages", messages)
    set_prefetched(ticket, "events", events)


# Stand for the ticket while the SQL is compiled: no ticket has it.
_MESSAGES = Precompiled(
    lambda ticket_id: Message.objects.filter(ticket_id=ticket_id).select_related("author__profile", "customer"),
    -7_100_901,
)
_EVENTS = Precompiled(
    lambda ticket_id: TicketEvent.objects.filter(ticket_id=ticket_id).select_related("actor__profile"), -7_100_901
)


def _load_people(ticket: Ticket) -> None:
    """Owner, performer, approver, creator, requester (with profiles) and the observers (by username): one query.

    Each person lands in the ticket's relation cache and the observers in its prefetch cache, as
    ``select_related`` and ``prefetch_related`` would leave them."""
    through = Ticket.observers.through
    observes = through.objects.filter(ticket_id=ticket.pk)
    named = {getattr(ticket, f"{name}_id") for name in TICKET_PEOPLE} - {None}
    people = list(
        User.objects.select_related("profile")
        .filter(Q(pk__in=named) | Q(pk__in=observes.values("user_id")))
        .annotate(observes_ticket=Exists(observes.filter(user_id=OuterRef("pk"))))
        .order_by("username")
    )
    by_pk = {person.pk: person for person in people}
    for name in TICKET_PEOPLE:
        person_id = getattr(ticket, f"{name}_id")
        if person_id is not None:
            Ticket._meta.get_field(name).set_cached_value(ticket, by_pk.get(person_id))
    set_prefetched(ticket, "observers", [person for person in people if person.observes_ticket])
