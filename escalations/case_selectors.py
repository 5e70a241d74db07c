"""Escalation-case reads: the list, the case page, the ticket page's panel, the report, timeline sentences."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.db import router
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.rowcache import Precompiled
from escalations import access as case_access
from escalations.models import (
    CaseCause,
    CaseEscalation,
    CaseEvent,
    CaseMember,
    CaseSeverity,
    CaseStatus,
    CaseTicket,
    CaseUpdate,
    EscalationCase,
)
from tickets.models import Ticket, display_name
from tickets.templatetags.opsdesk import format_dt

_STATUS_ORDER = Case(
    When(status=CaseStatus.OPEN, then=Value(0)),
    When(status=CaseStatus.RESOLVED, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def case_list(user, *, status: str = "", severity: str = "", mine: bool = False, missed: bool = False,
              now: datetime | None = None) -> QuerySet:
    """Cases ``user`` sees: open first, then by severity and the next update due."""
    now = now or timezone.now()
    qs = case_access.visible_cases(user).select_related("owner__profile", "rule")
    if status == "all":
        pass
    elif status in CaseStatus.values:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status=CaseStatus.CLOSED)
    if severity in CaseSeverity.values:
        qs = qs.filter(severity=severity)
    if mine:
        qs = qs.filter(Q(owner=user) | Q(memberships__user=user)).distinct()
    if missed:
        qs = qs.filter(status=CaseStatus.OPEN, next_update_due__lt=now)
    return qs.annotate(
        status_order=_STATUS_ORDER,
        n_tickets=Count("ticket_links", filter=Q(ticket_links__role=CaseTicket.Role.AFFECTED), distinct=True),
        n_customers=Count("customers", distinct=True),
    ).order_by("status_order", "severity", "next_update_due", "-opened_at", "-pk")


def ticket_cases(ticket) -> list[EscalationCase]:
    """The cases a ticket belongs to (the ticket page's panel; a statement compiled once per process)."""
    return _TICKET_CASES.objects(ticket.pk, using=router.db_for_read(EscalationCase))


_TICKET_CASES = Precompiled(
    lambda ticket_id: (
        EscalationCase.objects.filter(ticket_links__ticket_id=ticket_id)
        .select_related("owner__profile")
        .order_by("-opened_at")
    ),
    -7_100_704,  # stands for the ticket while the SQL is compiled: no ticket has it
)


@dataclass
class CasePage:
    """The case page as ``user`` may see it: only the linked tickets they may open, a count of the rest."""

    case: EscalationCase
    affected: list
    tasks: list
    members: list
    customers: list
    services: list
    updates: list
    escalations: list
    timeline: list
    hidden_affected: int = 0
    hidden_tasks: int = 0

    @property
    def hidden_affected_note(self) -> str:
        return ngettext("and %(n)d ticket you cannot open", "and %(n)d tickets you cannot open",
                        self.hidden_affected) % {"n": self.hidden_affected} if self.hidden_affected else ""

    @property
    def hidden_tasks_note(self) -> str:
        return ngettext("and %(n)d task you cannot open", "and %(n)d tasks you cannot open",
                        self.hidden_tasks) % {"n": self.hidden_tasks} if self.hidden_tasks else ""


def case_page(case: EscalationCase, user) -> CasePage:
    """The case page for ``user``: linked tickets filtered by ``Ticket.objects.visible_to(user)`` (issue 19)."""
    links = list(
        CaseTicket.objects.filter(case=case)
        .select_related("ticket__customer", "ticket__performer__profile", "ticket__queue")
        .order_by("added_at", "pk")
    )
    ids = [link.ticket_id for link in links]
    visible = set(Ticket.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    affected = [link.ticket for link in links if link.role == CaseTicket.Role.AFFECTED]
    tasks = [link.ticket for link in links if link.role == CaseTicket.Role.TASK]
    events = list(CaseEvent.objects.filter(case=case).select_related("actor__profile").order_by("created_at", "pk"))
    return CasePage(
        case=case,
        affected=[t for t in affected if t.pk in visible],
        tasks=[t for t in tasks if t.pk in visible],
        hidden_affected=sum(1 for t in affected if t.pk not in visible),
        hidden_tasks=sum(1 for t in tasks if t.pk not in visible),
        members=[m.user for m in CaseMember.objects.filter(case=case).select_related("user__profile")],
        customers=list(case.customers.select_related("account_manager__profile", "vip_tier").order_by("name")),
        services=list(case.services.order_by("name")),
        updates=list(CaseUpdate.objects.filter(case=case).select_related("author__profile").order_by("-created_at")),
        escalations=list(CaseEscalation.objects.filter(case=case).select_related("to_user__profile")),
        timeline=[(event, describe(event, visible=visible)) for event in events],
    )


# --- Timeline sentences ------------------------------------------------------------------------------


def _when(value) -> str:
    parsed = parse_datetime(value) if isinstance(value, str) else value
    return format_dt(parsed) if parsed else "—"


def _name(ref) -> str:
    return (ref or {}).get("name") or "—"


def describe(event: CaseEvent, visible: set[int] | None = None) -> str:
    """One timeline row as a sentence in the active language.

    ``visible``: the ids of the linked tickets the reader may open (None: all); a ticket outside it is
    named by neither number nor title.
    """
    who, d = display_name(event.actor), event.data or {}
    kind = event.kind
    hidden = visible is not None and d.get("ticket") is not None and d.get("ticket") not in visible
    if kind == "case.opened":
        if d.get("rule"):
            return _("Rule “%(rule)s” opened the case (%(severity)s), owner %(owner)s.") % {
                "rule": d["rule"], "severity": _severity(d.get("severity")), "owner": _name(d.get("owner"))}
        return _("%(who)s opened the case (%(severity)s), owner %(owner)s.") % {
            "who": who, "severity": _severity(d.get("severity")), "owner": _name(d.get("owner"))}
    if kind == "case.ticket_linked":
        if hidden:
            return _("%(who)s linked a ticket you cannot open.") % {"who": who}
        if d.get("role") == CaseTicket.Role.TASK:
            return _("%(who)s linked task #%(ticket)s “%(title)s”.") % {"who": who, **_t(d)}
        return _("%(who)s linked ticket #%(ticket)s “%(title)s”.") % {"who": who, **_t(d)}
    if kind == "case.customer_added":
        return _("%(who)s added the affected customer %(name)s.") % {"who": who, "name": d.get("name", "")}
    if kind == "case.service_added":
        return _("%(who)s added the affected service %(name)s.") % {"who": who, "name": d.get("name", "")}
    if kind == "case.member_added":
        return _("%(who)s added %(member)s to the task force.") % {"who": who, "member": _name(d.get("member"))}
    if kind == "case.member_removed":
        return _("%(who)s removed %(member)s from the task force.") % {"who": who, "member": _name(d.get("member"))}
    if kind == "case.update_posted":
        if d.get("public"):
            text = _("%(who)s posted a public update (sent to %(n)s tickets); next update due %(due)s.")
        else:
            text = _("%(who)s posted an internal update; next update due %(due)s.")
        text = text % {"who": who, "n": d.get("replies", 0), "due": _when(d.get("next_due"))}
        if d.get("public") and d.get("skipped"):
            text += " " + ngettext(
                "%(n)d linked ticket was skipped: the author may not reply on it.",
                "%(n)d linked tickets were skipped: the author may not reply on them.", d["skipped"],
            ) % {"n": d["skipped"]}
        return text + (" " + _("It was late.") if d.get("late") else "")
    if kind == "case.update_missed":
        return _("The status update due %(due)s was missed.") % {"due": _when(d.get("due"))}
    if kind == "case.task_added":
        if hidden:
            return _("%(who)s planned a task you cannot open, due %(due)s.") % {"who": who, "due": _when(d.get("due"))}
        return _("%(who)s planned task #%(ticket)s “%(title)s” for %(performer)s, due %(due)s.") % {
            "who": who, **_t(d), "performer": _name(d.get("performer")), "due": _when(d.get("due"))}
    if kind == "case.escalated":
        return _("The case was escalated to level %(level)s (%(to)s): %(reason)s") % {
            "level": d.get("level"), "to": _name(d.get("to")) if d.get("to") else _("nobody set up"),
            "reason": d.get("reason", "")}
    if kind == "case.resolved":
        return _("%(who)s announced the resolution: %(summary)s") % {"who": who, "summary": d.get("summary", "")}
    if kind == "case.rca_written":
        return _("%(who)s wrote the root-cause analysis.") % {"who": who}
    if kind == "case.rca_approved":
        return _("%(who)s approved the customer analysis; it was sent on %(n)s tickets.") % {
            "who": who, "n": d.get("replies", 0)}
    if kind == "case.closed":
        text = _("%(who)s closed the case (tickets closed: %(closed)s; handed back open: %(back)s).") % {
            "who": who, "closed": len(d.get("closed") or ()), "back": len(d.get("handed_back") or ())}
        if d.get("no_rca_reason"):
            text += " " + _("No root-cause analysis: %(reason)s") % {"reason": d["no_rca_reason"]}
        return text
    return _("%(who)s: %(event)s.") % {"who": who, "event": kind}


def _t(d) -> dict:
    return {"ticket": d.get("ticket"), "title": d.get("title", "")}


def _severity(value) -> str:
    try:
        return str(CaseSeverity(value).label)
    except ValueError:
        return str(value or "—")


def ticket_case_sentence(e, who, lookups, ticket) -> str:
    """The ticket history sentence for ``ticket.case_linked`` (``escalations/history.py``)."""
    if e.data.get("role") == CaseTicket.Role.TASK:
        return _("%(who)s made this ticket a task of escalation case %(case)s.") % {
            "who": who, "case": e.data.get("reference", "")}
    return _("%(who)s linked this ticket to escalation case %(case)s.") % {
        "who": who, "case": e.data.get("reference", "")}


# --- Report -------------------------------------------------------------------------------------------------


def _avg(values: list[timedelta]) -> timedelta | None:
    return sum(values, timedelta(0)) / len(values) if values else None


def _median(values: list[timedelta]) -> timedelta | None:
    return timedelta(seconds=median(v.total_seconds() for v in values)) if values else None


def case_report(start: datetime, end: datetime) -> dict:
    """Cases opened in ``[start, end)``: counts by severity and cause, communication, missed updates,
    resolution times, and the RCAs of the cases closed in the period."""
    opened = list(
        EscalationCase.objects.filter(opened_at__gte=start, opened_at__lt=end)
        .select_related("owner__profile", "rule")
        .order_by("opened_at")
    )
    grid: dict[str, Counter] = defaultdict(Counter)
    for case in opened:
        grid[case.cause][case.severity] += 1
    severities = list(CaseSeverity)
    rows = [
        {"cause": CaseCause(cause).label, "counts": [grid[cause][s] for s in severities],
         "total": sum(grid[cause].values())}
        for cause in CaseCause.values if grid.get(cause)
    ]
    first = [c.first_update_at - c.opened_at for c in opened if c.first_update_at]
    resolved = [c.resolved_at - c.opened_at for c in opened if c.resolved_at]
    by_trigger = Counter(
        _("Rule: %(rule)s") % {"rule": c.rule.name} if c.rule_id else _("Opened by hand") for c in opened
    )
    rcas = list(
        EscalationCase.objects.filter(closed_at__gte=start, closed_at__lt=end)
        .select_related("owner__profile", "rca_customer_approved_by__profile")
        .order_by("-closed_at")
    )
    return {
        "severities": severities,
        "rows": rows,
        "totals": [sum(1 for c in opened if c.severity == s) for s in severities],
        "total": len(opened),
        "by_trigger": sorted(by_trigger.items()),
        "first_update_avg": _avg(first),
        "first_update_median": _median(first),
        "without_update": sum(1 for c in opened if c.first_update_at is None),
        "missed_updates": sum(c.missed_updates for c in opened),
        "cases_with_missed": sum(1 for c in opened if c.missed_updates),
        "resolution_avg": _avg(resolved),
        "resolution_median": _median(resolved),
        "unresolved": sum(1 for c in opened if c.resolved_at is None),
        "rcas": rcas,
    }
