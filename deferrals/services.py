"""Deadline deferral: a performer asks, the manager rules objective or subjective and sets the new deadline.

Services (writes) and selectors (reads) of the workflow in docs/deferrals.md:

- ``deferral_request``: the performer (or owner) asks to move the deadline;
- ``deferral_provide_cause``: the performer explains an automatically opened request;
- ``deferral_decide`` / ``deferral_decline``: the addressed manager (or the
  performer's manager, their substitute while they are away, or an admin)
  rules; the performer never decides their own request;
- ``deferrals_open_automatic``: the per-minute sweep that opens a request when
  a deadline passes on a ticket whose type asks for it;
- ``deferrals_withdraw_for_closed``: a ticket became done or canceled, so its
  pending request is withdrawn (``deferrals.handlers.withdraw_on_close``).

Deciding is the only non-admin path that moves ``Ticket.deadline`` (admins
override in Django admin, logged as an override). Customer-facing SLA clocks
never move; the ticket's *deadline* clock (``sla.lifecycle.on_deadline_changed``)
follows the new deadline, so escalation levels bound to it fire again. Opening
a request (by hand or automatically) never changes the deadline. Decisions are
final: a decided request is never updated again.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.locks import lock as _lock
from core.people import iso as _iso
from core.people import user_ref as _ref
from deferrals.access import can_request
from deferrals.models import DeferralCause, DeferralRequest
from deferrals.selectors import approvable, resolve_approver
from notifications.service import notify
from tickets import services as ticket_services
from tickets.history import record
from tickets.models import (
    OPEN_STATUSES,
    Ticket,
    display_name,
)
from tickets.services import TicketError, check_date_in_range

logger = logging.getLogger(__name__)
User = get_user_model()
Verdict = DeferralRequest.Status
VERDICTS = (Verdict.OBJECTIVE, Verdict.SUBJECTIVE)
AUTOMATIC_BATCH = 500


# --- Absences and routing -----------------------------------------------------------------


# --- Who may do what -------------------------------------------------------------------------


# --- Services ---------------------------------------------------------------------------------


def _decide_url(deferral: DeferralRequest) -> str:
    return reverse("deferrals:decide", args=[deferral.pk])


def _check_type_allows(ticket: Ticket) -> None:
    if ticket.ticket_type_id and not ticket.ticket_type.deferral_enabled:
        raise TicketError(_("Deadline deferral is switched off for tickets of this type."))


def _check_reasoning(ticket: Ticket, *, cause, explanation: str, proposed_deadline, now: datetime) -> str:
    if cause is None:
        raise TicketError(_("Choose the cause of the delay."))
    if not cause.is_active:
        raise TicketError(_("This cause is no longer in use."))
    explanation = (explanation or "").strip()
    if not explanation:
        raise TicketError(_("Explain why the deadline cannot be met."))
    if proposed_deadline is None:
        raise TicketError(_("Propose a new deadline."))
    check_date_in_range(proposed_deadline)
    if proposed_deadline <= now:
        raise TicketError(_("The proposed deadline must be in the future."))
    if ticket.deadline is not None and proposed_deadline <= ticket.deadline:
        raise TicketError(_("The proposed deadline must be later than the current deadline."))
    return explanation


def _no_approver_error() -> TicketError:
    return TicketError(
        _("Nobody can approve this request: you have no manager and the queue has none. Ask an administrator.")
    )


def _notify_requested(deferral: DeferralRequest, actor) -> None:
    ticket = deferral.ticket
    who = display_name(deferral.requested_by)
    if deferral.automatic:
        title = format_lazy(gettext_lazy("Deadline missed on {ticket}: decide on a deferral"), ticket=ticket.reference)
        body = format_lazy(
            gettext_lazy("The deadline of “{title}” passed. {who} is asked for the cause; you may decide now."),
            title=ticket.title,
            who=who,
        )
    else:
        title = format_lazy(gettext_lazy("{who} asks to move the deadline of {ticket}"), who=who,
                            ticket=ticket.reference)
        body = format_lazy(gettext_lazy("“{title}”: {explanation}"), title=ticket.title,
                           explanation=deferral.explanation)
    notify(
        deferral.addressed_to,
        kind="deferral.requested",
        urgency="important",
        title=title,
        body=body,
        url=_decide_url(deferral),
        ticket=ticket,
        dedupe_key=f"deferral:{deferral.pk}:requested",
        actor=actor,
    )


@transaction.atomic
def deferral_request(
    ticket: Ticket, *, actor, cause: DeferralCause | None, explanation: str, proposed_deadline: datetime | None
) -> DeferralRequest:
    """The performer (or owner) asks their manager to move the deadline; one pending request per ticket."""
    if actor is None:
        raise TicketError(_("A deferral is requested by a person."))
    _lock(ticket)
    now = timezone.now()
    if ticket.status not in OPEN_STATUSES:
        raise TicketError(_("A closed ticket has no deadline to move."))
    _check_type_allows(ticket)
    if not can_request(actor, ticket):
        raise TicketError(_("Only the performer or the owner of the result can ask to move the deadline."))
    if ticket.deadline is None:
        raise TicketError(_("This ticket has no deadline to move."))
    if DeferralRequest.objects.pending().filter(ticket=ticket).exists():
        raise TicketError(_("A deferral request is already pending for this ticket."))
    explanation = _check_reasoning(
        ticket, cause=cause, explanation=explanation, proposed_deadline=proposed_deadline, now=now
    )
    approver = resolve_approver(actor, ticket, now=now)
    if approver is None:
        raise _no_approver_error()
    try:
        with transaction.atomic():
            deferral = DeferralRequest.objects.create(
                ticket=ticket,
                requested_by=actor,
                addressed_to=approver,
                cause=cause,
                explanation=explanation,
                old_deadline=ticket.deadline,
                proposed_deadline=proposed_deadline,
                created_at=now,
            )
    except IntegrityError:
        raise TicketError(_("A deferral request is already pending for this ticket.")) from None
    record(
        ticket,
        "ticket.deferral_requested",
        actor,
        at=now,
        request=deferral.pk,
        automatic=False,
        approver=_ref(approver),
        cause=cause.code,
        explanation=explanation,
        deadline=_iso(ticket.deadline),
        proposed=_iso(proposed_deadline),
    )
    _notify_requested(deferral, actor)
    return deferral


def _locked_pending(deferral: DeferralRequest) -> DeferralRequest:
    """Lock the ticket, then re-read the request; refuses a request that was decided meanwhile."""
    _lock(deferral.ticket)
    fresh = DeferralRequest.objects.select_for_update().select_related("requested_by", "addressed_to").get(
        pk=deferral.pk
    )
    if not fresh.is_pending:
        raise TicketError(_("This request has already been decided; decisions are final."))
    fresh.ticket = deferral.ticket
    return fresh


@transaction.atomic
def deferral_provide_cause(
    deferral: DeferralRequest, *, actor, cause: DeferralCause | None, explanation: str,
    proposed_deadline: datetime | None,
) -> DeferralRequest:
    """The performer explains an automatically opened request: cause, explanation, proposed deadline."""
    fresh = _locked_pending(deferral)
    if actor is None or actor.pk != fresh.requested_by_id:
        raise TicketError(_("Only the performer the request was opened for can give its cause."))
    if not fresh.automatic:
        raise TicketError(_("This request already has its cause."))
    now = timezone.now()
    explanation = _check_reasoning(
        fresh.ticket, cause=cause, explanation=explanation, proposed_deadline=proposed_deadline, now=now
    )
    DeferralRequest.objects.filter(pk=fresh.pk).update(
        cause=cause, explanation=explanation, proposed_deadline=proposed_deadline
    )
    fresh.cause, fresh.explanation, fresh.proposed_deadline = cause, explanation, proposed_deadline
    record(
        fresh.ticket,
        "ticket.deferral_cause_given",
        actor,
        at=now,
        request=fresh.pk,
        cause=cause.code,
        explanation=explanation,
        proposed=_iso(proposed_deadline),
    )
    notify(
        fresh.addressed_to,
        kind="deferral.cause_given",
        urgency="routine",
        title=format_lazy(gettext_lazy("{who} explained the missed deadline of {ticket}"),
                          who=display_name(actor), ticket=fresh.ticket.reference),
        body=explanation,
        url=_decide_url(fresh),
        ticket=fresh.ticket,
        actor=actor,
    )
    return fresh


def _check_open(ticket: Ticket) -> None:
    # A closed ticket's deadline is final ("closed on time" never changes); its request was withdrawn.
    if ticket.status not in OPEN_STATUSES:
        raise TicketError(_("The ticket is closed: its deadline no longer moves."))


def _check_decider(fresh: DeferralRequest, actor) -> None:
    if actor is None:
        raise TicketError(_("A deferral is decided by a person."))
    if actor.pk == fresh.requested_by_id:
        raise TicketError(_("You cannot decide your own deferral request."))
    if not approvable(actor).filter(pk=fresh.pk).exists():
        raise TicketError(_("Only the performer's manager can decide this request."))


def _notify_decided(fresh: DeferralRequest, actor) -> None:
    ticket = fresh.ticket
    if fresh.is_granted:
        title = format_lazy(
            gettext_lazy("New deadline for {ticket} ({verdict})"),
            ticket=ticket.reference,
            verdict=Verdict(fresh.status).label,
        )
    else:
        title = format_lazy(gettext_lazy("Deferral of {ticket} declined: the deadline stays"), ticket=ticket.reference)
    recipients = {fresh.requested_by_id: fresh.requested_by}
    if ticket.performer_id and ticket.performer_id not in recipients:
        recipients[ticket.performer_id] = ticket.performer
    for person in recipients.values():
        notify(
            person,
            kind="deferral.decided",
            urgency="routine",
            title=title,
            body=fresh.comment,
            url=reverse("tickets:detail", args=[ticket.pk]),
            ticket=ticket,
            dedupe_key=f"deferral:{fresh.pk}:decided",
            actor=actor,
        )


@transaction.atomic
def deferral_decide(
    deferral: DeferralRequest, *, actor, verdict: str, new_deadline: datetime | None, comment: str = ""
) -> DeferralRequest:
    """Rule objective or subjective and move the ticket's deadline to ``new_deadline`` (final)."""
    if verdict not in VERDICTS:
        raise TicketError(_("Choose a verdict: objective or subjective."))
    fresh = _locked_pending(deferral)
    _check_decider(fresh, actor)
    ticket = fresh.ticket
    _check_open(ticket)
    now = timezone.now()
    if new_deadline is None:
        raise TicketError(_("Set the new deadline."))
    check_date_in_range(new_deadline)
    if new_deadline <= now:
        raise TicketError(_("The new deadline must be in the future."))
    previous = ticket.deadline
    if previous is not None and new_deadline <= previous:
        raise TicketError(_("The new deadline must be later than the current one."))
    comment = (comment or "").strip()
    changed = DeferralRequest.objects.filter(pk=fresh.pk).update(
        status=verdict, decided_by=actor, decided_at=now, new_deadline=new_deadline, comment=comment
    )
    if changed != 1:
        raise TicketError(_("This request has already been decided; decisions are final."))
    fresh.status, fresh.decided_by, fresh.decided_at = verdict, actor, now
    fresh.new_deadline, fresh.comment = new_deadline, comment
    # The one deadline service: history row, and the SLA's deadline clock re-arms its ladder.
    ticket_services.ticket_move_deadline(
        ticket, deadline=new_deadline, actor=actor, cause="deferral", at=now,
        history={"request": fresh.pk, "automatic": fresh.automatic, "requester": _ref(fresh.requested_by),
                 "decider": _ref(actor), "verdict": verdict, "comment": comment},
        details={"verdict": verdict, "request": fresh.pk},
    )
    _notify_decided(fresh, actor)
    return fresh


@transaction.atomic
def deferral_decline(deferral: DeferralRequest, *, actor, comment: str) -> DeferralRequest:
    """Refuse the request: the deadline stays where it is (final)."""
    fresh = _locked_pending(deferral)
    _check_decider(fresh, actor)
    comment = (comment or "").strip()
    if not comment:
        raise TicketError(_("Say why the request is declined."))
    now = timezone.now()
    changed = DeferralRequest.objects.filter(pk=fresh.pk).update(
        status=Verdict.DECLINED, decided_by=actor, decided_at=now, comment=comment
    )
    if changed != 1:
        raise TicketError(_("This request has already been decided; decisions are final."))
    fresh.status, fresh.decided_by, fresh.decided_at, fresh.comment = Verdict.DECLINED, actor, now, comment
    record(
        fresh.ticket,
        "ticket.deferral_declined",
        actor,
        at=now,
        request=fresh.pk,
        automatic=fresh.automatic,
        requester=_ref(fresh.requested_by),
        decider=_ref(actor),
        deadline=_iso(fresh.ticket.deadline),
        comment=comment,
    )
    _notify_decided(fresh, actor)
    return fresh


def deferrals_withdraw_for_closed(ticket: Ticket, *, actor, at: datetime) -> int:
    """The ticket became done or canceled: its pending request is withdrawn (one history row); returns how many.

    A withdrawn request was never decided: it counts in no verdict of the discipline report, and
    nobody can decide it any more. Runs inside the status change's transaction (the ticket is locked).
    """
    pending = list(DeferralRequest.objects.pending().filter(ticket=ticket).select_related("requested_by"))
    for deferral in pending:
        DeferralRequest.objects.filter(pk=deferral.pk).update(status=Verdict.WITHDRAWN, withdrawn_at=at)
        record(
            ticket,
            "ticket.deferral_withdrawn",
            actor,
            at=at,
            request=deferral.pk,
            automatic=deferral.automatic,
            requester=_ref(deferral.requested_by),
            status=ticket.status,
        )
    return len(pending)


def automatic_candidates(now: datetime) -> QuerySet:
    """Open, performed tickets past their deadline whose type starts deferral automatically, not yet handled.

    Handled means: a request is pending, or a request for this very deadline was
    opened automatically or after the deadline had passed.
    """
    pending = DeferralRequest.objects.filter(ticket=OuterRef("pk"), status=Verdict.PENDING)
    handled = DeferralRequest.objects.filter(ticket=OuterRef("pk"), old_deadline=OuterRef("deadline")).filter(
        Q(automatic=True) | Q(created_at__gte=OuterRef("deadline"))
    )
    return (
        Ticket.objects.filter(
            status__in=OPEN_STATUSES,
            deadline__lt=now,
            performer__isnull=False,
            ticket_type__deferral_enabled=True,
            ticket_type__deferral_auto_start=True,
        )
        .exclude(Exists(pending))
        .exclude(Exists(handled))
        .order_by("deadline", "pk")
    )


def deferrals_open_automatic(now: datetime | None = None) -> int:
    """The sweep: open one automatic request per missed deadline; returns how many were opened.

    Safe to run twice or concurrently: the unique constraints (one pending per
    ticket, one automatic per deadline) let only one run win per ticket.
    """
    now = now or timezone.now()
    opened = 0
    ids = list(automatic_candidates(now).values_list("pk", flat=True)[:AUTOMATIC_BATCH])
    for ticket in Ticket.objects.filter(pk__in=ids).select_related("performer__profile__manager", "queue__manager"):
        if _open_automatic(ticket, now):
            opened += 1
    return opened


def _open_automatic(ticket: Ticket, now: datetime) -> bool:
    performer = ticket.performer
    approver = resolve_approver(performer, ticket, now=now)
    if approver is None:
        logger.warning("deferral: nobody can approve the missed deadline of ticket %s", ticket.pk)
        return False
    try:
        with transaction.atomic():
            deferral = DeferralRequest.objects.create(
                ticket=ticket,
                requested_by=performer,
                addressed_to=approver,
                automatic=True,
                old_deadline=ticket.deadline,
                created_at=now,
            )
            record(
                ticket,
                "ticket.deferral_requested",
                None,
                at=now,
                request=deferral.pk,
                automatic=True,
                requester=_ref(performer),
                approver=_ref(approver),
                deadline=_iso(ticket.deadline),
            )
            _notify_requested(deferral, None)
            notify(
                performer,
                kind="deferral.cause_needed",
                urgency="important",
                title=format_lazy(gettext_lazy("The deadline of {ticket} passed: give the cause"),
                                  ticket=ticket.reference),
                body=format_lazy(
                    gettext_lazy("A deferral request went to {manager}. Explain the delay and propose a date."),
                    manager=display_name(approver),
                ),
                url=reverse("tickets:detail", args=[ticket.pk]),
                ticket=ticket,
                dedupe_key=f"deferral:{deferral.pk}:cause_needed",
            )
    except IntegrityError:
        return False  # another sweep (or the performer) got there first
    return True


def open_automatic_task() -> int:
    """django-q2 entry point of the per-minute schedule."""
    return deferrals_open_automatic()


# --- Selectors -----------------------------------------------------------------------------------


