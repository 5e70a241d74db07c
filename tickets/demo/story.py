"""One demo ticket's life: its columns, messages and history events, written as ``tickets.services`` writes them.

Nothing here touches the database; ``generation`` inserts the rows in bulk.
"""

from __future__ import annotations

from datetime import datetime

from tickets import history
from tickets.models import Channel, Message, Status


class TicketRow:
    """The columns of one ticket being generated (a model instance costs too much at 100,000 tickets)."""

    __slots__ = (
        "approver", "blocking_reason", "canceled_at", "channel", "created_at", "created_by", "customer", "deadline",
        "description", "done_at", "first_public_reply_at", "next_step", "next_step_due", "owner", "performer", "pk",
        "priority", "queue", "related_object", "status", "status_changed_at", "ticket_type", "title", "updated_at",
    )

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values.get(name))

    def values(self) -> dict:
        def pk(obj):
            return None if obj is None else obj.pk

        return {
            "id": self.pk,
            "title": self.title,
            "description": self.description,
            "customer_id": self.customer.pk,
            "related_object_id": pk(self.related_object),
            "queue_id": self.queue.pk,
            "ticket_type_id": pk(self.ticket_type),
            "channel": self.channel,
            "priority": int(self.priority),
            "status": str(self.status),
            "blocking_reason_id": pk(self.blocking_reason),
            "owner_id": pk(self.owner),
            "performer_id": pk(self.performer),
            "approver_id": pk(self.approver),
            "deadline": self.deadline,
            "next_step": self.next_step or "",
            "next_step_due": self.next_step_due,
            "created_by_id": pk(self.created_by),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "status_changed_at": self.status_changed_at,
            "first_public_reply_at": self.first_public_reply_at,
            "done_at": self.done_at,
            "canceled_at": self.canceled_at,
        }


class Story:
    """One ticket's life, written the way ``tickets.services`` would write it, without touching the database.

    Messages and events are column dicts; ``ticket_id``, message ids and the
    ``message`` key of event data are filled in when ids are reserved.
    """

    def __init__(self, ticket: TicketRow, refs: dict):
        self.ticket = ticket
        self.refs = refs
        self.messages: list[dict] = []
        self.events: list[dict] = []
        self.links: list[tuple[dict, dict]] = []  # (event data, message) for "message": <id>
        self.observers: list = []
        self.last = ticket.created_at

    def _event(self, kind: str, actor, at: datetime, **data) -> dict:
        history.shape_of(kind).check(data, partial=True)  # the declared shape; ``message`` ids come later
        self.events.append({"actor_id": None if actor is None else actor.pk, "kind": kind, "data": data,
                            "created_at": at})
        self.last = at
        return data

    def _message(self, kind: str, at: datetime, body: str, *, author=None, customer=None, channel=Channel.PORTAL,
                 intake=None) -> dict:
        message = {
            "kind": str(kind), "channel": str(channel), "author_id": None if author is None else author.pk,
            "customer_id": None if customer is None else customer.pk, "body": body,
            "intake_channel_id": None if intake is None else intake.pk, "external_id": "", "created_at": at,
        }
        self.messages.append(message)
        return message

    def _ref(self, user):
        return None if user is None else self.refs[user.pk]

    # Each method mirrors the service of the same name.
    def create(self, *, demo_seed: int, demo_index: int, intake) -> None:
        t = self.ticket
        self._event(
            "ticket.created", t.created_by, t.created_at, channel=str(t.channel), queue=t.queue.slug,
            priority=int(t.priority), deadline=t.deadline.isoformat() if t.deadline else None,
            demo_seed=demo_seed, demo_index=demo_index,
        )
        self._message(
            Message.Kind.INBOUND, t.created_at, t.description, customer=t.customer, channel=t.channel,
            author=t.created_by if t.channel == Channel.PHONE else None, intake=intake,
        )

    def _status(self, at, status, actor, *, reason=None, comment="", cause="") -> None:
        t = self.ticket
        old = t.status
        t.status = status
        t.status_changed_at = at
        t.blocking_reason = reason if status == Status.WAITING else None
        if status == Status.DONE:
            t.done_at = at
        elif status == Status.CANCELED:
            t.canceled_at = at
        data = {"from": str(old), "to": str(status)}
        if reason is not None:
            data["reason"] = reason.code
        if comment:
            data["comment"] = comment
        if cause:
            data["cause"] = cause
        self._event("ticket.status_changed", actor, at, **data)

    def assign(self, at, *, performer, actor) -> None:
        t = self.ticket
        previous = t.performer
        t.performer = performer
        if t.owner is None:
            t.owner = performer
        self._event("ticket.assigned", actor, at, performer=self._ref(performer), previous=self._ref(previous))
        if t.status == Status.NEW:
            self._status(at, Status.ASSIGNED, actor)

    def reply(self, at, *, body, actor) -> None:
        t = self.ticket
        channel = t.channel if t.channel in (Channel.EMAIL, Channel.MESSENGER) else Channel.PORTAL
        message = self._message(Message.Kind.PUBLIC_REPLY, at, body, author=actor, channel=channel)
        first = t.first_public_reply_at is None
        if first:
            t.first_public_reply_at = at
        self.links.append((self._event("ticket.replied", actor, at, message=None, first=first), message))
        if t.status == Status.ASSIGNED and t.performer is not None and actor.pk == t.performer.pk:
            self._status(at, Status.IN_PROGRESS, actor, cause="reply")

    def add_note(self, at, *, body, actor) -> None:
        message = self._message(Message.Kind.INTERNAL_NOTE, at, body, author=actor)
        self.links.append((self._event("ticket.noted", actor, at, message=None), message))

    def receive_customer_message(self, at, *, body, intake) -> None:
        t = self.ticket
        message = self._message(Message.Kind.INBOUND, at, body, customer=t.customer, channel=t.channel, intake=intake)
        data = self._event("ticket.customer_wrote", None, at, message=None, channel=str(t.channel))
        self.links.append((data, message))
        if t.status == Status.WAITING and t.blocking_reason is not None and t.blocking_reason.waits_for_customer:
            self._status(at, Status.IN_PROGRESS, None, cause="customer_message")

    def change_status(self, at, *, status, actor, reason=None, comment="") -> None:
        self._status(at, status, actor, reason=reason, comment=comment)

    def set_approver(self, at, *, approver, actor) -> None:
        t = self.ticket
        self._event("ticket.approver_changed", actor, at, previous=self._ref(t.approver), to=self._ref(approver))
        t.approver = approver

    def set_next_step(self, at, *, text, due, actor) -> None:
        self.ticket.next_step = text
        self.ticket.next_step_due = due
        self._event("ticket.next_step_set", actor, at, text=text, due=due.isoformat())
