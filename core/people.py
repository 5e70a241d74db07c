"""How people are named and referenced in history rows (no tables of its own)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def display_name(user) -> str:
    """The name a person is shown under in the portal (``System`` for no one)."""
    if user is None:
        return str(_("System"))
    profile = getattr(user, "profile", None)
    return name_from(profile.display_name if profile is not None else None, user.first_name, user.last_name,
                     user.get_username())


def name_from(profile_name: str | None, first_name: str, last_name: str, username: str) -> str:
    """:func:`display_name` from a person's columns: the profile's name, else the full name, else the username."""
    return profile_name or f"{first_name} {last_name}".strip() or username


def user_ref(user) -> dict | None:
    """A person as history rows store them: ``{"id": …, "name": …}`` (the name as it was then)."""
    return None if user is None else {"id": user.pk, "name": display_name(user)}


def iso(value) -> str | None:
    """An instant as history rows store it (ISO 8601), or None."""
    return value.isoformat() if value is not None else None
