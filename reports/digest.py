"""The weekly "causes of delay" digest: one email per manager, in their language and time zone.

The django-q2 schedule ``reports.weekly_digest`` (weekly, ``escalations/schedules.py``) calls
:func:`send_weekly_digests`. Each manager gets the last complete local week (Monday–Sunday in
their zone): the week's compliance for first response and resolution, the share closed on time,
and the top causes of delay (business time waiting by blocking reason), each beside the week
before. A ``DigestSent`` row per (manager, week) makes a second run, or a concurrent one, send
nothing twice.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from reports.dashboard.common import previous
from reports.dashboard.period import period_figures
from reports.dashboard.waiting import waiting_by_reason
from reports.models import DigestSent
from reports.selectors import Period
from tickets import access

logger = logging.getLogger(__name__)
TOP_CAUSES = 5


def last_week(today: date, tz) -> Period:
    """Monday–Sunday of the last complete week before ``today``."""
    this_monday = today - timedelta(days=today.weekday())
    return Period(this_monday - timedelta(days=7), this_monday - timedelta(days=1), tz)


def recipients():
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, groups__name=access.MANAGER)
        .exclude(email="")
        .select_related("profile")
        .order_by("pk")
        .distinct()
    )


def _zone(user):
    try:
        return zoneinfo.ZoneInfo(user.profile.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, AttributeError):  # a broken zone: the site's
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _language(user) -> str:
    profile = getattr(user, "profile", None)
    return (profile.language if profile is not None else "") or settings.LANGUAGE_CODE


def digest_context(user, period: Period) -> dict:
    """What the digest says, computed as the dashboard computes it (scoped to what ``user`` may see)."""
    figures = period_figures(user, period)
    site = settings.NOTIFY_SITE_URL.rstrip("/")
    query = f"?period=custom&date_from={period.first.isoformat()}&date_to={period.last.isoformat()}"
    causes = waiting_by_reason(user, period, limit=TOP_CAUSES)
    previous_causes = {c["key"]: c["hours"] for c in waiting_by_reason(user, previous(period))}
    for cause in causes:
        cause["previous_hours"] = previous_causes.get(cause["key"], 0.0)
        cause["link"] = site + cause["url"]
    return {
        "recipient": user,
        "period": period,
        "compliance": figures.compliance,
        "on_time": figures.on_time,
        "causes": causes,
        "dashboard_link": site + reverse("reports:dashboard") + query,
        "delays_link": site + reverse("reports:delays") + query,
    }


def render_digest(user, period: Period) -> tuple[str, str, str]:
    """(subject, text, html) in the user's language and time zone."""
    with translation.override(_language(user)), timezone.override(_zone(user)):
        context = digest_context(user, period)
        subject = " ".join(render_to_string("reports/email/digest_subject.txt", context).split())
        text = render_to_string("reports/email/digest.txt", context)
        html = render_to_string("reports/email/digest.html", context)
    return subject, text, html


def send_weekly_digests(now: datetime | None = None) -> int:
    """Send last week's digest to every manager who has not had it; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    for user in recipients():
        tz = _zone(user)
        period = last_week(timezone.localtime(now, tz).date(), tz)
        try:
            with transaction.atomic():
                marker = DigestSent.objects.create(user=user, week_start=period.first)
        except IntegrityError:
            continue  # already sent for this week
        try:
            subject, text, html = render_digest(user, period)
            message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [user.email])
            message.attach_alternative(html, "text/html")
            message.send()
        except Exception:
            marker.delete()  # not sent: the next run tries again
            logger.exception("weekly digest to user %s failed", user.pk)
            continue
        sent += 1
    return sent


def weekly_digest_task() -> int:
    """django-q2 entry point."""
    return send_weekly_digests()
