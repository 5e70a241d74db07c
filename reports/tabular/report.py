"""What a report is: sections of (title, django-tables2 table), and their CSV/XLSX export.

``export(report, fmt)`` writes the same sections to CSV (one block per section) or XLSX (one
sheet per section), with the values the columns' ``value()`` gives (durations as decimal hours,
shares as percent numbers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import django_tables2 as tables
from django.http import HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.formatting import format_duration
from reports.exports import csv_response, xlsx_response

NUMBER = {"td": {"class": "num"}, "th": {"class": "num"}}


def _fmt(kind: str, value) -> str:
    if value is None or value == "":
        return "—"
    if kind == "pct":
        return f"{value:g} %"
    if kind == "dur":
        return format_duration(timedelta(seconds=round(value)))
    if kind == "hours":
        return f"{value:g}"
    return str(value)


def _export_value(kind: str, value):
    if value is None:
        return ""
    if kind == "dur":
        return round(value / 3600, 2)
    return value


class ReportColumn(tables.Column):
    """A column of a report: ``kind`` text | int | pct | dur (business seconds) | hours; optional link key."""

    def __init__(self, kind: str = "text", *, link: str | None = None, **kwargs):
        self.kind = kind
        self.link_key = link
        kwargs.setdefault("empty_values", ())
        if kind != "text":
            kwargs.setdefault("attrs", NUMBER)
        super().__init__(**kwargs)

    def render(self, record, value):
        text = _fmt(self.kind, value)
        url = record.get(self.link_key) if self.link_key else ""
        return format_html('<a href="{}">{}</a>', url, text) if url else text

    def value(self, record, value):
        return _export_value(self.kind, value)


class ReportTable(tables.Table):
    class Meta:
        template_name = "tickets/_table.html"
        attrs = {"class": "table report-table"}
        empty_text = gettext_lazy("Nothing in this period.")


def table(rows: list[dict], columns: list[tuple], *, prefix: str) -> ReportTable:
    """``columns``: (key, header, kind[, link key])."""
    extra = []
    for spec in columns:
        key, header, kind = spec[:3]
        link = spec[3] if len(spec) > 3 else None
        header_text = f"{header}, {_('h')}" if kind == "dur" else header
        extra.append((key, ReportColumn(kind, link=link, verbose_name=header_text, accessor=key)))
    return ReportTable(rows, extra_columns=extra, prefix=prefix)


@dataclass
class Section:
    key: str
    title: str
    table: ReportTable
    note: str = ""
    chart: object = None


@dataclass
class Report:
    name: str
    title: str
    intro: str
    period: object
    sections: list[Section] = field(default_factory=list)
    advice: str = ""

    @property
    def filename(self) -> str:
        return f"{self.name}_{self.period.first:%Y-%m-%d}_{self.period.last:%Y-%m-%d}"


def export(report: Report, fmt: str) -> HttpResponse:
    """The report as CSV (every section under its title) or XLSX (a sheet per section)."""
    span = [f"{report.period.first:%Y-%m-%d}", f"{report.period.last:%Y-%m-%d}"]
    if fmt == "xlsx":
        period_row = [_("Period"), " – ".join(span)]
        sheets = [(section.title, [period_row, *section.table.as_values()]) for section in report.sections]
        return xlsx_response(f"{report.filename}.xlsx", sheets)
    rows = [[report.title, *span]]
    for section in report.sections:
        rows += [[], [section.title], *section.table.as_values()]
    return csv_response(f"{report.filename}.csv", rows)
