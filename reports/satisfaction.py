"""Customer satisfaction on the dashboard and in the SLA report: answers given in the period, per agent, queue
and type (as the ticket was when the customer answered), counted with ``tickets.satisfaction``'s selectors."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports.dashboard.breakdowns import dimension_label
from reports.dashboard.common import bilingual
from reports.dashboard.scoping import in_scope
from tickets.models import Queue, Rating, SatisfactionRating, TicketType
from tickets.satisfaction import Summary, summarize, summarize_by

# dimension → (the answer's field, the model named, its name columns)
GROUPS = {
    "agent": ("performer", get_user_model(), ("profile__display_name", "username")),
    "queue": ("queue", Queue, ("name", "name_ru")),
    "type": ("ticket_type", TicketType, ("name", "name_ru")),
}

COLUMNS = [
    ("total", gettext_lazy("Answers"), "int"),
    ("good", gettext_lazy("Good"), "int"),
    ("neutral", gettext_lazy("Neutral"), "int"),
    ("bad", gettext_lazy("Bad"), "int"),
    ("percent_good", gettext_lazy("Share of good"), "pct"),
]


def ratings(scope, period) -> QuerySet[SatisfactionRating]:
    """The answers given in ``period`` on tickets in ``scope``."""
    return in_scope(SatisfactionRating.objects.filter(answered_at__gte=period.start, answered_at__lt=period.end), scope)


def _row(name: str, summary: Summary) -> dict:
    return {
        "name": name,
        "total": summary.total,
        "good": summary.good,
        "neutral": summary.neutral,
        "bad": summary.bad,
        "percent_good": summary.percent_good,
    }


def _name(dimension: str, values: tuple) -> str:
    if dimension == "agent":
        return values[0] or values[1] if values else _("Nobody")
    if not values:
        return _("No type") if dimension == "type" else "—"
    return bilingual(values[0], values[1])


def breakdown(scope, period, dimension: str, summaries: dict | None = None) -> list[dict]:
    """Rows ``{name, total, good, neutral, bad, percent_good}`` per group, most answers first.

    ``summaries``: the groups' ``Summary`` when the caller has counted them already (``figures``).
    """
    field, model, name_fields = GROUPS[dimension]
    if summaries is None:
        summaries = summarize_by(ratings(scope, period), field)
    ids = [pk for pk in summaries if pk is not None]
    names = {row[0]: tuple(row[1:]) for row in model.objects.filter(pk__in=ids).values_list("pk", *name_fields)}
    rows = [_row(_name(dimension, names.get(pk, ())), summary) for pk, summary in summaries.items()]
    return sorted(rows, key=lambda r: (-r["total"], r["name"]))


def figures_total(scope, period) -> dict:
    """The period's row of totals."""
    return _row(_("All"), summarize(ratings(scope, period)))


def _summaries(scope, period) -> tuple[Summary, dict[str, dict]]:
    """The period's answers counted once per (agent, queue, type), then summed per dimension and in total."""
    fields = [f"{field}_id" for field, _model, _names in GROUPS.values()]
    rows = (
        ratings(scope, period)
        .order_by()
        .values_list(*fields)
        .annotate(
            good=Count("pk", filter=Q(rating=Rating.GOOD)),
            neutral=Count("pk", filter=Q(rating=Rating.NEUTRAL)),
            bad=Count("pk", filter=Q(rating=Rating.BAD)),
        )
    )
    total = [0, 0, 0]
    per: dict[str, dict] = {name: defaultdict(lambda: [0, 0, 0]) for name in GROUPS}
    for row in rows:
        keys, counts = row[: len(fields)], row[len(fields) :]
        for i, n in enumerate(counts):
            total[i] += n
            for name, key in zip(GROUPS, keys, strict=True):
                per[name][key][i] += n
    return Summary(*total), {name: {k: Summary(*v) for k, v in found.items()} for name, found in per.items()}


def figures(scope, period) -> dict:
    """The period's totals and the three breakdowns (the dashboard's "Customer satisfaction" section): one count."""
    total, per = _summaries(scope, period)
    return {
        "total": _row(_("All"), total),
        "breakdowns": [
            {"name": name, "label": dimension_label(name), "rows": breakdown(scope, period, name, per[name])}
            for name in GROUPS
        ],
    }
