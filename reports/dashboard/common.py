"""What every section of the dashboard shares.

The clock kinds counted, the previous period and the presets, the bucket (period or previous
period) of a row, links to the ticket list, names in the viewer's language, the ``Figure``,
durations, and the rollup records a period reads when they are built (``reports.clockfigures``,
``reports.ticketfigures``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote_plus

from django.conf import settings
from django.db.models import Case, IntegerField, Q, Value, When
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

from core.formatting import format_duration
from reports import clockfigures, metrics, ticketfigures
from reports.dashboard.scoping import as_scope
from reports.selectors import Period
from sla.models import SLAClock

Kind = SLAClock.Kind
State = SLAClock.State
KINDS = (Kind.FIRST_RESPONSE, Kind.RESOLUTION)
ZERO = timedelta(0)
# Firings the demo seed wrote are not escalations. ``exclude(data__seeded=True)`` would also drop every
# firing without the key (SQL: NOT (NULL = true) is NULL), so say "no key, or not true".
NOT_SEEDED = (Q(data__seeded__isnull=True) | Q(data__seeded=False)) & Q(acted=True)  # and not a second clock's record


def previous(period: Period) -> Period:
    days = (period.last - period.first).days + 1
    return Period(period.first - timedelta(days=days), period.first - timedelta(days=1), period.tz)


def preset(name: str, today: date, tz) -> Period:
    """today | 7d | 30d: whole local days ending today."""
    days = {"today": 1, "7d": 7, "30d": 30}[name]
    return Period(today - timedelta(days=days - 1), today, tz)


def period_bucket(field_name: str, period: Period):
    """1 for rows in the period, 0 for the previous period (the query covers both)."""
    return Case(
        When(**{f"{field_name}__gte": period.start}, then=Value(1)), default=Value(0), output_field=IntegerField()
    )


def period_and_previous(field_name: str, period: Period) -> Q:
    return Q(**{f"{field_name}__gte": previous(period).start, f"{field_name}__lt": period.end})


_PLAIN = re.compile(r"[A-Za-z0-9_.\-]*")


@functools.cache
def _list_path(prefix: str, urlconf) -> str:
    return reverse("tickets:list", urlconf=urlconf)


def _encoded(value) -> str:
    text = str(value)
    return text if _PLAIN.fullmatch(text) else quote_plus(text)


def ticket_list_url(**params) -> str:
    """The ticket list filtered by ``params`` (the page has a few hundred of these links: kept cheap)."""
    query = "&".join(
        f"{key}={'on' if value is True else _encoded(value)}"
        for key, value in params.items()
        if value not in (None, "", False)
    )
    path = _list_path(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    return f"{path}?{query}" if query else path


def period_params(period: Period) -> dict:
    return {"period_from": period.first.isoformat(), "period_to": period.last.isoformat()}


def bilingual(name: str, name_ru: str) -> str:
    return name_ru if name_ru and (get_language() or "").startswith("ru") else (name or "")


@dataclass(frozen=True)
class Figure:
    label: str
    value: object
    url: str = ""
    change: metrics.Change | None = None
    unit: str = ""
    key: str = ""


def as_seconds(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # SQLite hands averages of durations over as microseconds


def duration_text(seconds: float | None) -> str:
    return "—" if seconds is None else format_duration(timedelta(seconds=round(seconds)))


def ticket_records(who, period: Period):
    """The period's ticket rollup records (``reports.ticketfigures``), or ``None``: then the tickets are read."""
    return ticketfigures.ticket_records(as_scope(who), period, previous(period))


def clock_records(who, period: Period):
    """The period's rollup records (``reports.clockfigures``), or ``None``: then the clocks are read."""
    return clockfigures.rollup_records(as_scope(who), period, previous(period))
