"""The dashboard's breakdowns: clock figures per agent, queue, ticket type, customer tier, channel or SLA policy."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Q, QuerySet
from django.utils.translation import gettext as _

from reports import metrics
from reports.dashboard.clocks import stopped_clocks
from reports.dashboard.common import KINDS, Kind, as_seconds, bilingual, clock_records, period_params, ticket_list_url
from reports.selectors import Period
from sla.models import SLAPolicy
from tickets.models import Channel, Queue, TicketType, VipTier

DIMENSIONS = {
    "agent": {"label": "Agent", "fields": ("ticket__performer_id", "ticket__performer__profile__display_name",
                                           "ticket__performer__username"), "param": "performer"},
    "queue": {"label": "Queue", "fields": ("ticket__queue_id", "ticket__queue__name", "ticket__queue__name_ru"),
              "param": "queue"},
    "type": {"label": "Type", "fields": ("ticket__ticket_type_id", "ticket__ticket_type__name",
                                         "ticket__ticket_type__name_ru"), "param": "ticket_type"},
    "tier": {"label": "Customer tier", "fields": ("ticket__customer__vip_tier_id", "ticket__customer__vip_tier__name"),
             "param": "tier"},
    "channel": {"label": "Channel", "fields": ("ticket__channel",), "param": "channel"},
    "policy": {"label": "SLA policy", "fields": ("policy_id", "policy__name", "policy__name_ru"), "param": ""},
}


def dimension_label(name: str) -> str:
    return {
        "agent": _("Agent"), "queue": _("Queue"), "type": _("Type"), "tier": _("Customer tier"),
        "channel": _("Channel"), "policy": _("SLA policy"),
    }[name]


def _group_name(dimension: str, row: dict) -> str:
    fields = DIMENSIONS[dimension]["fields"]
    key = row[fields[0]]
    if key is None or key == "":
        return {"agent": _("Nobody"), "tier": _("No tier"), "type": _("No type")}.get(dimension, "—")
    if dimension == "agent":
        return row[fields[1]] or row[fields[2]]
    if dimension in ("queue", "type", "policy"):
        return bilingual(row[fields[1]], row[fields[2]])
    if dimension == "channel":
        return str(Channel(key).label) if key in Channel.values else key
    return row[fields[1]]


def breakdown(user, period: Period, dimension: str, *, clocks: QuerySet | None = None) -> list[dict]:
    """Per group of ``dimension``: first response and resolution counts, compliance and average times."""
    fields = DIMENSIONS[dimension]["fields"]
    records = clock_records(user, period)
    if records is not None:
        rows = _breakdown_rows(records, dimension)
    else:
        clocks = clocks if clocks is not None else stopped_clocks(user, period.start, period.end)
        rows = (
            clocks.values(*fields, "kind")
            .annotate(total=Count("pk"), met=Count("pk", filter=Q(breached_at__isnull=True)),
                      average=Avg("consumed"))
            .order_by()
        )
    groups: dict = {}
    params = period_params(period)
    param = DIMENSIONS[dimension]["param"]
    for row in rows:
        key = row[fields[0]]
        group = groups.get(key)
        if group is None:
            link = {}
            if param and key not in (None, ""):
                link = {param: key}
            elif param == "tier":
                link = {"tier": "null"}
            group = groups[key] = {"key": key, "name": _group_name(dimension, row), "link": link}
            for kind in KINDS:
                prefix = "fr" if kind == Kind.FIRST_RESPONSE else "res"
                group.update({f"{prefix}_total": 0, f"{prefix}_met": 0, f"{prefix}_compliance": None,
                              f"{prefix}_average": None, f"{prefix}_breached": 0,
                              f"{prefix}_url": "", f"{prefix}_breached_url": ""})
        prefix = "fr" if row["kind"] == Kind.FIRST_RESPONSE else "res"
        group[f"{prefix}_total"] = row["total"]
        group[f"{prefix}_met"] = row["met"]
        group[f"{prefix}_breached"] = row["total"] - row["met"]
        group[f"{prefix}_compliance"] = metrics.share(row["met"], row["total"])
        group[f"{prefix}_average"] = as_seconds(row["average"])
        if group["link"] or not param:
            group[f"{prefix}_url"] = ticket_list_url(sla_clock=row["kind"], **params, **group["link"]) if param else ""
            group[f"{prefix}_breached_url"] = (
                ticket_list_url(sla_clock=row["kind"], sla_result="breached", **params, **group["link"]) if param
                else ""
            )
    return sorted(groups.values(), key=lambda g: (-(g["fr_total"] + g["res_total"]), str(g["name"])))


# The rollup column of each breakdown, and how to name its values (one query per breakdown).
_ROLLUP_DIMENSION = {
    "agent": "performer_id", "queue": "queue_id", "type": "ticket_type_id", "tier": "tier_id",
    "channel": "channel", "policy": "policy_id",
}


def _names(dimension: str, ids: set) -> dict:
    """id → the row fields ``_group_name`` reads, as the clocks' query would have given them."""
    fields = DIMENSIONS[dimension]["fields"]
    ids = {i for i in ids if i not in (None, "")}
    if dimension == "channel" or not ids:
        return {}
    if dimension == "agent":
        found = get_user_model().objects.filter(pk__in=ids).values_list("pk", "profile__display_name", "username")
    elif dimension == "queue":
        found = Queue.objects.filter(pk__in=ids).values_list("pk", "name", "name_ru")
    elif dimension == "type":
        found = TicketType.objects.filter(pk__in=ids).values_list("pk", "name", "name_ru")
    elif dimension == "tier":
        found = VipTier.objects.filter(pk__in=ids).values_list("pk", "name")
    else:
        found = SLAPolicy.objects.filter(pk__in=ids).values_list("pk", "name", "name_ru")
    return {row[0]: dict(zip(fields[1:], row[1:], strict=True)) for row in found}


def _breakdown_rows(records, dimension: str) -> list[dict]:
    """The clocks' breakdown rows (ids, names, kind, total, met, average) summed from rollup records."""
    column = _ROLLUP_DIMENSION[dimension]
    fields = DIMENSIONS[dimension]["fields"]
    sums = records.grouped(column)
    names = _names(dimension, {key for key, _kind in sums})
    rows = []
    for (key, kind), (total, met, consumed) in sums.items():
        row = {fields[0]: key, **dict.fromkeys(fields[1:]), **names.get(key, {})}
        row.update(kind=kind, total=total, met=met, average=timedelta(seconds=consumed / total) if total else None)
        rows.append(row)
    return rows
