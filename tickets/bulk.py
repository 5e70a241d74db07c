"""Bulk actions: one action over many tickets, each ticket through the same service as on its own page.

A dispatcher or manager (``access.can_bulk_act``) picks tickets and one action: assign, change the
status (with a blocking reason where the status needs one), change the priority or the queue, or
add observers. :func:`bulk_start` checks the action once (bad input: a ``TicketError``, nothing
saved) and writes a :class:`~tickets.models.BulkJob`; :func:`bulk_job_run` then takes the tickets
one by one, each in its own transaction: it is changed completely (with its own history row,
written by the service) or not at all. Tickets the user may not see or change are *skipped*, those
a service refuses (a closed ticket, a transition the lifecycle forbids) *fail*; both are listed
on the job with the reason. Up to ``SYNC_LIMIT`` tickets run at once in the request; larger
selections (and "every ticket of the filter") run as a django-q2 task while the job page shows
the progress.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import text_problem
from tickets import access, selectors, services
from tickets.errors import TicketError
from tickets.models import BlockingReason, BulkJob, Priority, Queue, Status, Ticket, display_name

logger = logging.getLogger(__name__)

SYNC_LIMIT = 50  # more tickets than this run as a django-q2 task
MAX_TICKETS = 5000  # one job never takes more
TASK = "tickets.bulk.bulk_job_task"

Action = BulkJob.Action
DONE, SKIPPED, FAILED = "done", "skipped", "failed"
# Sending to approval names one approver per ticket: that stays a decision on the ticket's page.
BULK_STATUSES = [value for value in Status.values if value != Status.ON_APPROVAL]


@dataclass
class Resolved:
    """The checked parameters of a bulk action, as objects."""

    action: str
    performer: object = None
    status: str = ""
    reason: BlockingReason | None = None
    comment: str = ""
    priority: int | None = None
    queue: Queue | None = None
    observers: list = field(default_factory=list)


def _int(value, message: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TicketError(message) from None


def bulk_resolve(action: str, params: dict) -> Resolved:
    """Check an action's parameters (ids in ``params``) and load them; a ``TicketError`` says what is wrong."""
    if action not in Action.values:
        raise TicketError(_("Choose what to do with the selected tickets."))
    resolved = Resolved(action=action)
    if action == Action.ASSIGN:
        pk = _int(params.get("performer"), _("Choose the person to assign the tickets to."))
        resolved.performer = selectors.people().filter(pk=pk).first()
        if resolved.performer is None:
            raise TicketError(_("The performer must be an active user with a role in OpsDesk."))
    elif action == Action.STATUS:
        status = params.get("status") or ""
        if status not in Status.values:
            raise TicketError(_("Choose the new status."))
        if status not in BULK_STATUSES:
            raise TicketError(_("Send tickets to approval one by one: each needs its approver."))
        reason_id = params.get("reason")
        if status == Status.WAITING:
            pk = _int(reason_id, _("Choose a blocking reason: what are the tickets waiting for?"))
            resolved.reason = selectors.active_reasons().filter(pk=pk).first()
            if resolved.reason is None:
                raise TicketError(_("This blocking reason is no longer in use."))
        elif reason_id not in (None, ""):
            raise TicketError(_("A blocking reason is only for “waiting for external action”."))
        resolved.status = status
        resolved.comment = str(params.get("comment") or "")[:500]
        problem = text_problem(resolved.comment)
        if problem:
            raise TicketError(_("Comment: %(problem)s") % {"problem": problem})
    elif action == Action.PRIORITY:
        priority = _int(params.get("priority"), _("Choose the new priority."))
        if priority not in Priority.values:
            raise TicketError(_("Choose the new priority."))
        resolved.priority = priority
    elif action == Action.QUEUE:
        pk = _int(params.get("queue"), _("Choose the queue to move the tickets to."))
        resolved.queue = selectors.active_queues().filter(pk=pk).first()
        if resolved.queue is None:
            raise TicketError(_("Choose an active queue."))
    elif action == Action.OBSERVERS:
        raw = params.get("observers") or []
        ids = {_int(value, _("Choose the observers to add.")) for value in (raw if isinstance(raw, list) else [raw])}
        resolved.observers = list(selectors.people().filter(pk__in=ids))
        if not ids or len(resolved.observers) != len(ids):
            raise TicketError(_("Choose the observers to add among active people with a role in OpsDesk."))
    return resolved


def clean_ids(values) -> list[int]:
    """Ticket ids from a form, in order, once each; a value that is not a whole number is a ``TicketError``."""
    ids: list[int] = []
    for value in values:
        pk = _int(value, _("The selection holds something that is not a ticket number."))
        if pk not in ids:
            ids.append(pk)
    return ids


@transaction.atomic
def bulk_start(actor, *, action: str, params: dict, ticket_ids, force_async: bool = False) -> BulkJob:
    """Check and record a bulk job, then run it: here for a few tickets, as a django-q2 task for many."""
    if not access.can_bulk_act(actor):
        raise TicketError(_("Only dispatchers and managers may change tickets in bulk."))
    ids = clean_ids(ticket_ids)
    if not ids:
        raise TicketError(_("Select at least one ticket."))
    if len(ids) > MAX_TICKETS:
        raise TicketError(_("At most %(count)d tickets at once: narrow the filter.") % {"count": MAX_TICKETS})
    bulk_resolve(action, params)
    job = BulkJob.objects.create(actor=actor, action=action, params=params, ticket_ids=ids, total=len(ids))
    if force_async or len(ids) > SYNC_LIMIT:
        transaction.on_commit(lambda: enqueue(job.pk))
    else:
        bulk_job_run(job.pk)
        job.refresh_from_db()
    return job


def enqueue(job_id: int) -> None:
    from django_q.tasks import async_task  # the broker loads only when something is enqueued

    async_task(TASK, job_id)


def bulk_job_task(job_id: int) -> None:
    """The django-q2 entry point."""
    bulk_job_run(job_id)


def bulk_job_run(job_id: int) -> None:
    """Run a queued job once (a second call, or a second worker, finds it claimed and does nothing)."""
    if not BulkJob.objects.filter(pk=job_id, state=BulkJob.State.QUEUED).update(state=BulkJob.State.RUNNING):
        return
    job = BulkJob.objects.select_related("actor").get(pk=job_id)
    try:
        resolved = bulk_resolve(job.action, job.params)
    except TicketError as exc:  # a person or a reason went away between the request and the worker
        resolved, refusal = None, str(exc)
    for ticket_id in job.ticket_ids:
        if resolved is None:
            outcome, message = FAILED, refusal
        else:
            outcome, message = apply_one(job.actor, ticket_id, resolved)
        if outcome != DONE:
            job.results.append({"ticket": ticket_id, "outcome": outcome, "message": message})
        setattr(job, outcome, getattr(job, outcome) + 1)
        BulkJob.objects.filter(pk=job.pk).update(**{outcome: F(outcome) + 1}, results=job.results)
    BulkJob.objects.filter(pk=job.pk).update(state=BulkJob.State.FINISHED, finished_at=timezone.now())


def apply_one(actor, ticket_id: int, resolved: Resolved) -> tuple[str, str]:
    """One ticket, all or nothing: ``(outcome, why)`` with outcome done, skipped or failed."""
    try:
        with transaction.atomic():
            ticket = Ticket.objects.visible_to(actor).select_related("queue", "performer").filter(pk=ticket_id).first()
            if ticket is None:
                return SKIPPED, _("Not found, or not visible to you.")
            if not access.can_assign(actor, ticket):
                return SKIPPED, _("You may not change this ticket.")
            _apply(ticket, resolved, actor)
    except TicketError as exc:
        return FAILED, str(exc)
    except Exception:
        logger.exception("bulk action %s failed on ticket %s", resolved.action, ticket_id)
        return FAILED, _("An unexpected error: the ticket was not changed.")
    return DONE, ""


def _apply(ticket: Ticket, r: Resolved, actor) -> None:
    if r.action == Action.ASSIGN:
        if not selectors.agents_of(ticket.queue_id).filter(pk=r.performer.pk).exists():
            raise TicketError(
                _("%(person)s is not an agent of the queue “%(queue)s”.")
                % {"person": display_name(r.performer), "queue": ticket.queue.label}
            )
        services.ticket_assign(ticket, performer=r.performer, actor=actor)
    elif r.action == Action.STATUS:
        services.ticket_change_status(ticket, status=r.status, reason=r.reason, comment=r.comment, actor=actor)
    elif r.action == Action.PRIORITY:
        services.ticket_update(ticket, priority=r.priority, actor=actor)
    elif r.action == Action.QUEUE:
        services.ticket_update(ticket, queue=r.queue, actor=actor)
    elif r.action == Action.OBSERVERS:
        current = list(ticket.observers.all())
        services.ticket_set_people(ticket, observers=[*current, *r.observers], actor=actor)
