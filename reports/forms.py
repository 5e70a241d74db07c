"""The filter form of the discipline report (GET): period in the viewer's zone, team, queue, type."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dates import BoundedDateField
from core.forms import ModelChoiceField, PersonChoiceField
from deferrals.models import DeferralRequest
from reports import access as report_access
from reports import selectors
from tickets import selectors as ticket_selectors


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class QueueChoiceField(ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


class DisciplineFilterForm(forms.Form):
    date_from = BoundedDateField(label=_("From"), required=False, widget=DateInput())
    date_to = BoundedDateField(label=_("To"), required=False, widget=DateInput())
    team = PersonChoiceField(label=_("Team of"), queryset=selectors.team_leads(), required=False,
                             empty_label=_("Everybody"))
    queue = QueueChoiceField(label=_("Queue"), queryset=ticket_selectors.active_queues(), required=False,
                             empty_label=_("Any queue"))
    ticket_type = QueueChoiceField(label=_("Type"), queryset=ticket_selectors.active_types(), required=False,
                                   empty_label=_("Any type"))

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        if not report_access.sees_all_teams(viewer):
            del self.fields["team"]  # a manager sees their own team only

    def clean(self):
        data = super().clean()
        default = selectors.current_month(timezone.localdate(), timezone.get_current_timezone())
        first = data.get("date_from") or default.first
        last = data.get("date_to") or max(default.last, first)
        if last < first:
            self.add_error("date_to", _("The end of the period cannot be before its start."))
            last = first
        data["period"] = selectors.Period(first, last, timezone.get_current_timezone())
        data.setdefault("team", None)
        return data

    def report_filters(self) -> dict:
        data = self.cleaned_data
        return {"team": data.get("team"), "queue": data.get("queue"), "ticket_type": data.get("ticket_type")}


class DrillDownForm(DisciplineFilterForm):
    employee = forms.IntegerField()
    verdict = forms.ChoiceField(required=False, choices=[("", "")] + [
        (s.value, s.label) for s in DeferralRequest.Status if s != DeferralRequest.Status.PENDING
    ])
    on_time = forms.BooleanField(required=False)
