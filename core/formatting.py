"""Formatting shared by pages, tables and history sentences (no tables of its own)."""

from __future__ import annotations

from datetime import datetime

from django.utils import formats, timezone


def format_dt(value: datetime | None) -> str:
    """A short date and time in the active (viewer's) time zone: "22 Nov, 15:30" or "3 Jan 2024, 09:00"."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    fmt = "j M, H:i" if local.year == timezone.localtime().year else "j M Y, H:i"
    return formats.date_format(local, fmt)
