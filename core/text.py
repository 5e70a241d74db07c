"""Checks on text that crosses the boundary (API payloads, forms), whatever the database."""

from __future__ import annotations

from django.utils.translation import gettext as _


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None.

    NUL characters are refused by PostgreSQL text columns, and a lone surrogate (``"\\ud800"``,
    which JSON can carry) cannot be encoded at all; both are refused alike on every database.
    """
    if "\x00" in value:
        return _("Must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("Must be valid Unicode text (it contains an unpaired surrogate).")
    return None
