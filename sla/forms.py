"""Forms of the SLA admin: calendar rows validated by the business-time engine, spec import, due helper."""

from __future__ import annotations

import json
import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sla.businesstime import WEEKDAYS, WorkCalendar
from sla.models import Calendar, CalendarOverride, CalendarWindow, _hhmm

_PAIR = re.compile(r"^\s*([0-9]{1,2}:[0-9]{2})\s*[-–—]\s*([0-9]{1,2}:[0-9]{2})\s*$")


def _engine_error(spec: dict) -> str | None:
    try:
        WorkCalendar.from_spec(spec)
    except ValueError as exc:
        return str(exc)
    return None


class CalendarForm(forms.ModelForm):
    class Meta:
        model = Calendar
        fields = [
            "name",
            "name_ru",
            "time_zone",
            "holiday_country",
            "holiday_subdivision",
            "holiday_years_from",
            "holiday_years_to",
        ]

    def clean_time_zone(self) -> str:
        value = (self.cleaned_data.get("time_zone") or "").strip()
        error = _engine_error({"tz": value})
        if error:
            raise ValidationError(error)
        return value

    def clean_holiday_country(self) -> str:
        import holidays  # heavy (every country's calendar): loaded only when a country is given

        value = (self.cleaned_data.get("holiday_country") or "").strip().upper()
        if value and value not in holidays.list_supported_countries():
            raise ValidationError(
                _("The holidays package does not know the country code “%(code)s”.") % {"code": value}
            )
        return value

    def clean(self):
        cleaned = super().clean()
        import holidays  # heavy: see clean_holiday_country

        country = cleaned.get("holiday_country")
        subdivision = (cleaned.get("holiday_subdivision") or "").strip().upper()
        cleaned["holiday_subdivision"] = subdivision
        if country and subdivision:
            known = holidays.list_supported_countries().get(country, [])
            if subdivision not in known:
                self.add_error(
                    "holiday_subdivision",
                    _("Unknown subdivision of %(country)s; known: %(known)s.")
                    % {"country": country, "known": ", ".join(known) or "-"},
                )
        first, last = cleaned.get("holiday_years_from"), cleaned.get("holiday_years_to")
        if first and last and last < first:
            self.add_error("holiday_years_to", _("The last year must not be before the first."))
        return cleaned


class CalendarWindowForm(forms.ModelForm):
    class Meta:
        model = CalendarWindow
        fields = ["weekday", "start", "end"]

    def clean_start(self) -> str:
        return _hhmm(self.cleaned_data.get("start", ""))

    def clean_end(self) -> str:
        return _hhmm(self.cleaned_data.get("end", ""))


class CalendarWindowFormSet(BaseInlineFormSet):
    """All weekly windows together must form a valid week (no overlaps on a day)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        week: dict[str, list[list[str]]] = {day: [] for day in WEEKDAYS}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("weekday") in (None, ""):
                continue
            week[WEEKDAYS[int(data["weekday"])]].append([data["start"], data["end"]])
        error = _engine_error({"tz": "UTC", "week": week})
        if error:
            raise ValidationError(_("Invalid working windows: %(error)s") % {"error": error})


class WindowsField(forms.CharField):
    """Windows of a date as text: "09:00-13:00, 14:00-18:00" (or a JSON list); empty = a day off."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", gettext_lazy("For example 09:00-13:00, 14:00-17:00. Empty: the date is a day off.")
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip().startswith("[") else value
            except ValueError:
                return value
        if isinstance(value, list | tuple):
            return ", ".join(f"{s}-{e}" for s, e in value)
        return value

    def to_python(self, value):
        text = (super().to_python(value) or "").strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except ValueError:
                raise ValidationError(_("Not a valid JSON list of [start, end] pairs.")) from None
            if not isinstance(parsed, list):
                raise ValidationError(_("Not a valid JSON list of [start, end] pairs."))
            return parsed
        windows = []
        for part in text.split(","):
            match = _PAIR.match(part)
            if not match:
                raise ValidationError(_("Write windows as HH:MM-HH:MM, separated by commas: “%(part)s”.") % {
                    "part": part.strip()})
            windows.append([_hhmm(match[1]), _hhmm(match[2])])
        return windows


class CalendarOverrideForm(forms.ModelForm):
    windows = WindowsField(label=gettext_lazy("windows"))

    class Meta:
        model = CalendarOverride
        fields = ["date", "windows", "note"]

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("date")
        windows = cleaned.get("windows")
        if day is not None and windows is not None:
            error = _engine_error({"tz": "UTC", "overrides": {day.isoformat(): windows}})
            if error:
                self.add_error("windows", error)
        return cleaned


class CalendarSpecImportForm(forms.Form):
    """Paste or upload a calendar spec (JSON); it is validated by the engine before anything changes."""

    name = forms.CharField(label=gettext_lazy("Name of the new calendar"), max_length=120, required=False)
    spec_text = forms.CharField(
        label=gettext_lazy("Calendar spec (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 16, "cols": 80, "spellcheck": "false"}),
    )
    spec_file = forms.FileField(label=gettext_lazy("…or upload a .json file"), required=False)

    def __init__(self, *args, require_name: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.require_name = require_name
        if not require_name:
            del self.fields["name"]

    def clean(self):
        cleaned = super().clean()
        if self.require_name and not (cleaned.get("name") or "").strip():
            self.add_error("name", _("A calendar needs a name."))
        upload = cleaned.get("spec_file")
        if upload is not None:
            if upload.size > 2 * 1024 * 1024:
                raise ValidationError(_("The file is too large (2 MB at most)."))
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError(_("The file is not UTF-8 text.")) from None
        else:
            text = cleaned.get("spec_text") or ""
        if not text.strip():
            raise ValidationError(_("Paste a calendar spec or choose a file."))
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _("Not valid JSON (line %(line)d, column %(column)d): %(error)s")
                % {"line": exc.lineno, "column": exc.colno, "error": exc.msg}
            ) from None
        error = _engine_error(spec)
        if error:
            raise ValidationError(_("Invalid calendar: %(error)s") % {"error": error})
        cleaned["spec"] = spec
        return cleaned


class DueHelperForm(forms.Form):
    """ "Due if started now + X": hours and minutes of business time."""

    due_hours = forms.IntegerField(label=gettext_lazy("hours"), min_value=0, max_value=100_000, initial=2)
    due_minutes = forms.IntegerField(label=gettext_lazy("minutes"), min_value=0, max_value=59, initial=0)
