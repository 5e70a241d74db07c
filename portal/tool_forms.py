"""Forms of the agent tools: the canned reply editor (the bulk bar is read by ``tickets.bulk`` itself)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets import canned
from tickets.models import CannedReply


def placeholder_help() -> str:
    return ", ".join(f"{{{{{name}}}}} — {label}" for name, label in canned.PLACEHOLDERS.items())


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["name", "name_ru", "queue", "body", "body_ru", "is_active"]
        widgets = {"body": forms.Textarea(attrs={"rows": 6}), "body_ru": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].empty_label = _("— every queue —")
        self.fields["queue"].queryset = self.fields["queue"].queryset.filter(is_active=True)
        for name in ("body", "body_ru"):
            self.fields[name].help_text = _("Placeholders: %(list)s.") % {"list": placeholder_help()}

    def clean(self):
        data = super().clean()
        if not (data.get("body") or "").strip() and not (data.get("body_ru") or "").strip():
            self.add_error("body_ru", _("Write the text in Russian, in English, or in both."))
        for name in ("body", "body_ru"):
            unknown = canned.fill(data.get(name) or "", {}).unknown
            if unknown:
                self.add_error(
                    name,
                    _("Unknown placeholders: %(names)s. Use only: %(known)s.")
                    % {
                        "names": ", ".join(f"{{{{{n}}}}}" for n in unknown),
                        "known": ", ".join(f"{{{{{n}}}}}" for n in canned.PLACEHOLDERS),
                    },
                )
        return data
