"""The repetitive-requests report: the most frequent ticket types and title patterns, with their handling time."""

from __future__ import annotations

import re
from collections import defaultdict

from django.db.models import Count, OuterRef, Subquery, Sum
from django.utils.translation import gettext as _

from reports.dashboard.common import Kind, as_seconds, bilingual, period_params, ticket_list_url
from reports.tabular.report import Report, Section, table
from sla.models import SLAClock

_NUMBERS = re.compile(r"\d+")
_PUNCT = re.compile(r"[^\w#\s]+")
PATTERN_WORDS = 5
PATTERN_SAMPLE = 50_000


def title_pattern(title: str) -> str:
    """A title's pattern: lower case, numbers as #, punctuation dropped, the first five words."""
    text = _NUMBERS.sub("#", (title or "").lower())
    text = _PUNCT.sub(" ", text)
    return " ".join(text.split()[:PATTERN_WORDS])


def repetitive_report(scope, period, form) -> Report:
    report = Report("repetitive", _("Repetitive requests"), _(
        "Tickets created in the period: the most frequent types and title patterns, with the business time "
        "their resolution took (resolution clocks stopped so far), as candidates for automation or templates."
    ), period)
    handled = SLAClock.objects.filter(ticket_id=OuterRef("pk"), kind=Kind.RESOLUTION, state=SLAClock.State.STOPPED,
                                      counts_for_compliance=True).values("consumed")[:1]
    tickets = scope.tickets().filter(created_at__gte=period.start, created_at__lt=period.end)
    types = (
        tickets.values("ticket_type_id", "ticket_type__name", "ticket_type__name_ru")
        .annotate(n=Count("pk"), handled=Sum(Subquery(handled)))
        .order_by("-n", "ticket_type__name")[:20]
    )
    params = period_params(period)
    type_rows = [
        {"name": bilingual(r["ticket_type__name"], r["ticket_type__name_ru"]) or _("No type"), "count": r["n"],
         "hours": as_seconds(r["handled"]),
         "url": ticket_list_url(created_in_period=True, ticket_type=r["ticket_type_id"], **params)
         if r["ticket_type_id"] else ""}
        for r in types
    ]
    patterns: dict[str, list] = defaultdict(lambda: [0, 0.0])
    for title, consumed in tickets.annotate(h=Subquery(handled)).order_by("-created_at").values_list(
            "title", "h")[:PATTERN_SAMPLE]:
        entry = patterns[title_pattern(title)]
        entry[0] += 1
        entry[1] += consumed.total_seconds() if consumed else 0.0
    pattern_rows = [
        {"pattern": p, "count": c, "hours": s, "url": ticket_list_url(q=p, created_in_period=True, **params)}
        for p, (c, s) in sorted(patterns.items(), key=lambda item: (-item[1][0], item[0]))[:20] if c > 1
    ]
    report.sections.append(Section("types", _("Most frequent types"), table(type_rows, [
        ("name", _("Type"), "text"), ("count", _("Tickets"), "int", "url"), ("hours", _("Handling time"), "dur"),
    ], prefix="types-")))
    report.sections.append(Section("patterns", _("Most frequent title patterns"), table(pattern_rows, [
        ("pattern", _("Title pattern"), "text"), ("count", _("Tickets"), "int"),
        ("hours", _("Handling time"), "dur"),
    ], prefix="patterns-"), note=_("Numbers become #, punctuation is dropped, the first five words count; "
                                   "patterns seen once are left out.")))
    return report
