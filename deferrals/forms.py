"""Forms of the deferral workflow; the views hand the cleaned data to ``deferrals.services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.dates import BoundedDateTimeField
from core.forms import ModelChoiceField
from deferrals import selectors as deferral_selectors
from deferrals.models import DeferralRequest
from tickets.forms import DateTimeLocalInput


class CauseChoiceField(ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


class DeferralRequestForm(forms.Form):
    """Asking for a deferral, and giving the cause of an automatically opened request."""

    cause = CauseChoiceField(
        label=_("Cause"), queryset=deferral_selectors.active_causes(), empty_label=_("— why is it late? —")
    )
    explanation = forms.CharField(
        label=_("Explanation"),
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("What happened, and what is needed now.")}),
        error_messages={"required": _("Explain why the deadline cannot be met.")},
    )
    proposed_deadline = BoundedDateTimeField(label=_("Proposed deadline"), widget=DateTimeLocalInput())


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Verdict"),
        choices=[
            (DeferralRequest.Status.OBJECTIVE.value, _("Objective: the cause was outside the performer's control")),
            (DeferralRequest.Status.SUBJECTIVE.value, _("Subjective: the performer is responsible for the delay")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a verdict: objective or subjective.")},
    )
    new_deadline = BoundedDateTimeField(label=_("New deadline"), widget=DateTimeLocalInput())
    comment = forms.CharField(
        label=_("Comment for the performer"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class DeclineForm(forms.Form):
    comment = forms.CharField(
        label=_("Why is it declined?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the request is declined.")},
    )
