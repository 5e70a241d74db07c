"""Work notices for agents: who hears what about the tickets they work, perform, own, approve or observe.

The ticket events reach these functions through ``notifications.handlers`` (wired in
``opsdesk/wiring.py``); routing tells the agents of a pull queue through :func:`queue_ticket`. Every
notice goes through the one service (``notify_many``), so preferences, quiet hours and digests apply.

The rules, in one place:

* each kind (:class:`WorkKind`) can be turned off per person on the settings page
  (``NotificationSettings.muted_kinds``); the service drops muted kinds;
* nobody is told of their own action (the actor is never a recipient), and nobody twice for one change;
  a service that tells people itself (a manual escalation) wraps its ticket writes in
  :func:`told_by_caller` so they do not also get the work notice;
* urgency follows seed 001's grading: what only informs is *routine* (in the app), what asks the
  person to act is *important* (by email too), and an important notice about a ticket of critical
  priority is *critical* (every channel);
* a notice is one line (what happened) plus the ticket's title; it links to the ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from notifications.models import Urgency
from notifications.service import Notice, notify_many
from tickets.models import Priority, QueueMembership, Rating, Status, display_name


class WorkKind(models.TextChoices):
    """The work notices a person may turn off (``Notification.kind``); labels as the settings page shows them."""

    ASSIGNED = "work.assigned", _("A ticket is assigned to me")
    REASSIGNED = "work.reassigned", _("A ticket of mine goes to someone else or back to its queue")
    CUSTOMER_WROTE = "work.customer_wrote", _("The customer answers on a ticket I perform or own")
    QUEUE = "work.queue", _("A new ticket waits in a pull queue I work")
    ROLE = "work.role", _("I am made owner, approver or observer of a ticket")
    OBSERVED = "work.observed", _("A ticket I observe changes status or is resolved")
    APPROVAL = "work.approval", _("A ticket waits for my approval, or the approver decides on my ticket")
    SATISFACTION = "work.satisfaction", _("A customer rates a ticket I performed (or one of my queue's) bad")


# Statuses observers are not told about: "assigned" only follows an assignment.
_QUIET_STATUSES = frozenset({Status.ASSIGNED})


_told: ContextVar[frozenset[int]] = ContextVar("work_notices_told_by_caller", default=frozenset())


@contextmanager
def told_by_caller(*users) -> Iterator[None]:
    """Within the block, work notices leave ``users`` out: the caller sends them its own notice of the action."""
    token = _told.set(_told.get() | {u.pk for u in users if u is not None})
    try:
        yield
    finally:
        _told.reset(token)


def grade(ticket, urgency: str) -> str:
    """Seed 001's grading: an important notice about a ticket of critical priority is critical."""
    if urgency == Urgency.IMPORTANT and ticket.priority >= Priority.CRITICAL:
        return Urgency.CRITICAL.value
    return str(urgency)


def send(kind: WorkKind, urgency: str, recipients: Iterable, ticket, *, actor, title, body="") -> int:
    """Notify each recipient once (the actor, empty and inactive ones left out); returns how many were created (none
    yet inside ``service.deferred``: they are created when its block ends)."""
    seen: set[int] = set(_told.get())
    notices = []
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen or (actor is not None and user.pk == actor.pk):
            continue
        seen.add(user.pk)
        notices.append(
            Notice(user, kind=kind.value, urgency=urgency, title=title, body=body, ticket=ticket, actor=actor)
        )
    return sum(1 for created in notify_many(notices, results=False) if created)


def _about(ticket, actor):
    """The second line of a notice: the ticket's title, and who did it when a person did."""
    if actor is None:
        return format_lazy("“{title}”", title=ticket.title)
    return format_lazy(_("“{title}”, by {who}"), title=ticket.title, who=display_name(actor))


# --- What the ticket events mean for people ------------------------------------------------------


def performer_changed(ticket, *, previous, actor) -> None:
    """The new performer is asked to act; the former one is told the ticket left them."""
    performer = ticket.performer
    if performer is not None:
        send(
            WorkKind.ASSIGNED,
            grade(ticket, Urgency.IMPORTANT),
            [performer],
            ticket,
            actor=actor,
            title=format_lazy(_("{ticket} is assigned to you"), ticket=ticket.reference),
            body=_about(ticket, actor),
        )
    if previous is not None and (performer is None or previous.pk != performer.pk):
        if performer is None:
            title = format_lazy(_("{ticket} went back to its queue"), ticket=ticket.reference)
        else:
            title = format_lazy(_("{ticket} is now with {who}"), ticket=ticket.reference, who=display_name(performer))
        send(
            WorkKind.REASSIGNED,
            Urgency.ROUTINE,
            [previous],
            ticket,
            actor=actor,
            title=title,
            body=_about(ticket, actor),
        )


_ROLE_TITLES = {
    "owner": _("You are the owner of the result of {ticket}"),
    "approver": _("You are the approver of {ticket}"),
    "observer": _("You observe {ticket}"),
}


def people_changed(ticket, *, changed: Iterable[str], added: Iterable[int], actor) -> None:
    """New owner, approver and observers hear of their role (one notice each)."""
    for role in ("owner", "approver"):
        if role in changed:
            send(
                WorkKind.ROLE,
                Urgency.ROUTINE,
                [getattr(ticket, role)],
                ticket,
                actor=actor,
                title=format_lazy(_ROLE_TITLES[role], ticket=ticket.reference),
                body=_about(ticket, actor),
            )
    added = list(added)
    if added:
        observers = get_user_model().objects.filter(pk__in=added).select_related("profile")
        send(
            WorkKind.ROLE,
            Urgency.ROUTINE,
            observers,
            ticket,
            actor=actor,
            title=format_lazy(_ROLE_TITLES["observer"], ticket=ticket.reference),
            body=_about(ticket, actor),
        )


def customer_wrote(ticket, *, message) -> None:
    """The performer is asked to answer; an owner who is not the performer is told."""
    title = format_lazy(_("The customer answered on {ticket}"), ticket=ticket.reference)
    snippet = " ".join((message.body or "").split())
    snippet = snippet[:140] + ("…" if len(snippet) > 140 else "")
    body = format_lazy("“{title}”: {text}", title=ticket.title, text=snippet)
    performer = ticket.performer
    send(
        WorkKind.CUSTOMER_WROTE,
        grade(ticket, Urgency.IMPORTANT),
        [performer],
        ticket,
        actor=None,
        title=title,
        body=body,
    )
    if ticket.owner_id is not None and ticket.owner_id != ticket.performer_id:
        send(
            WorkKind.CUSTOMER_WROTE,
            Urgency.ROUTINE if performer else grade(ticket, Urgency.IMPORTANT),
            [ticket.owner],
            ticket,
            actor=None,
            title=title,
            body=body,
        )


def status_changed(ticket, *, old: str, new: str, actor) -> None:
    """The approver hears a ticket waits for them; observers hear of each status change that means something,
    and of the resolution."""
    if new == Status.ON_APPROVAL:
        send(
            WorkKind.APPROVAL,
            grade(ticket, Urgency.IMPORTANT),
            [ticket.approver],
            ticket,
            actor=actor,
            title=format_lazy(_("{ticket} waits for your approval"), ticket=ticket.reference),
            body=_about(ticket, actor),
        )
    if new in _QUIET_STATUSES:
        return
    observers = list(ticket.observers.select_related("profile"))
    if not observers:
        return
    if new == Status.DONE:
        title = format_lazy(_("{ticket} is resolved"), ticket=ticket.reference)
    else:
        title = format_lazy(_("{ticket} is now “{status}”"), ticket=ticket.reference, status=Status(new).label)
    send(WorkKind.OBSERVED, Urgency.ROUTINE, observers, ticket, actor=actor, title=title, body=_about(ticket, actor))


def queue_ticket(ticket, *, agents: Iterable, actor, returned: bool) -> int:
    """A ticket waits in a pull queue: its agents may take it (routine, so digests group them)."""
    if returned:
        title = format_lazy(_("{ticket} is back in {queue}"), ticket=ticket.reference, queue=ticket.queue)
    else:
        title = format_lazy(_("New ticket {ticket} in {queue}"), ticket=ticket.reference, queue=ticket.queue)
    return send(WorkKind.QUEUE, Urgency.ROUTINE, agents, ticket, actor=actor, title=title, body=_about(ticket, None))


def approval_decided(ticket, *, approved: bool, closed: bool, comment: str, actor) -> None:
    """The performer hears the approver's decision, with the approver's comment."""
    if not approved:
        title = format_lazy(_("{ticket}: approval rejected"), ticket=ticket.reference)
    elif closed:
        title = format_lazy(_("{ticket} is approved and closed"), ticket=ticket.reference)
    else:
        title = format_lazy(_("{ticket} is approved: back to work"), ticket=ticket.reference)
    body = (
        format_lazy("{who}: {comment}", who=display_name(actor), comment=comment) if comment else _about(ticket, actor)
    )
    send(
        WorkKind.APPROVAL,
        grade(ticket, Urgency.IMPORTANT),
        [ticket.performer],
        ticket,
        actor=actor,
        title=title,
        body=body,
    )


def satisfaction_rated(ticket, *, rating, reopened: bool) -> None:
    """A bad answer asks the performer to look (else the queue's dispatchers), with the customer's comment."""
    if rating.rating != Rating.BAD:
        return
    if ticket.performer_id is not None:
        recipients = [ticket.performer]
    else:
        recipients = list(
            get_user_model()
            .objects.filter(queue_memberships__queue_id=ticket.queue_id,
                            queue_memberships__role=QueueMembership.Role.DISPATCHER)
            .select_related("profile")
            .distinct()
        )
    if reopened:
        title = format_lazy(_("{ticket} is rated bad by the customer and reopened"), ticket=ticket.reference)
    else:
        title = format_lazy(_("{ticket} is rated bad by the customer"), ticket=ticket.reference)
    comment = " ".join((rating.comment or "").split())
    comment = comment[:140] + ("…" if len(comment) > 140 else "")
    body = format_lazy("“{title}”: {text}", title=ticket.title, text=comment) if comment else _about(ticket, None)
    send(WorkKind.SATISFACTION, grade(ticket, Urgency.IMPORTANT), recipients, ticket, actor=None, title=title,
         body=body)
