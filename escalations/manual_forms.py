"""Forms of the manual escalations on the ticket page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import ModelChoiceField
from tickets.models import Queue, Ticket


class FunctionalEscalationForm(forms.Form):
    queue = ModelChoiceField(label=_("To queue"), queryset=Queue.objects.none(), empty_label=_("— choose —"))
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why this queue: e.g. a payment question for finance."),
    )

    def __init__(self, *args, ticket: Ticket, **kwargs):
        super().__init__(*args, prefix="functional", **kwargs)
        self.fields["queue"].queryset = Queue.objects.filter(is_active=True).exclude(pk=ticket.queue_id)


class HierarchicalEscalationForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What decision or exception is needed."),
    )
    assign = forms.BooleanField(label=_("Also hand the ticket over"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="hierarchical", **kwargs)
