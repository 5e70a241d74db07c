"""Filter forms (GET) of the dashboard and the reports: a period in the viewer's zone, plus narrowing fields."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dates import BoundedDateField
from reports.dashboard.common import preset
from reports.forms import DateInput, QueueChoiceField
from reports.selectors import Period
from tickets import selectors as ticket_selectors

PRESETS = [("today", _("Today")), ("7d", _("7 days")), ("30d", _("30 days")), ("custom", _("Custom"))]
MAX_DAYS = 731


class PeriodForm(forms.Form):
    """``period`` is a preset (today, 7 or 30 days ending today) or custom dates, whole days in the viewer's zone."""

    period = forms.ChoiceField(label=_("Period"), choices=PRESETS, required=False)
    date_from = BoundedDateField(label=_("From"), required=False, widget=DateInput())
    date_to = BoundedDateField(label=_("To"), required=False, widget=DateInput())
    default_preset = "7d"

    def clean(self):
        data = super().clean()
        tz = timezone.get_current_timezone()
        today = timezone.localdate()
        choice = data.get("period") or ("custom" if data.get("date_from") or data.get("date_to") else "")
        choice = choice or self.default_preset
        if choice != "custom" and self._other_dates_than(preset(choice, today, tz), data):
            choice = "custom"  # dates typed over a preset (the form shows the preset's dates): they win
        if choice == "custom":
            last = data.get("date_to") or today
            first = data.get("date_from") or last - timedelta(days=6)
            if last < first:
                self.add_error("date_to", _("The end of the period cannot be before its start."))
                last = first
            if (last - first).days >= MAX_DAYS:
                self.add_error("date_from", _("A period can cover at most two years."))
                first = last - timedelta(days=MAX_DAYS - 1)
            data["period_obj"] = Period(first, last, tz)
        else:
            data["period_obj"] = preset(choice, today, tz)
        data["period"] = choice
        return data

    @staticmethod
    def _other_dates_than(period: Period, data) -> bool:
        given = (data.get("date_from"), data.get("date_to"))
        return given != (None, None) and given != (period.first, period.last)

    @classmethod
    def parse(cls, data, **kwargs):
        """A valid form for ``data``, falling back to the defaults when it is not valid; it shows the period in
        force."""
        form = cls(data, **kwargs)
        if not form.is_valid():
            errors = form.errors
            form = cls({}, **kwargs)
            form.is_valid()
            form.shown_errors = errors
        form.show_period_in_force()
        return form

    def show_period_in_force(self) -> None:
        """Make the fields show the period the figures cover: the preset in force (the default one when none was
        asked for) or "custom", with its first and last day. The selector never says "Today" over 30 days of
        figures, and pressing "Show" again gives the same figures."""
        period = self.the_period
        data = self.data.copy()
        data["period"] = self.cleaned_data["period"]
        data["date_from"] = period.first.isoformat()
        data["date_to"] = period.last.isoformat()
        self.data = data

    @property
    def the_period(self) -> Period:
        return self.cleaned_data["period_obj"]

    def query(self, **extra) -> dict:
        period = self.the_period
        params = {"period": self.cleaned_data["period"]}
        if params["period"] == "custom":
            params.update(date_from=period.first.isoformat(), date_to=period.last.isoformat())
        for name in self.fields:
            if name in ("period", "date_from", "date_to"):
                continue
            value = self.cleaned_data.get(name)
            if value not in (None, ""):
                params[name] = getattr(value, "pk", value)
        params.update(extra)
        return params


class ReportFilterForm(PeriodForm):
    """A period plus queue and type: narrows the tickets every figure of a report counts."""

    default_preset = "30d"
    queue = QueueChoiceField(label=_("Queue"), queryset=ticket_selectors.active_queues(), required=False,
                             empty_label=_("Any queue"))
    ticket_type = QueueChoiceField(label=_("Type"), queryset=ticket_selectors.active_types(), required=False,
                                   empty_label=_("Any type"))


class CalibrationForm(ReportFilterForm):
    default_preset = "30d"
    goal = forms.IntegerField(label=_("Compliance goal, %"), min_value=50, max_value=99, required=False,
                              widget=forms.NumberInput(attrs={"placeholder": "90"}))


class StaffingForm(ReportFilterForm):
    goal = forms.IntegerField(label=_("Answered within the target, %"), min_value=50, max_value=99,
                              required=False, widget=forms.NumberInput(attrs={"placeholder": "80"}))
    answer_within = forms.IntegerField(label=_("First-response target, minutes"), min_value=1, max_value=24 * 60,
                                       required=False,
                                       widget=forms.NumberInput(attrs={"placeholder": _("as observed")}))
    handling = forms.IntegerField(label=_("Handling time per ticket, minutes"), min_value=1, max_value=8 * 60,
                                  required=False, widget=forms.NumberInput(attrs={"placeholder": "30"}))
