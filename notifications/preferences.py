"""Per-person notification preferences: channels per urgency, digest window, quiet hours.

``NotificationSettings`` rows are created lazily: until a person saves the
settings page, ``settings_for`` returns an unsaved row with the defaults
(routine → in-app; important → in-app + email; critical → every channel).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings as django_settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from notifications.models import NotificationChannel, NotificationSettings, Urgency, WebhookEndpoint

logger = logging.getLogger(__name__)


def settings_for(user) -> NotificationSettings:
    """The person's saved settings, or an unsaved row holding the defaults (no write on read)."""
    try:
        return user.notification_settings
    except ObjectDoesNotExist:
        return NotificationSettings(user=user)


def language_for(user) -> str:
    """The language notices to ``user`` are written in: their profile's, else the site default."""
    try:
        language = user.profile.language
    except ObjectDoesNotExist:
        language = ""
    return language or django_settings.LANGUAGE_CODE


def time_zone_for(user) -> str:
    try:
        return user.profile.time_zone or django_settings.TIME_ZONE
    except ObjectDoesNotExist:
        return django_settings.TIME_ZONE


def working_calendar_for(user):
    """The person's working calendar (a ``sla.businesstime.WorkCalendar``), or None for "always on shift".

    Reads ``user.profile.work_calendar`` (an ``sla.Calendar``); empty means always on shift.
    """
    try:
        calendar = user.profile.work_calendar
    except ObjectDoesNotExist:
        return None
    if calendar is None:
        return None
    try:
        return calendar.work_calendar()
    except ValueError:
        # A broken calendar must not hold notices back: treat the person as on shift.
        logger.exception("invalid work calendar %s of user %s", calendar, user.pk)
        return None


def is_quiet(urgency: str, prefs: NotificationSettings) -> bool:
    """Whether quiet hours may hold a notice of ``urgency`` back: never for critical ones."""
    return prefs.quiet_hours and urgency != Urgency.CRITICAL


def not_before(at: datetime, calendar) -> datetime:
    """``at`` if the person is on shift then, else the start of their next working window."""
    if calendar is None or calendar.is_working(at):
        return at
    try:
        return calendar.next_opening(at)
    except ValueError:
        # A calendar without any working time must not swallow notices.
        logger.warning("working calendar has no working time; delivering at once")
        return at


def release_at(*, now: datetime, urgency: str, prefs: NotificationSettings, calendar, digestible: bool) -> datetime:
    """When an outbox delivery becomes due.

    Digestible (routine) deliveries wait out the digest window; quiet hours move
    non-critical ones to the start of the next working window.
    """
    at = now + timedelta(minutes=prefs.digest_window_minutes) if digestible else now
    if is_quiet(urgency, prefs):
        at = not_before(at, calendar)
    return at


def unreachable_channels(user, prefs: NotificationSettings) -> list[tuple[str, str]]:
    """Chosen channels that cannot reach ``user`` yet, with the reason (their deliveries would be skipped)."""
    chosen = {c for urgency in Urgency.values for c in prefs.channels_for(urgency)}
    problems = []
    if NotificationChannel.EMAIL in chosen and not (user.email or "").strip():
        problems.append((NotificationChannel.EMAIL.label, _("your account has no email address")))
    if NotificationChannel.WEBHOOK in chosen:
        if not prefs.messenger_handle:
            problems.append((NotificationChannel.WEBHOOK.label, _("no messenger handle")))
        elif not WebhookEndpoint.objects.filter(is_active=True).exists():
            problems.append((NotificationChannel.WEBHOOK.label, _("no messenger bridge is set up yet")))
    if NotificationChannel.SMS in chosen and not prefs.phone:
        problems.append((NotificationChannel.SMS.label, _("no phone number")))
    return problems
