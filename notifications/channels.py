"""Outbox channels: email, webhook (messenger bridges) and SMS through a provider interface.

A channel's ``send(message)`` either returns a short result for the admin
("HTTP 200 from relay"), or raises:

* ``NotConfigured``: the channel cannot reach this person (no address, no
  endpoint, no phone); the delivery is *skipped* with the reason, never
  reported as sent;
* ``PermanentFailure``: retrying cannot help (a 4xx answer); the delivery fails;
* any other exception (``DeliveryError``, network errors): retried with backoff.

The in-app channel has no class: the ``Notification`` row is the inbox entry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
import zoneinfo
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notifications import preferences
from notifications.models import Notification, NotificationChannel, NotificationSettings, WebhookEndpoint

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-OpsDesk-Signature"
DELIVERY_HEADER = "X-OpsDesk-Delivery"
SMS_MAX_CHARS = 320


class DeliveryError(Exception):
    """A temporary failure: the delivery is retried later."""


class PermanentFailure(DeliveryError):
    """Retrying cannot help: the delivery is marked failed at once."""


class NotConfigured(Exception):
    """The channel cannot reach this person; the delivery is skipped with this reason."""


def absolute_url(path: str) -> str:
    """``path`` on the public site address (``NOTIFY_SITE_URL``); absolute URLs pass through."""
    if path.startswith(("http://", "https://")):
        return path
    return settings.NOTIFY_SITE_URL.rstrip("/") + path


def open_url(notification: Notification) -> str:
    """The absolute link that marks ``notification`` read and leads to its target."""
    return absolute_url(reverse("notifications:open", args=[notification.pk]))


@dataclass
class Outgoing:
    """What one delivery attempt sends: one notification, or several as a digest."""

    recipient: object
    notifications: list[Notification]
    key: str  # stable across retries: the bridge may use it to drop duplicates
    prefs: NotificationSettings = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.prefs is None:
            self.prefs = preferences.settings_for(self.recipient)

    @property
    def is_digest(self) -> bool:
        return len(self.notifications) > 1

    @property
    def language(self) -> str:
        return preferences.language_for(self.recipient)

    @cached_property
    def time_zone(self):
        try:
            return zoneinfo.ZoneInfo(preferences.time_zone_for(self.recipient))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    def localized(self):
        """Context manager: the recipient's language and time zone."""
        return _Localized(self.language, self.time_zone)

    def context(self) -> dict:
        items = [{"notification": n, "link": open_url(n)} for n in self.notifications]
        return {
            "recipient": self.recipient,
            "items": items,
            "count": len(items),
            "notification": self.notifications[0],
            "link": items[0]["link"],
            "inbox_link": absolute_url(reverse("notifications:inbox")),
            "settings_link": absolute_url(reverse("notifications:settings")),
        }

    def short_text(self) -> str:
        """One line for SMS and messenger relays, in the recipient's language."""
        with self.localized():
            if self.is_digest:
                count = len(self.notifications)
                text = ngettext(
                    "OpsDesk: you have %(count)d new notification. %(link)s",
                    "OpsDesk: you have %(count)d new notifications. %(link)s",
                    count,
                ) % {"count": count, "link": absolute_url(reverse("notifications:inbox"))}
            else:
                n = self.notifications[0]
                text = _("OpsDesk · %(urgency)s: %(title)s %(link)s") % {
                    "urgency": n.get_urgency_display(),
                    "title": n.title,
                    "link": open_url(n),
                }
        return text if len(text) <= SMS_MAX_CHARS else text[: SMS_MAX_CHARS - 1] + "…"


class _Localized:
    def __init__(self, language: str, tz) -> None:
        self._translation = translation.override(language)
        self._tz = timezone.override(tz)

    def __enter__(self):
        self._translation.__enter__()
        self._tz.__enter__()
        return self

    def __exit__(self, *exc):
        self._tz.__exit__(*exc)
        self._translation.__exit__(*exc)
        return False


# --- Email ----------------------------------------------------------------------------


class EmailChannel:
    name = NotificationChannel.EMAIL

    def send(self, message: Outgoing) -> str:
        address = (getattr(message.recipient, "email", "") or "").strip()
        if not address:
            raise NotConfigured("no email address")
        template = "digest" if message.is_digest else "notification"
        with message.localized():
            context = message.context()
            subject = render_to_string(f"escalations/email/{template}_subject.txt", context)
            subject = " ".join(subject.split())
            text = render_to_string(f"escalations/email/{template}.txt", context)
            html = render_to_string(f"escalations/email/{template}.html", context)
        email = EmailMultiAlternatives(
            subject=subject,
            body=text,
            to=[address],
            headers={DELIVERY_HEADER: message.key, "Content-Language": message.language},
        )
        email.attach_alternative(html, "text/html")
        email.send()
        return f"sent to {address}"


# --- Webhook ---------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """The value of ``X-OpsDesk-Signature``: ``sha256=`` + HMAC-SHA256 of the raw body, hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without the body: refuse it, visibly."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def webhook_payload(message: Outgoing) -> dict:
    def ticket_of(n: Notification):
        if n.ticket_id is None:
            return None
        ticket = n.ticket
        return {"id": ticket.pk, "reference": ticket.reference, "title": ticket.title}

    with message.localized():
        text = message.short_text()
    return {
        "type": "digest" if message.is_digest else "notification",
        "delivery": message.key,
        "sent_at": timezone.now().isoformat(),
        "recipient": {
            "username": message.recipient.get_username(),
            "messenger": message.prefs.messenger_handle,
            "language": message.language,
        },
        "text": text,
        "notifications": [
            {
                "id": n.pk,
                "kind": n.kind,
                "urgency": n.urgency,
                "title": n.title,
                "body": n.body,
                "url": open_url(n),
                "ticket": ticket_of(n),
                "created_at": n.created_at.isoformat(),
            }
            for n in message.notifications
        ],
    }


class WebhookChannel:
    name = NotificationChannel.WEBHOOK

    def send(self, message: Outgoing) -> str:
        endpoint = WebhookEndpoint.objects.filter(is_active=True).order_by("pk").first()
        if endpoint is None:
            raise NotConfigured("no active webhook endpoint")
        if not message.prefs.messenger_handle:
            raise NotConfigured("no messenger handle")
        body = json.dumps(webhook_payload(message), ensure_ascii=False, separators=(",", ":")).encode()
        request = urllib.request.Request(
            endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "OpsDesk-Webhook/1",
                SIGNATURE_HEADER: sign(endpoint.secret, body),
                DELIVERY_HEADER: message.key,
            },
        )
        try:
            with _opener.open(request, timeout=endpoint.timeout) as response:
                status = response.status
                response.read(4096)
        except urllib.error.HTTPError as exc:
            if exc.code in (408, 425, 429) or exc.code >= 500:
                raise DeliveryError(f"HTTP {exc.code} from {endpoint.name}") from None
            raise PermanentFailure(f"HTTP {exc.code} from {endpoint.name}") from None
        except urllib.error.URLError as exc:
            raise DeliveryError(f"{endpoint.name} unreachable: {exc.reason}") from None
        except (TimeoutError, OSError) as exc:
            raise DeliveryError(f"{endpoint.name}: {exc or type(exc).__name__}") from None
        return f"HTTP {status} from {endpoint.name}"


# --- SMS -------------------------------------------------------------------------------


class SmsProvider:
    """Sends one text message. Subclass it for a real gateway and name it in ``SMS_PROVIDER``.

    ``send`` returns a short result (a provider message id, say) and raises
    ``DeliveryError`` for a temporary failure, ``PermanentFailure`` otherwise.
    """

    def send(self, phone: str, text: str) -> str:
        raise NotImplementedError


class LogSmsProvider(SmsProvider):
    """The default: writes the message to the log. Nothing leaves the server, and the result says so."""

    def send(self, phone: str, text: str) -> str:
        logger.info("SMS to %s: %s", phone, text)
        return "written to the log by LogSmsProvider (no SMS gateway configured)"


def sms_provider() -> SmsProvider:
    return import_string(settings.SMS_PROVIDER)()


class SmsChannel:
    name = NotificationChannel.SMS

    def send(self, message: Outgoing) -> str:
        phone = message.prefs.phone
        if not phone:
            raise NotConfigured("no phone number")
        return sms_provider().send(phone, message.short_text())


CHANNELS = {
    NotificationChannel.EMAIL.value: EmailChannel(),
    NotificationChannel.WEBHOOK.value: WebhookChannel(),
    NotificationChannel.SMS.value: SmsChannel(),
}


def channel_for(name: str):
    """The channel object that sends deliveries of ``name``."""
    return CHANNELS[name]
