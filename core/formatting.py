"""Formatting shared by pages, tables, notices and history sentences (no tables of its own)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.translation import gettext as _


def format_dt(value: datetime | None) -> str:
    """A short date and time in the active (viewer's) time zone: "22 Nov, 15:30" or "3 Jan 2024, 09:00"."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    # What ``formats.date_format(local, "j M, H:i")`` (or "j M Y, H:i") prints, without parsing the format and
    # probing the locale's format modules on every call: tables print two or three of these per row.
    day_month = f"{local.day} {MONTHS_3[local.month].title()}"
    if local.year == timezone.localtime().year:
        return f"{day_month}, {local.hour:02d}:{local.minute:02d}"
    return f"{day_month} {local.year:04d}, {local.hour:02d}:{local.minute:02d}"


def format_duration(value: timedelta) -> str:
    """Human business time: "2 h 15 min", "45 min", "3 h", "less than a minute", "0 min"."""
    seconds = abs(value).total_seconds()
    if seconds == 0:
        return _("0 min")
    hours, minutes = divmod(int(seconds // 60), 60)
    if hours and minutes:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    if hours:
        return _("%(hours)d h") % {"hours": hours}
    if minutes:
        return _("%(minutes)d min") % {"minutes": minutes}
    return _("less than a minute")
