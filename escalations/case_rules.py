"""Automatic side of escalation cases: opening rules, missed-update signals, escalation up the hierarchy.

``evaluate(now)`` runs from the django-q2 schedule ``cases.evaluate`` (every
minute). Each part reads only candidates, set-based:

* **Rules** (``CaseRule``). "A level of order ≥ N fired on a VIP customer's
  ticket": firings of the last ``LOOKBACK`` on tickets of customers with a
  VIP tier, grouped by ticket, without a crossing for this rule; the crossing
  key is the ticket. "More than N breaches of one ticket type within an hour":
  breached SLA clocks of the current and previous clock hour (UTC), counted
  per (type, hour) as distinct tickets; the key is the type and the hour.
  Every crossing opens its case in its own transaction that first inserts a
  ``CaseRuleCrossing`` row, unique on (rule, key): two evaluations running at
  once (two clusters) race on that insert, one wins, the other's transaction
  hits the constraint and opens nothing.
* **Missed updates**: open cases past ``next_update_due`` not yet signalled
  for that due instant are claimed with a conditional ``UPDATE`` (the counter
  ``missed_updates`` goes up once per missed due instant), recorded on the
  timeline, and the owner and members are told.
* **Escalation**: open cases whose timing calls for a higher management level
  (``cases.hierarchy.due_level``) go up; ``CaseEscalation`` is unique per (case, level).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q
from django.db.models.functions import TruncHour
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from escalations.cases.common import cadence_for, notify_people, record
from escalations.cases.hierarchy import MAX_LEVEL, case_escalate_automatically
from escalations.cases.opening import case_open
from escalations.models import (
    CaseMember,
    CaseRule,
    CaseRuleCrossing,
    CaseSeverity,
    CaseStatus,
    CaseTicket,
    EscalationCase,
    Firing,
)
from notifications.models import Urgency
from sla.models import SLAClock
from tickets.models import Ticket, TicketType
from tickets.querysets import overdue_q
from tickets.services import TicketError

logger = logging.getLogger(__name__)

LOOKBACK = timedelta(hours=24)
BATCH = 500


def evaluate(now: datetime | None = None) -> dict:
    """Open cases for rule crossings, signal missed updates, escalate overdue cases."""
    now = now or timezone.now()
    return {
        "opened": len(evaluate_rules(now)),
        "missed": signal_missed_updates(now),
        "escalated": escalate_overdue_cases(now),
    }


def evaluate_task():
    return evaluate()


# --- Rules ------------------------------------------------------------------------------------------


def evaluate_rules(now: datetime | None = None) -> list[EscalationCase]:
    now = now or timezone.now()
    opened = []
    for rule in CaseRule.objects.filter(is_active=True).select_related("owner", "ticket_type").order_by("pk"):
        if rule.kind == CaseRule.Kind.VIP_LEVEL:
            opened += _vip_level(rule, now)
        elif rule.kind == CaseRule.Kind.TYPE_BREACHES:
            opened += _type_breaches(rule, now)
    return opened


def _open_once(rule: CaseRule, key: str, *, ticket: Ticket | None = None, **case_fields) -> EscalationCase | None:
    """Insert the crossing first (the unique constraint decides who opens), then open the case."""
    try:
        with transaction.atomic():
            crossing = CaseRuleCrossing.objects.create(rule=rule, key=key, ticket=ticket)
            case = case_open(actor=None, rule=rule, owner=rule.owner, severity=rule.severity, **case_fields)
            crossing.case = case
            crossing.save(update_fields=["case"])
    except IntegrityError:
        return None  # another evaluation opened it
    except TicketError as exc:
        logger.warning("case rule %s could not open a case for %s: %s", rule.pk, key, exc)
        return None
    return case


def _vip_level(rule: CaseRule, now: datetime) -> list[EscalationCase]:
    crossed = CaseRuleCrossing.objects.filter(rule=rule, ticket_id=OuterRef("ticket_id"))
    rows = (
        Firing.objects.filter(
            level__order__gte=rule.min_level_order,
            fired_at__gte=now - LOOKBACK,
            fired_at__lte=now,
            ticket__customer__vip_tier__isnull=False,
            acted=True,
        )
        .exclude(data__has_key="seeded")
        .exclude(Exists(crossed))
        .values("ticket_id")
        .annotate(top=Max("level__order"))
        .order_by("ticket_id")[:BATCH]
    )
    rows = list(rows)
    tickets = Ticket.objects.select_related("customer__vip_tier").in_bulk([r["ticket_id"] for r in rows])
    opened = []
    for row in rows:
        ticket = tickets[row["ticket_id"]]
        criteria = format_lazy(
            _("Rule “{rule}”: an escalation level of order {order} fired on {reference} of VIP customer {customer} "
              "({tier})."),
            rule=rule.name, order=row["top"], reference=ticket.reference, customer=ticket.customer.name,
            tier=ticket.customer.vip_tier.name,
        )
        case = _open_once(
            rule, f"ticket:{ticket.pk}", ticket=ticket,
            title=str(format_lazy(_("VIP escalation: {customer}, {reference} {title}"),
                                  customer=ticket.customer.name, reference=ticket.reference, title=ticket.title))[:200],
            triggering_criteria=str(criteria), tickets=[ticket],
        )
        if case is not None:
            opened.append(case)
    return opened


def _type_breaches(rule: CaseRule, now: datetime) -> list[EscalationCase]:
    since = (now - timedelta(hours=1)).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    clocks = SLAClock.objects.filter(breached_at__gte=since, breached_at__lte=now, kind__in=SLAClock.SLA_KINDS,
                                     ticket__ticket_type__isnull=False)
    if rule.ticket_type_id:
        clocks = clocks.filter(ticket__ticket_type_id=rule.ticket_type_id)
    rows = list(
        clocks.annotate(hour=TruncHour("breached_at", tzinfo=UTC))
        .values("ticket__ticket_type_id", "hour")
        .annotate(n=Count("ticket_id", distinct=True))
        .filter(n__gt=rule.max_breaches)
        .order_by("hour", "ticket__ticket_type_id")
    )
    keys = {f"type:{r['ticket__ticket_type_id']}:{r['hour']:%Y%m%dT%H}": r for r in rows}
    done = set(CaseRuleCrossing.objects.filter(rule=rule, key__in=list(keys)).values_list("key", flat=True))
    types = TicketType.objects.in_bulk([r["ticket__ticket_type_id"] for r in rows])
    opened = []
    for key, row in keys.items():
        if key in done:
            continue
        ticket_type, hour = types[row["ticket__ticket_type_id"]], row["hour"]
        tickets = list(
            Ticket.objects.filter(
                ticket_type=ticket_type,
                sla_clocks__breached_at__gte=hour,
                sla_clocks__breached_at__lt=hour + timedelta(hours=1),
                sla_clocks__kind__in=SLAClock.SLA_KINDS,
            ).distinct().order_by("pk")
        )
        local = timezone.localtime(hour)
        criteria = format_lazy(
            _("Rule “{rule}”: {count} tickets of type “{type}” breached their SLA between {start} and {end} "
              "(more than {limit})."),
            rule=rule.name, count=row["n"], type=ticket_type.name, start=local.strftime("%d.%m %H:%M"),
            end=(local + timedelta(hours=1)).strftime("%H:%M"), limit=rule.max_breaches,
        )
        case = _open_once(
            rule, key,
            title=str(format_lazy(_("Repeated SLA breaches: {type} ({count} in an hour)"), type=ticket_type.name,
                                  count=row["n"]))[:200],
            triggering_criteria=str(criteria), tickets=tickets,
        )
        if case is not None:
            opened.append(case)
    return opened


# --- Missed updates ------------------------------------------------------------------------------------


def signal_missed_updates(now: datetime | None = None) -> int:
    """Count and announce each missed update once per due instant; returns how many were signalled."""
    now = now or timezone.now()
    due = (
        EscalationCase.objects.filter(status=CaseStatus.OPEN, next_update_due__lt=now)
        .exclude(missed_signalled_for=F("next_update_due"))
        .select_related("owner")
        .order_by("next_update_due")[:BATCH]
    )
    signalled = 0
    for case in due:
        with transaction.atomic():
            claimed = (
                EscalationCase.objects.filter(pk=case.pk, status=CaseStatus.OPEN, next_update_due=case.next_update_due)
                .filter(Q(missed_signalled_for__isnull=True) | ~Q(missed_signalled_for=case.next_update_due))
                .update(missed_signalled_for=case.next_update_due, missed_updates=F("missed_updates") + 1)
            )
            if not claimed:
                continue
            signalled += 1
            record(case, "case.update_missed", None, at=now, due=case.next_update_due.isoformat())
            people = [case.owner] + [m.user for m in CaseMember.objects.filter(case=case).select_related("user")]
            notify_people(
                people, case, kind="case.update_missed", key=f"missed:{case.next_update_due.isoformat()}",
                urgency=Urgency.CRITICAL if case.severity == CaseSeverity.SEV1 else Urgency.IMPORTANT,
                title=format_lazy(_("Status update missed on {reference}: {title}"), reference=case.reference,
                                  title=case.title),
                body=_("The next status update was due and nobody posted it. Post an update now."),
            )
    return signalled


# --- Escalation up the hierarchy -------------------------------------------------------------------------


def escalate_overdue_cases(now: datetime | None = None) -> int:
    """Escalate every open case whose plan runs late; returns the number of levels escalated."""
    now = now or timezone.now()
    condition = Q(escalation_level=0) & Exists(
        CaseTicket.objects.filter(overdue_q(now, prefix="ticket__"), case_id=OuterRef("pk"), role=CaseTicket.Role.TASK)
    )
    for severity in CaseSeverity.values:
        after = cadence_for(severity).escalate_after
        for level in range(MAX_LEVEL):
            condition |= Q(severity=severity, escalation_level=level, opened_at__lte=now - after * (level + 1))
    count = 0
    for case in EscalationCase.objects.filter(status=CaseStatus.OPEN).filter(condition).order_by("pk")[:BATCH]:
        count += len(case_escalate_automatically(case, now=now))
    return count
