"""Every write to a ticket goes through here.

Views, admin, the intake API and django-q2 tasks all call these functions.
Each runs in a transaction, locks the ticket row it changes, and writes an
immutable ``TicketEvent`` saying who did what. Domain errors are
``TicketError`` with a message fit for the person who caused them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import fastinsert
from core.locks import lock as _lock
from core.people import user_ref as _user_ref
from tickets import access, events, ports, workload
from tickets.attachments import IncomingFile, attach, check
from tickets.attachments import history_names as _file_names
from tickets.customers import (  # noqa: F401 (re-exported)
    customer_create,
    customer_find,
    customer_find_or_create,
    internal_customer,
    normalize_phone,
)
from tickets.deadlines import (  # noqa: F401 (re-exported)
    SLA_CAUSES,
    check_date_in_range,
    ticket_move_deadline,
    ticket_override_deadline,
)
from tickets.errors import TicketError
from tickets.history import record
from tickets.models import (
    CLOSED_STATUSES,
    BlockingReason,
    Channel,
    Customer,
    DeliveryStatus,
    IntakeChannel,
    Message,
    Priority,
    Queue,
    RelatedObject,
    Status,
    Ticket,
    TicketKind,
    TicketType,
)
from tickets.planning import UNSET, ticket_set_next_step, ticket_update  # noqa: F401 (re-exported)
from tickets.queue_priority import queue_priority_of


class AttachmentsRefused(TicketError):
    """A file broke a limit (``tickets.attachments.check``); ``reasons`` name each file. Nothing was saved."""

    def __init__(self, reasons: list[str]):
        super().__init__(" ".join(reasons))
        self.reasons = list(reasons)


def _check_files(files: Sequence[IncomingFile]) -> None:
    try:
        check(files)
    except ValidationError as error:
        raise AttachmentsRefused(error.messages) from error


# Which status may follow which. Reopening a done ticket goes back to work;
# restoring a canceled one puts it back in the queue. A ticket on approval is
# closed only by its approver's decision (tickets/approval.py).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING, Status.CANCELED}),
    Status.ASSIGNED: frozenset(
        {Status.NEW, Status.IN_PROGRESS, Status.WAITING, Status.ON_APPROVAL, Status.DONE, Status.CANCELED}
    ),
    Status.IN_PROGRESS: frozenset({Status.WAITING, Status.ON_APPROVAL, Status.DONE, Status.CANCELED}),
    Status.WAITING: frozenset({Status.IN_PROGRESS, Status.ON_APPROVAL, Status.DONE, Status.CANCELED}),
    Status.ON_APPROVAL: frozenset({Status.IN_PROGRESS, Status.WAITING}),
    Status.DONE: frozenset({Status.IN_PROGRESS}),
    Status.CANCELED: frozenset({Status.NEW}),
}
NEEDS_PERFORMER = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.ON_APPROVAL, Status.DONE})


def allowed_statuses(ticket: Ticket) -> list[str]:
    """The statuses ``ticket`` may move to now, in lifecycle order."""
    nxt = TRANSITIONS[ticket.status]
    return [s for s in Status.values if s in nxt and (ticket.performer_id or s not in NEEDS_PERFORMER)]



# --- Creation ---------------------------------------------------------------------


def ticket_create(
    *,
    actor,
    title: str,
    customer: Customer | None = None,
    queue: Queue,
    ticket_type: TicketType | None = None,
    description: str = "",
    channel: str = Channel.PORTAL,
    priority: int = Priority.NORMAL,
    related_object: RelatedObject | None = None,
    deadline: datetime | None = None,
    performer=None,
    owner=None,
    approver=None,
    observers: Iterable = (),
    intake_channel: IntakeChannel | None = None,
    external_id: str = "",
    classified_by=None,
    classify: bool = True,
    requester_user=None,
    requester_queue: Queue | None = None,
    follow_up_of: Ticket | None = None,
    attachments: Sequence[IncomingFile] = (),
    mail_message_id: str = "",
) -> Ticket:
    """Open a ticket; the description becomes the customer's first message (``ticket.opening_message``).

    With a ``requester_user`` (who then observes it) or a ``requester_queue`` instead of a ``customer``
    it is an **internal task**: it points to ``internal_customer()``, its description is a note.

    Without a type, keyword rules may give one (``tickets.ports.classify``; ``classified_by``: the rule
    the caller already applied; ``classify=False``: the caller applied the rules and none matched). Without a
    performer the ticket is queued (``events.TicketQueued``: the queue's routing strategy may assign it).
    ``mail_message_id``: the Message-ID of the email the first message came in (email threading).

    The returned ticket carries the message the description became as ``opening_message`` (``None`` when
    there is none), so a caller need not read it back.
    """
    title = (title or "").strip()
    if not title:
        raise TicketError(_("A ticket needs a title."))
    internal = requester_user is not None or requester_queue is not None
    if internal == (customer is not None):
        raise TicketError(_("A ticket is either for a customer or an internal task with a requester."))
    _check_files(attachments)
    if ticket_type is None and classified_by is None and classify:
        classified_by = ports.classify(title, description)
    if ticket_type is None and classified_by is not None:
        ticket_type = classified_by.ticket_type
    if deadline is not None and actor is not None and not access.can_set_deadline_on_create(actor):
        raise TicketError(_("You may not set a deadline."))
    check_date_in_range(deadline)
    if deadline is not None and deadline <= timezone.now():
        raise TicketError(_("The deadline must be in the future."))
    # Refused above with nothing written; written below in one transaction, the caller's when there is one (no
    # savepoint of its own: two of every new ticket's queries); an error rolls it back.
    with transaction.atomic(savepoint=False):
        if internal:
            customer = internal_customer()
            observers = {*observers, *([requester_user] if requester_user is not None else [])}
        now = timezone.now()
        ticket = Ticket(
            title=title[:200],
            description=description,
            kind=TicketKind.INTERNAL if internal else TicketKind.CUSTOMER,
            customer=customer,
            requester_user=requester_user,
            requester_queue=requester_queue,
            follow_up_of=follow_up_of,
            queue=queue,
            ticket_type=ticket_type,
            channel=channel,
            priority=priority,
            related_object=related_object,
            deadline=deadline,
            deadline_set_by_person=deadline is not None,
            owner=owner,
            approver=approver,
            created_by=actor,
            created_at=now,
            status_changed_at=now,
            vip_queue_priority=queue_priority_of(customer),
        )
        # The SLA's clocks, planned before the row is written: without a deadline from a person, the default one
        # and the earliest due go in with the row (two updates of it fewer on every new ticket).
        clocks = ports.plan_clocks(ticket, actor=actor)
        if clocks is not None:
            if deadline is None and clocks.deadline is not None:
                check_date_in_range(clocks.deadline)
                ticket.deadline = clocks.deadline
            ticket.sla_next_due = clocks.next_due
        fastinsert.insert([ticket])
        if clocks is not None:
            clocks.save()
        if observers:
            ticket.observers.set(observers)
        record(
            ticket,
            "ticket.created",
            actor,
            at=now,
            channel=channel,
            queue=queue.slug,
            priority=int(priority),
            deadline=ticket.deadline.isoformat() if ticket.deadline else None,
            **({"deadline_source": "sla"} if deadline is None and ticket.deadline else {}),
            **({"internal": True} if internal else {}),
            **_file_names(attachments),
        )
        first = None
        if internal and (description.strip() or attachments):  # the request is a note: there is no customer
            first = fastinsert.create(Message, ticket=ticket, kind=Message.Kind.INTERNAL_NOTE, author=actor,
                                      body=description, created_at=now)
            attach(first, attachments, by=actor)
        elif description.strip() or attachments:
            first = fastinsert.create(
                Message,
                ticket=ticket,
                kind=Message.Kind.INBOUND,
                channel=channel,
                customer=customer,
                author=actor if channel == Channel.PHONE else None,
                body=description,
                intake_channel=intake_channel,
                external_id=external_id,
                mail_message_id=mail_message_id[:255],
                created_at=now,
            )
            attach(first, attachments, by=actor)
        ticket.opening_message = first
        if classified_by is not None and ticket_type == classified_by.ticket_type:
            events.publish(events.TicketClassified(ticket=ticket, actor=actor, at=now, rule=classified_by))
        if approver is not None or observers:  # people named on creation hear of their role
            events.publish(events.PeopleChanged(ticket=ticket, actor=actor, at=now, changed=frozenset(
                {"approver"} if approver is not None else ()), added=frozenset(u.pk for u in observers)))
        # Assigned now (by the caller or by the queue's routing): see ``ticket_assign`` on ``_CREATING``.
        ticket.__dict__[_CREATING] = True
        try:
            if performer is not None:
                ticket_assign(ticket, performer=performer, actor=actor)
            else:
                late = frozenset({follow_up_of.performer_id} - {None}) if follow_up_of is not None else frozenset()
                events.publish(events.TicketQueued(ticket=ticket, actor=actor, at=now, trigger="created", exclude=late))
        finally:
            del ticket.__dict__[_CREATING]
        return ticket


# --- Assignment -------------------------------------------------------------------


def _check_assignable(performer) -> None:
    if performer is None or not performer.is_active:
        raise TicketError(_("The performer must be an active user."))
    if not access.roles_of(performer):
        raise TicketError(_("The performer must have a role in OpsDesk."))


# Marks a ticket while ``ticket_create`` assigns or queues it: its transaction inserted the row a moment ago and no
# other transaction can see it, so ``ticket_assign`` neither locks nor re-reads it, and it checks before writing, so
# a refusal (which routing catches) needs no savepoint to undo anything: three of every routed new ticket's queries.
_CREATING = "_opsdesk_creating"


def ticket_assign(ticket: Ticket, *, performer, actor) -> Ticket:
    """Give the ticket to ``performer``; a new ticket becomes assigned. The first performer owns the result."""
    if ticket.__dict__.get(_CREATING):
        _check_assign(ticket, performer)
        with transaction.atomic(savepoint=False):
            return _assign(ticket, performer, actor)
    with transaction.atomic():
        _lock(ticket)
        _check_assign(ticket, performer)
        return _assign(ticket, performer, actor)


def _check_assign(ticket: Ticket, performer) -> None:
    if ticket.status in CLOSED_STATUSES:
        raise TicketError(_("A closed ticket cannot be assigned."))
    _check_assignable(performer)


def _assign(ticket: Ticket, performer, actor) -> Ticket:
    if ticket.performer_id == performer.pk:
        return ticket
    previous = ticket.performer
    workload.moved(ticket.performer_id, performer.pk)  # an open ticket (``_check_assign``)
    ticket.performer = performer
    fields = ["performer", "updated_at"]
    if ticket.owner_id is None:
        ticket.owner = performer
        fields.append("owner")
    record(ticket, "ticket.assigned", actor, performer=_user_ref(performer), previous=_user_ref(previous))
    if ticket.status == Status.NEW:
        _set_status(ticket, Status.ASSIGNED, actor=actor)
        fields += ["status", "status_changed_at"]
    fastinsert.update(ticket, fields)  # ``save(update_fields=…)``, compiled once
    events.publish(events.PerformerChanged(ticket=ticket, actor=actor, at=timezone.now(), previous=previous))
    return ticket


@transaction.atomic
def ticket_unassign(ticket: Ticket, *, actor, reason: str = "") -> Ticket:
    """Hand the ticket back to its queue."""
    _lock(ticket)
    if ticket.performer_id is None:
        return ticket
    if ticket.status in CLOSED_STATUSES:
        raise TicketError(_("A closed ticket cannot be returned to the queue."))
    previous = ticket.performer
    workload.moved(previous.pk, None)
    ticket.performer = None
    record(ticket, "ticket.unassigned", actor, previous=_user_ref(previous), reason=reason)
    fields = ["performer", "updated_at"]
    if ticket.status != Status.NEW:
        _set_status(ticket, Status.NEW, actor=actor, cause="returned_to_queue")
        fields += ["status", "status_changed_at", "blocking_reason"]
    fastinsert.update(ticket, fields)
    events.publish(events.PerformerChanged(ticket=ticket, actor=actor, at=timezone.now(), previous=previous))
    events.publish(events.TicketQueued(ticket=ticket, actor=actor, at=timezone.now(), trigger="returned",
                                       exclude=frozenset({previous.pk})))  # someone else may take it
    return ticket


@transaction.atomic
def ticket_set_people(ticket: Ticket, *, actor, owner=UNSET, approver=UNSET, observers=UNSET) -> Ticket:
    """Change the owner of the result, the approver or the observers."""
    _lock(ticket)
    fields = []
    for name, value in (("owner", owner), ("approver", approver)):
        if value is UNSET or getattr(ticket, f"{name}_id") == (value.pk if value else None):
            continue
        if value is not None:
            _check_assignable(value)
        record(ticket, f"ticket.{name}_changed", actor, previous=_user_ref(getattr(ticket, name)), to=_user_ref(value))
        setattr(ticket, name, value)
        fields.append(name)
    if fields:
        fastinsert.update(ticket, [*fields, "updated_at"])
    added = []
    if observers is not UNSET:
        before = set(ticket.observers.values_list("pk", flat=True))
        after = {u.pk for u in observers}
        if before != after:
            ticket.observers.set(observers)
            added, removed = sorted(after - before), sorted(before - after)
            record(ticket, "ticket.observers_changed", actor, added=added, removed=removed)
    if fields or added:
        events.publish(events.PeopleChanged(ticket=ticket, actor=actor, at=timezone.now(), changed=frozenset(fields),
                                            added=frozenset(added)))
    return ticket


# --- Status -------------------------------------------------------------------------


def _set_status(
    ticket: Ticket, status: str, *, actor, reason: BlockingReason | None = None, comment: str = "", cause: str = ""
) -> None:
    """Apply a status change in memory and record it (and move the performer's open-ticket count when the ticket
    opens or closes); the caller saves."""
    old, counted = ticket.status, workload.holder(ticket)
    now = timezone.now()
    ticket.status = status
    workload.moved(counted, workload.holder(ticket))
    ticket.status_changed_at = now
    ticket.blocking_reason = reason if status == Status.WAITING else None
    if status == Status.DONE:
        ticket.done_at = now
    elif status == Status.CANCELED:
        ticket.canceled_at = now
    elif old == Status.DONE:
        ticket.done_at = None
    elif old == Status.CANCELED:
        ticket.canceled_at = None
    data = {"from": old, "to": status}
    if reason is not None:
        data["reason"] = reason.code
    if comment:
        data["comment"] = comment
    if cause:
        data["cause"] = cause
    record(ticket, "ticket.status_changed", actor, at=now, **data)
    events.publish(events.StatusChanged(ticket=ticket, actor=actor, at=now, old=old, new=status, cause=cause))


@transaction.atomic
def ticket_change_status(
    ticket: Ticket, *, status: str, actor, reason: BlockingReason | None = None, comment: str = "", cause: str = ""
) -> Ticket:
    """The only way a ticket's status changes: enforces the lifecycle and the blocking-reason rule.

    ``cause``: why, when the system did it (``bad_rating``: the customer's bad rating reopened it)."""
    _lock(ticket)
    if status not in Status.values:
        raise TicketError(_("Unknown status."))
    if ticket.merged_into_id is not None:
        raise TicketError(
            _("This ticket was merged into #%(pk)s: work on that ticket.") % {"pk": ticket.merged_into_id}
        )
    if status == ticket.status:
        if status == Status.WAITING and reason is not None and reason.pk != ticket.blocking_reason_id:
            return _change_reason(ticket, reason=reason, actor=actor, comment=comment)
        raise TicketError(_("The ticket already has this status."))
    if status not in TRANSITIONS[ticket.status]:
        raise TicketError(
            _("A ticket cannot go from “%(old)s” to “%(new)s”.")
            % {"old": Status(ticket.status).label, "new": Status(status).label}
        )
    if status in NEEDS_PERFORMER and ticket.performer_id is None:
        raise TicketError(_("Assign a performer first."))
    if status == Status.ON_APPROVAL and ticket.approver_id in (None, ticket.performer_id):
        raise TicketError(_("Choose an approver other than the performer: who decides?"))
    if ticket.status == Status.ON_APPROVAL and actor is not None and actor.pk == ticket.approver_id:
        raise TicketError(_("You are the approver: approve or reject, so your decision is recorded."))
    if status == Status.WAITING:
        if reason is None:
            raise TicketError(_("Choose a blocking reason: what is the ticket waiting for?"))
        if not reason.is_active:
            raise TicketError(_("This blocking reason is no longer in use."))
    elif reason is not None:
        raise TicketError(_("A blocking reason is only for “waiting for external action”."))
    let_go = None
    if status == Status.NEW and ticket.performer_id is not None:
        # Back to the queue: the performer lets go.
        let_go = ticket.performer
        record(ticket, "ticket.unassigned", actor, previous=_user_ref(ticket.performer), reason=comment)
        workload.moved(workload.holder(ticket), None)  # none from a canceled ticket: it did not count
        ticket.performer = None
    _set_status(ticket, status, actor=actor, reason=reason, comment=comment, cause=cause)
    ticket.save()
    if let_go is not None:
        events.publish(events.PerformerChanged(ticket=ticket, actor=actor, at=ticket.status_changed_at,
                                               previous=let_go))
    if status == Status.NEW:
        events.publish(events.TicketQueued(ticket=ticket, actor=actor, at=ticket.status_changed_at, trigger="returned",
                                           exclude=frozenset({let_go.pk} if let_go else ())))
    return ticket


def _change_reason(ticket: Ticket, *, reason: BlockingReason, actor, comment: str) -> Ticket:
    old = ticket.blocking_reason
    ticket.blocking_reason = reason
    fastinsert.update(ticket, ["blocking_reason", "updated_at"])
    record(ticket, "ticket.reason_changed", actor, previous=old.code if old else None, reason=reason.code,
           comment=comment)
    events.publish(events.BlockingReasonChanged(ticket=ticket, actor=actor, at=timezone.now(), previous=old))
    return ticket


# --- Conversation ---------------------------------------------------------------------


@transaction.atomic
def ticket_reply(
    ticket: Ticket,
    *,
    body: str,
    actor,
    channel: str = Channel.PORTAL,
    counts_as_response: bool = True,
    refuse_undeliverable: bool = False,
    attachments: Sequence[IncomingFile] = (),
) -> Message:
    """A public reply to the customer, stored "sending": ``channels`` delivers it (``PublicReplyAdded``).

    The first-response clock stops when it is delivered (``tickets.delivery.message_delivered``), not
    here; the status change of a performer's reply (assigned → in progress) happens here.
    ``counts_as_response=False`` (an automatic apology sent by an escalation) stops no clock and changes
    no status. ``refuse_undeliverable``: refuse when no channel can carry it (``ports.reply_route``).
    """
    body = (body or "").strip()
    if not body:
        raise TicketError(_("The reply is empty."))
    _check_files(attachments)
    _lock(ticket)
    if ticket.kind == TicketKind.INTERNAL:
        raise TicketError(_("An internal task has no customer to reply to: add an internal note instead."))
    if ticket.status == Status.CANCELED:
        raise TicketError(_("A canceled ticket cannot be answered."))
    if refuse_undeliverable and channel != Channel.PHONE and not ports.reply_route(ticket):
        raise TicketError(_("No channel can carry a reply to this customer (no email address, no reply URL). If you "
                            "answered by phone, record it as a logged call."))
    now = timezone.now()
    message = fastinsert.create(Message, ticket=ticket, kind=Message.Kind.PUBLIC_REPLY, channel=channel, author=actor,
                                body=body, created_at=now, delivery_status=DeliveryStatus.SENDING)
    attach(message, attachments, by=actor)
    first = counts_as_response and ticket.first_public_reply_at is None
    extra = {} if counts_as_response else {"automatic": True}
    record(ticket, "ticket.replied", actor, at=now, message=message.pk, first=first, **extra,
           **_file_names(attachments))
    events.publish(events.PublicReplyAdded(ticket=ticket, actor=actor, at=now, message=message, first=first,
                                           counts_as_response=counts_as_response))
    fields = ["updated_at"]
    performer_replied = actor is not None and actor.pk == ticket.performer_id
    if counts_as_response and ticket.status == Status.ASSIGNED and performer_replied:
        _set_status(ticket, Status.IN_PROGRESS, actor=actor, cause="reply")
        fields += ["status", "status_changed_at", "blocking_reason"]
    fastinsert.update(ticket, fields)
    return message


@transaction.atomic
def ticket_add_note(ticket: Ticket, *, body: str, actor, attachments: Sequence[IncomingFile] = ()) -> Message:
    """An internal note: colleagues see it, the customer does not, and it stops no clock."""
    body = (body or "").strip()
    if not body:
        raise TicketError(_("The note is empty."))
    _check_files(attachments)
    message = fastinsert.create(Message, ticket=ticket, kind=Message.Kind.INTERNAL_NOTE, author=actor, body=body)
    attach(message, attachments, by=actor)
    record(ticket, "ticket.noted", actor, message=message.pk, **_file_names(attachments))
    return message


def ticket_receive_customer_message(
    ticket: Ticket,
    *,
    body: str,
    channel: str,
    intake_channel: IntakeChannel | None = None,
    external_id: str = "",
    attachments: Sequence[IncomingFile] = (),
    mail_message_id: str = "",
    locked: bool = False,
) -> Message:
    """A customer wrote. A ticket waiting for the customer goes back to work; a done one reopens.

    ``mail_message_id``: the Message-ID of the email it came in (email threading). ``locked``: the caller read
    ``ticket`` under its row lock in this transaction (``select_for_update``), so it is not read again.
    """
    _check_files(attachments)
    # Refused above with nothing written; written below in one transaction, the caller's when there is one (no
    # savepoint of its own: two of every appended message's queries; the intake rolls all of it back on an error).
    with transaction.atomic(savepoint=False):
        if not locked:
            _lock(ticket)
        message = fastinsert.create(
            Message,
            ticket=ticket,
            kind=Message.Kind.INBOUND,
            channel=channel,
            customer=ticket.customer,
            body=body,
            intake_channel=intake_channel,
            external_id=external_id,
            mail_message_id=mail_message_id[:255],
        )
        attach(message, attachments)
        record(ticket, "ticket.customer_wrote", None, message=message.pk, channel=channel, **_file_names(attachments))
        reason = ticket.blocking_reason
        waits_for_customer = ticket.status == Status.WAITING and reason is not None and reason.waits_for_customer
        if waits_for_customer or ticket.status == Status.DONE:
            _set_status(ticket, Status.IN_PROGRESS, actor=None, cause="customer_message")
            ticket.save()
        events.publish(events.CustomerWrote(ticket=ticket, actor=None, at=message.created_at, message=message))
        return message
