"""Formatting shared by pages, tables, notices and history sentences (no tables of its own)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import formats, timezone
from django.utils.translation import gettext as _


def format_dt(value: datetime | None) -> str:
    """A short date and time in the active (viewer's) time zone: "22 Nov, 15:30" or "3 Jan 2024, 09:00"."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    fmt = "j M, H:i" if local.year == timezone.localtime().year else "j M Y, H:i"
    return formats.date_format(local, fmt)


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
