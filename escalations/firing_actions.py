"""The sweep's action step: claim a firing whose ticket-changing actions are pending, run them through the
ticket services, one firing per transaction.

The set-based firing (``escalations.sweep``) writes every firing, its notices and the urgent mark. A
level that also changes the ticket (raise the priority, reassign, auto-reply to the customer, open a
root-cause review) leaves those actions pending on its firing: ``Firing.actions_due_at`` is the
sweep's instant (a partial index covers only pending firings). Right after its batches, the same
``sweep()`` call works through them here, the way healthchecks processes its ``Flip`` rows:

1. **Claim** (:func:`claim_next_firing`): one statement,
   ``UPDATE … SET actions_due_at = <lease> WHERE id = (SELECT id … WHERE actions_due_at <= now ORDER BY
   actions_due_at, id LIMIT 1 [FOR UPDATE SKIP LOCKED]) AND actions_due_at <= now RETURNING id``. It
   touches one row or none; concurrent sweeps (any cluster) take different firings. Outside a
   transaction it only leases the firing (``CLAIM_LEASE``): a sweep that dies before step 2 commits
   leaves it to be claimed again once the lease runs out.
2. **Act** (:func:`run_claimed_firing`), in one transaction: the firing is locked and must still carry
   this sweep's lease (else the lease ran out and another sweep has it); the ticket is read fresh; the
   level's actions run through ``tickets.services`` (``ticket_update``, ``ticket_assign`` /
   ``ticket_unassign``, ``ticket_reply``, ``ticket_create`` and ``ticket_add_note``) with the system as
   actor, each in a savepoint. What was done goes to ``data["actions"]`` and what the domain refused
   (a ``TicketError``) to ``data["errors"]``, on the firing and on the ``ticket.escalated`` history row,
   which is written here for such a level (history is append-only: it is written once, complete);
   ``actions_due_at`` becomes NULL.
3. **Retry.** Anything else that raises rolls the actions back to their savepoint; the error is
   logged and the firing's actions are due again ``RETRY_DELAY`` later. They never block other firings.

The clocks the actions move (a priority raise re-matches the SLA, a reply may stop a clock) are the
SLA's business: it reacts to the events the ticket services publish, and recomputes their
``next_escalation_at`` through the escalation planner, which sees the firings already committed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from escalations.audience import SweepContext
from escalations.models import ContactRole, EscalationLevel, Firing, Reassign
from tickets import access, history
from tickets import services as ticket_services
from tickets.models import Priority, Ticket
from tickets.services import TicketError

logger = logging.getLogger(__name__)

RETRY_DELAY = timedelta(minutes=5)  # a clock or a firing's actions that failed are due again this much later
CLAIM_LEASE = timedelta(minutes=10)  # how long a claim holds if its sweep dies (SQLite clocks, firings' actions)


def changes_ticket(level: EscalationLevel) -> bool:
    """Whether firing ``level`` writes to the ticket through the ticket services (its actions wait on the firing)."""
    return bool(level.raise_priority_to or level.reassign or level.auto_reply or level.create_follow_up)


def run_pending_actions(now: datetime, *, ctx: SweepContext | None = None, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Run every firing's pending actions due at ``now``, one firing at a time; ``{"acted", "failed"}``.

    Call outside a transaction (each firing commits on its own). A firing whose actions fail is due
    again ``RETRY_DELAY`` after ``now``, so this loop takes each pending firing at most once.
    """
    ctx = ctx or SweepContext(now=now)
    stats = {"acted": 0, "failed": 0}
    while (claim := claim_next_firing(now, using=using)) is not None:
        outcome = run_claimed_firing(*claim, ctx=ctx, using=using)
        if outcome is True:
            stats["acted"] += 1
        elif outcome is False:
            stats["failed"] += 1
    return stats


def claim_next_firing(now: datetime, *, using: str = DEFAULT_DB_ALIAS) -> tuple[int, datetime] | None:
    """Lease the next firing with actions due at ``now``: its id and the lease, or None if none is left.

    One conditional ``UPDATE … RETURNING`` that touches one row or none (PostgreSQL skips the rows
    other sweeps hold; SQLite has one writer at a time), through the partial index on pending firings.
    """
    connection = connections[using]
    meta = Firing._meta
    field = meta.get_field("actions_due_at")
    quote = connection.ops.quote_name
    table, pk, due = quote(meta.db_table), quote(meta.pk.column), quote(field.column)
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    lease = now + CLAIM_LEASE
    at, until = (field.get_db_prep_save(value, connection=connection) for value in (now, lease))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {due} = %s WHERE {pk} = (SELECT {pk} FROM {table} WHERE {due} <= %s "
            f"ORDER BY {due}, {pk} LIMIT 1{skip_locked}) AND {due} <= %s RETURNING {pk}",
            [until, at, at],
        )
        row = cursor.fetchone()
    return (row[0], lease) if row else None


def run_claimed_firing(firing_id: int, lease: datetime, *, ctx: SweepContext,
                       using: str = DEFAULT_DB_ALIAS) -> bool | None:
    """Run the actions of a firing this sweep leased, in one transaction.

    True: done (recorded on the firing and the ticket's history); False: failed, due again
    ``RETRY_DELAY`` later; None: not ours any more (the lease ran out and another sweep took it).
    """
    now = ctx.now
    with transaction.atomic(using=using):
        firing = (
            Firing.objects.using(using).select_for_update(of=("self",)).select_related("level")
            .filter(pk=firing_id).first()
        )
        if firing is None or firing.actions_due_at != lease:
            return None
        try:
            with transaction.atomic(using=using):
                ticket = Ticket.objects.using(using).select_related("customer", "queue", "performer").get(
                    pk=firing.ticket_id
                )
                data = _act(firing, ticket, ctx)
                Firing.objects.using(using).filter(pk=firing.pk).update(data=data, actions_due_at=None)
        except Exception:
            retry = now + RETRY_DELAY
            Firing.objects.using(using).filter(pk=firing.pk).update(actions_due_at=retry)
            logger.exception(
                "escalation actions of firing %s (ticket %s) failed; retrying at %s",
                firing.pk, firing.ticket_id, retry.isoformat(),
            )
            return False
    return True


def _act(firing: Firing, ticket: Ticket, ctx: SweepContext) -> dict:
    """The level's actions on ``ticket``, then the ``ticket.escalated`` history row; returns the firing's data."""
    data = dict(firing.data)
    done, errors = run_actions(firing.level, ticket, ctx)
    done = [*data.get("actions", ()), *done]  # the urgent mark, set with the firing
    if done or errors:
        data["actions"] = done
        if errors:
            data["errors"] = errors
    history.record(ticket, "ticket.escalated", None, at=firing.fired_at, **data)
    return data


def run_actions(level: EscalationLevel, ticket: Ticket, ctx: SweepContext) -> tuple[list[str], list[str]]:
    """The level's ticket-changing actions, in order; a domain refusal is recorded, not retried."""
    done: list[str] = []
    errors: list[str] = []

    def attempt(name: str, action) -> None:
        try:
            with transaction.atomic():
                if action() is not False:
                    done.append(name)
        except TicketError as exc:
            logger.warning("escalation action %s on ticket %s refused: %s", name, ticket.pk, exc)
            errors.append(f"{name}: {exc}")

    if level.raise_priority_to and ticket.priority < level.raise_priority_to:
        attempt("raise_priority", lambda: ticket_services.ticket_update(
            ticket, actor=None, priority=Priority(level.raise_priority_to)
        ))
    if level.reassign:
        attempt("reassign", lambda: _reassign(level, ticket, ctx))
    if level.auto_reply:
        attempt("auto_reply", lambda: _auto_reply(level, ticket))
    if level.create_follow_up:
        attempt("follow_up", lambda: _follow_up(ticket, ctx))
    return done, errors


def _reassign(level: EscalationLevel, ticket: Ticket, ctx: SweepContext):
    if level.reassign == Reassign.QUEUE:
        if ticket.performer_id is None:
            return False
        ticket_services.ticket_unassign(ticket, actor=None, reason=str(_("Escalation: back to the queue")))
        return True
    if level.reassign == Reassign.USER:
        target_id = level.reassign_user_id
    else:
        target_id = ctx.contact(ticket.queue, ContactRole.SHIFT_LEAD)
    users = ctx.load_users([target_id]) if target_id else []
    if not users:
        raise TicketError(str(_("Nobody to reassign the ticket to.")))
    if ticket.performer_id == users[0].pk:
        return False
    ticket_services.ticket_assign(ticket, performer=users[0], actor=None)
    return True


def _auto_reply(level: EscalationLevel, ticket: Ticket):
    if ticket.is_internal:
        return False  # no customer to apologise to
    texts = {"ru": level.auto_reply_ru.strip(), "en": level.auto_reply_en.strip()}
    body = texts.get(ticket.customer.language) or texts["en"] or texts["ru"]
    ticket_services.ticket_reply(
        ticket, body=body.replace("{ticket}", ticket.reference), actor=None, counts_as_response=False
    )


def _follow_up(ticket: Ticket, ctx: SweepContext):
    """The root-cause review: an internal task of the late ticket's department, for the queue's manager.

    Never a customer ticket (no customer history, no public reply, no VIP SLA), never given to the
    performer who was late, and a follow-up never spawns another one.
    """
    if ticket.follow_up_of_id is not None:
        return False
    with override(settings.LANGUAGE_CODE):
        title = str(_("Root-cause review: %(reference)s %(title)s") % {
            "reference": ticket.reference, "title": ticket.title,
        })
        description = str(_("Escalated to the last level. Find out why %(reference)s was late and what to change.")
                          % {"reference": ticket.reference})
    reviewer = _reviewer(ticket, ctx)
    follow_up = ticket_services.ticket_create(
        actor=None, title=title[:200], requester_queue=ticket.queue, queue=ticket.queue,
        related_object=ticket.related_object, description=description, follow_up_of=ticket,
        owner=reviewer, performer=reviewer,
    )
    history.record(ticket, "ticket.follow_up_created", None, follow_up=follow_up.pk)


def _reviewer(ticket: Ticket, ctx: SweepContext):
    """Who reviews the root cause: the queue's manager, else its head of department; never the late performer."""
    for user_id in (ticket.queue.manager_id, ctx.contact(ticket.queue, ContactRole.HEAD)):
        users = ctx.load_users([user_id]) if user_id and user_id != ticket.performer_id else []
        if users and users[0].is_active and access.roles_of(users[0]):
            return users[0]
    return None
