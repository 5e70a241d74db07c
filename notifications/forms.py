"""The notification settings form: channels per urgency, digest window, quiet hours, contacts."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import NotificationChannel, NotificationSettings, Urgency
from notifications.work import WorkKind

_PHONE_RE = re.compile(r"\+?[0-9]{7,15}")
_HANDLE_RE = re.compile(r"@?[A-Za-z0-9_.+-]{2,63}")


class NotificationSettingsForm(forms.ModelForm):
    routine_channels = forms.MultipleChoiceField(
        label=_("Routine notices"),
        choices=NotificationChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    important_channels = forms.MultipleChoiceField(
        label=_("Important notices"),
        choices=NotificationChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    critical_channels = forms.MultipleChoiceField(
        label=_("Critical notices"),
        choices=NotificationChannel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    work_notices = forms.MultipleChoiceField(
        label=_("Work notices"),
        choices=WorkKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "Untick what you do not want to hear about. Escalations and deferral requests always reach you."
        ),
    )

    class Meta:
        model = NotificationSettings
        fields = [
            "routine_channels",
            "important_channels",
            "critical_channels",
            "digest_window_minutes",
            "quiet_hours",
            "messenger_handle",
            "phone",
        ]
        help_texts = {
            "messenger_handle": _("Your Telegram or WhatsApp name on the messenger bridge, e.g. @aigerim."),
            "phone": _("International format, e.g. +77011234567."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        muted = set(self.instance.muted_kinds or ())
        self.fields["work_notices"].initial = [k for k in WorkKind.values if k not in muted]

    def save(self, commit: bool = True):
        wanted = set(self.cleaned_data.get("work_notices") or ())
        self.instance.muted_kinds = [k for k in WorkKind.values if k not in wanted]
        return super().save(commit=commit)

    def urgency_fields(self):
        """The three channel fields with their urgency, for the settings table."""
        return [(Urgency(u), self[f"{u}_channels"]) for u in Urgency.values]

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone", "").strip()
        if not raw:
            return ""
        phone = re.sub(r"[\s()-]", "", raw)
        if not _PHONE_RE.fullmatch(phone):
            raise forms.ValidationError(_("Enter a phone number with 7 to 15 digits, e.g. +77011234567."))
        return phone

    def clean_messenger_handle(self) -> str:
        handle = self.cleaned_data.get("messenger_handle", "").strip()
        if handle and not _HANDLE_RE.fullmatch(handle):
            raise forms.ValidationError(_("Use letters, digits and _ . + - only, e.g. @aigerim or +77011234567."))
        return handle

    def clean(self):
        cleaned = super().clean()
        for urgency in Urgency:
            field = f"{urgency.value}_channels"
            if field in self.errors:
                continue
            chosen = cleaned.get(field) or []
            if not chosen:
                self.add_error(field, _("Choose at least one channel."))
            elif urgency == Urgency.CRITICAL and NotificationChannel.IN_APP not in chosen:
                self.add_error(field, _("Critical notices always go to the in-app inbox."))
            else:
                cleaned[field] = [c for c in NotificationChannel.values if c in chosen]
        return cleaned
