"""The discipline table (django-tables2): sortable on every number, each number a drill-down link."""

from __future__ import annotations

from urllib.parse import urlencode

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.formatting import format_duration
from reports.selectors import share_percent
from tickets.models import display_name

NUMBER = {"td": {"class": "num"}, "th": {"class": "num"}}


class DisciplineTable(tables.Table):
    employee = tables.Column(verbose_name=_("Employee"), accessor="pk",
                             order_by=("profile__display_name", "username"))
    completed = tables.Column(verbose_name=_("Completed"), attrs=NUMBER)
    on_time = tables.Column(verbose_name=_("On time"), attrs=NUMBER)
    objective = tables.Column(verbose_name=_("Objective"), attrs=NUMBER)
    subjective = tables.Column(verbose_name=_("Subjective"), attrs=NUMBER)
    declined = tables.Column(verbose_name=_("Declined"), attrs=NUMBER)
    lead_time = tables.Column(verbose_name=_("Decision time"), attrs=NUMBER, default="—")
    coefficient = tables.Column(verbose_name=_("Coefficient"), attrs=NUMBER)
    objective_share = tables.Column(verbose_name=_("Objective share"), attrs=NUMBER)

    class Meta:
        template_name = "tickets/_table.html"
        attrs = {"class": "table discipline-table"}
        order_by = ("profile__display_name",)
        empty_text = _("Nobody in this report: the team has no members.")
        row_attrs = {"data-employee": lambda record: record.pk}

    def __init__(self, *args, params: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.params = {k: v for k, v in params.items() if v not in (None, "")}

    def _link(self, name: str, value, **extra) -> str:
        query = urlencode({**self.params, **extra})
        return format_html('<a href="{}?{}" data-metric="{}">{}</a>', reverse(name), query, extra.get("metric"), value)

    def render_employee(self, record):
        return display_name(record)

    def render_completed(self, record, value):
        return self._link("reports:completed", value, employee=record.pk, metric="completed")

    def render_on_time(self, record, value):
        return self._link("reports:completed", value, employee=record.pk, on_time="on", metric="on_time")

    def _verdict(self, record, value, verdict):
        return self._link("reports:deferrals", value, employee=record.pk, verdict=verdict, metric=verdict)

    def render_objective(self, record, value):
        return self._verdict(record, value, "objective")

    def render_subjective(self, record, value):
        return self._verdict(record, value, "subjective")

    def render_declined(self, record, value):
        return self._verdict(record, value, "declined")

    def render_lead_time(self, record, value):
        return self._link("reports:deferrals", format_duration(value), employee=record.pk, metric="lead_time")

    def value_lead_time(self, record, value):
        return None if value is None else round(value.total_seconds() / 3600, 1)

    def render_coefficient(self, record, value):
        css = "coef-negative" if value < 0 else "coef-positive" if value > 0 else ""
        return format_html('<span class="{}" data-metric="coefficient">{}</span>', css, value)

    def render_objective_share(self, record):
        share = share_percent(record.objective, record.subjective)
        return "—" if share is None else f"{share} %"

    def value_objective_share(self, record):
        return share_percent(record.objective, record.subjective)
