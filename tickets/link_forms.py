"""The forms of the ticket page's link and merge panels: a ticket number ("1042" or "#1042") and a kind."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.links import CHILD
from tickets.models import LinkKind

_REFERENCE = re.compile(r"#?\s*(\d{1,18})")


_NUMBER_ATTRS = {"inputmode": "numeric", "placeholder": "#1042", "autocomplete": "off", "maxlength": 25}


class TicketNumberField(forms.CharField):
    """A ticket number as typed: ``1042`` or ``#1042``; cleans to an int (the ticket is looked up by the view)."""

    MAX_LENGTH = 25

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        if len(text) > self.MAX_LENGTH:
            raise forms.ValidationError(_("Enter a ticket number, such as 1042 or #1042."), code="invalid")
        match = _REFERENCE.fullmatch(text.strip())
        if not match or int(match.group(1)) == 0:
            raise forms.ValidationError(_("Enter a ticket number, such as 1042 or #1042."), code="invalid")
        return int(match.group(1))


class MergeForm(forms.Form):
    into = TicketNumberField(
        label=_("Merge into ticket"),
        help_text=_("This ticket is closed as a duplicate; its messages, files and observers move there."),
        widget=forms.TextInput(attrs=_NUMBER_ATTRS),
    )


def link_choices() -> list[tuple[str, str]]:
    """The kinds the link form offers: "child of" writes a parent link the other way round (``tickets.links``)."""
    return [
        (LinkKind.RELATED.value, _("Related to")),
        (LinkKind.DUPLICATE.value, _("Duplicate of")),
        (LinkKind.PARENT.value, _("Parent of")),
        (CHILD, _("Child of")),
    ]


class LinkForm(forms.Form):
    kind = forms.ChoiceField(label=_("This ticket is"), choices=link_choices)
    other = TicketNumberField(
        label=_("Ticket"),
        widget=forms.TextInput(attrs=_NUMBER_ATTRS),
    )


class UnlinkForm(forms.Form):
    other = TicketNumberField(label=_("Ticket"), widget=forms.HiddenInput)
