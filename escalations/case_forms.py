"""Forms of the escalation-case pages: they parse and validate; ``escalations.cases`` decides."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from core.dates import BoundedDateField, BoundedDateTimeField
from core.forms import IdsMultipleChoiceField, ModelChoiceField, PersonChoiceField
from escalations.models import AffectedService, CaseCause, CaseSeverity, CaseStatus
from tickets.models import Customer, Queue, Ticket, display_name
from tickets.selectors import people


class PeopleChoiceField(IdsMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return display_name(obj)


class LabelMultipleChoiceField(IdsMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


def _dt_widget():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CaseOpenForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    severity = forms.ChoiceField(label=_("Severity"), choices=CaseSeverity.choices, initial=CaseSeverity.SEV2)
    owner = PersonChoiceField(label=_("Owner (escalation manager)"), queryset=people())
    triggering_criteria = forms.CharField(
        label=_("Triggering criteria"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
        help_text=_("Why this is a case: who is affected, since when, what is at stake."),
    )
    tickets = IdsMultipleChoiceField(
        label=_("Related tickets"), queryset=Ticket.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    services = LabelMultipleChoiceField(
        label=_("Affected services"), queryset=AffectedService.objects.filter(is_active=True), required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    members = PeopleChoiceField(label=_("Task force"), queryset=people(), required=False,
                                widget=forms.SelectMultiple(attrs={"size": 5}))

    def __init__(self, *args, user, ticket_ids=(), **kwargs):
        super().__init__(*args, **kwargs)
        visible = Ticket.objects.visible_to(user).select_related("customer")
        if not self.is_bound:
            visible = visible.filter(pk__in=list(ticket_ids))
        self.fields["tickets"].queryset = visible.order_by("pk")
        self.fields["tickets"].label_from_instance = lambda t: f"{t.reference} {t.title} · {t.customer.name}"


class UpdateForm(forms.Form):
    body = forms.CharField(label=_("Status update"), widget=forms.Textarea(attrs={"rows": 4}))
    public = forms.BooleanField(
        label=_("Public: also send it to the affected customers"), required=False,
        help_text=_("Sent as a public reply on every affected ticket."),
    )
    token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


class MemberForm(forms.Form):
    user = PersonChoiceField(label=_("Person"), queryset=people())


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Task"), max_length=200)
    performer = PersonChoiceField(label=_("Owner of the task"), queryset=people())
    queue = ModelChoiceField(label=_("Queue"), queryset=Queue.objects.filter(is_active=True))
    due = BoundedDateTimeField(label=_("Due"), widget=_dt_widget())
    description = forms.CharField(label=_("Details"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].label_from_instance = lambda q: q.label


class LinkTicketForm(forms.Form):
    ticket = forms.IntegerField(label=_("Ticket number"), min_value=1)


class LinkCustomerForm(forms.Form):
    customer = ModelChoiceField(label=_("Customer"), queryset=Customer.objects.order_by("name"))


class LinkServiceForm(forms.Form):
    service = ModelChoiceField(label=_("Service"), queryset=AffectedService.objects.filter(is_active=True))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].label_from_instance = lambda s: s.label


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class ResolutionForm(forms.Form):
    summary = forms.CharField(label=_("Resolution"), widget=forms.Textarea(attrs={"rows": 3}))


class RcaForm(forms.Form):
    cause = forms.ChoiceField(label=_("Cause"), choices=CaseCause.choices, required=False)
    internal = forms.CharField(label=_("Internal analysis"), widget=forms.Textarea(attrs={"rows": 5}),
                               required=False)
    customer = forms.CharField(
        label=_("For the customers"), widget=forms.Textarea(attrs={"rows": 4}), required=False,
        help_text=_("Sent to the affected customers only after the owner approves it."),
    )


class CloseForm(forms.Form):
    no_rca_reason = forms.CharField(
        label=_("Why no root-cause analysis is needed"), widget=forms.Textarea(attrs={"rows": 2}), required=False,
        help_text=_("Only when the analysis is not complete."),
    )

    def __init__(self, *args, tickets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket_fields = []
        for ticket in tickets:
            name = f"ticket_{ticket.pk}"
            self.fields[name] = forms.ChoiceField(
                label=f"{ticket.reference} {ticket.title}",
                choices=[("hand_back", _("Hand back (leave open)")), ("close", _("Close (done)"))],
                initial="hand_back", widget=forms.RadioSelect, required=False,
            )
            self.ticket_fields.append(name)

    def ticket_actions(self) -> dict[int, str]:
        return {
            int(name.removeprefix("ticket_")): self.cleaned_data[name] or "hand_back" for name in self.ticket_fields
        }


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("Open and resolved")), *CaseStatus.choices, ("all", _("All"))],
    )
    severity = forms.ChoiceField(label=_("Severity"), required=False, choices=[("", _("Any")), *CaseSeverity.choices])
    mine = forms.BooleanField(label=_("Mine only"), required=False)
    missed = forms.BooleanField(label=_("Missed update"), required=False)


class ReportForm(forms.Form):
    start = BoundedDateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}), required=False)
    end = BoundedDateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}), required=False)
