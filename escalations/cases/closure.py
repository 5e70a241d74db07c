"""Resolution and closure: the owner announces the resolution, the root-cause analysis is written and its
customer part approved and sent, then the case closes with each linked ticket closed or handed back.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.locks import lock as _lock
from escalations.access import is_owner
from escalations.cases.common import (
    account_managers,
    affected_links,
    case_title,
    not_closed,
    notify_people,
    participant,
    record,
    require,
    stakeholders,
)
from escalations.models import CaseCause, CaseStatus, CaseTicket, EscalationCase
from notifications.models import Urgency
from tickets import access as ticket_access
from tickets import services as ticket_services
from tickets.models import CLOSED_STATUSES, Status
from tickets.services import TicketError


def _owner_only(case: EscalationCase, actor) -> EscalationCase:
    _lock(case)
    require(is_owner(actor, case), _("Only the owner of the case may do this."))
    not_closed(case)
    return case


@transaction.atomic
def case_announce_resolution(case: EscalationCase, *, actor, summary: str) -> EscalationCase:
    """The owner declares the problem solved: the update cadence stops and everybody is told."""
    _owner_only(case, actor)
    require(case.status == CaseStatus.OPEN, _("The resolution is announced already."))
    summary = (summary or "").strip()
    require(bool(summary), _("Describe the resolution."))
    now = timezone.now()
    case.status = CaseStatus.RESOLVED
    case.resolved_at = now
    case.resolution = summary
    case.next_update_due = None
    case.save(update_fields=["status", "resolved_at", "resolution", "next_update_due"])
    record(case, "case.resolved", actor, at=now, summary=summary)
    notify_people(stakeholders(case) + account_managers(case), case, kind="case.resolved", key="resolved",
                  actor=actor, body=summary,
                  title=case_title(case, gettext_lazy("Escalation case {reference} is resolved: {title}")))
    return case


@transaction.atomic
def case_write_rca(case: EscalationCase, *, actor, internal: str, customer: str, cause: str = "") -> EscalationCase:
    """The root-cause analysis: an internal part and a customer-facing part.

    Changing the customer-facing text withdraws its approval; once sent it cannot change.
    """
    participant(case, actor)
    internal, customer = (internal or "").strip(), (customer or "").strip()
    require(bool(internal or customer), _("Write at least one part of the analysis."))
    require(cause in CaseCause.values, _("Unknown cause."))
    fields = []
    if customer != case.rca_customer:
        require(case.rca_customer_sent_at is None, _("The customer analysis was sent already; it cannot change."))
        case.rca_customer = customer
        case.rca_customer_approved_by = None
        fields += ["rca_customer", "rca_customer_approved_by"]
    if internal != case.rca_internal:
        case.rca_internal = internal
        fields.append("rca_internal")
    if cause != case.cause:
        case.cause = cause
        fields.append("cause")
    if fields:
        case.save(update_fields=fields)
        record(case, "case.rca_written", actor, internal="rca_internal" in fields,
               customer="rca_customer" in fields, cause=cause)
    return case


@transaction.atomic
def case_approve_customer_rca(case: EscalationCase, *, actor) -> int:
    """The owner approves the customer-facing analysis; it goes out as a public reply on each affected ticket.

    Returns the number of replies sent. As with a public update, only tickets the owner may reply on
    (``tickets.access.can_work``) reach their customer; the others are skipped and counted in the timeline.
    """
    _owner_only(case, actor)
    require(bool(case.rca_customer), _("Write the customer analysis first."))
    require(case.rca_customer_sent_at is None, _("The customer analysis was sent already."))
    sent, skipped = 0, []
    for link in affected_links(case):
        if link.ticket.status == Status.CANCELED:
            continue
        if not ticket_access.can_work(actor, link.ticket):  # only who may reply reaches the customer
            skipped.append(link.ticket_id)
            continue
        ticket_services.ticket_reply(link.ticket, body=case.rca_customer, actor=actor, counts_as_response=True)
        sent += 1
    now = timezone.now()
    case.rca_customer_approved_by = actor
    case.rca_customer_sent_at = now
    case.save(update_fields=["rca_customer_approved_by", "rca_customer_sent_at"])
    record(case, "case.rca_approved", actor, at=now, replies=sent, skipped=len(skipped), skipped_tickets=skipped)
    return sent


def rca_complete(case: EscalationCase) -> bool:
    """Both parts written and the customer part approved and sent (or no customers to send it to)."""
    if not case.rca_internal:
        return False
    if not affected_links(case).exists():
        return True
    return bool(case.rca_customer) and case.rca_customer_sent_at is not None


CLOSE_TICKET = "close"
HAND_BACK = "hand_back"


@transaction.atomic
def case_close(
    case: EscalationCase, *, actor, ticket_actions: dict[int, str], no_rca_reason: str = ""
) -> EscalationCase:
    """Close the case: each linked ticket closed (done) or handed back open; the RCA is required unless
    the owner records why none is needed."""
    _owner_only(case, actor)
    require(case.status == CaseStatus.RESOLVED, _("Announce the resolution before closing the case."))
    no_rca_reason = (no_rca_reason or "").strip()
    require(rca_complete(case) or bool(no_rca_reason),
            _("Write the root-cause analysis (and approve its customer part) or say why none is needed."))
    closed, handed_back = [], []
    for link in CaseTicket.objects.filter(case=case).select_related("ticket"):
        ticket = link.ticket
        if ticket.status in CLOSED_STATUSES:
            continue
        choice = ticket_actions.get(ticket.pk, HAND_BACK)
        require(choice in (CLOSE_TICKET, HAND_BACK), _("Unknown choice for a ticket."))
        if choice == CLOSE_TICKET:
            if Status.DONE not in ticket_services.allowed_statuses(ticket):
                raise TicketError(_("%(ticket)s cannot be closed now (assign a performer first); hand it back.")
                                  % {"ticket": ticket.reference})
            ticket_services.ticket_change_status(
                ticket, status=Status.DONE, actor=actor,
                comment=_("Closed with escalation case %(reference)s.") % {"reference": case.reference},
            )
            closed.append(ticket.pk)
        else:
            handed_back.append(ticket.pk)
    now = timezone.now()
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.no_rca_reason = "" if rca_complete(case) else no_rca_reason
    case.next_update_due = None
    case.save(update_fields=["status", "closed_at", "no_rca_reason", "next_update_due"])
    record(case, "case.closed", actor, at=now, closed=closed, handed_back=handed_back,
           no_rca_reason=case.no_rca_reason)
    notify_people(stakeholders(case), case, kind="case.closed", key="closed", actor=actor, urgency=Urgency.ROUTINE,
                  title=case_title(case, gettext_lazy("Escalation case {reference} is closed: {title}")),
                  body=case.resolution)
    return case
