"""Replies through a gateway's callback (messenger bridges, web forms): signed JSON POSTed to its reply URL.

The payload and the signature are documented in docs/api.md ("Reply callbacks"). ``X-OpsDesk-Signature``
is ``sha256=`` + the hex HMAC-SHA256, keyed with the intake channel's reply secret, of
``"<X-OpsDesk-Timestamp>.<raw body>"``. Any 2xx is delivered; 5xx, 408, 429, timeouts and connection errors
are retried; any other status is refused for good.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from channels.email import survey_url
from channels.models import OutboundMessage
from channels.routes import gateway_of, last_inbound
from notifications.channels import DeliveryError, PermanentFailure, absolute_url
from tickets.attachments import download_token
from tickets.models import Rating

SIGNATURE_HEADER = "X-OpsDesk-Signature"
TIMESTAMP_HEADER = "X-OpsDesk-Timestamp"
DELIVERY_HEADER = "X-OpsDesk-Delivery"
RETRIED_STATUSES = frozenset({408, 425, 429})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The value of ``X-OpsDesk-Signature`` for ``body`` sent at ``timestamp`` (Unix seconds as text)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def _link(attachment) -> str:
    """A download link that needs no login and expires (``ATTACHMENT_LINK_MAX_AGE``)."""
    return absolute_url(reverse("attachments:signed", args=[download_token(attachment)]))


def payload(outbound: OutboundMessage, inbound) -> dict:
    message = outbound.message
    ticket = message.ticket
    customer = ticket.customer
    expires = timezone.now() + timedelta(seconds=int(settings.ATTACHMENT_LINK_MAX_AGE))
    return {
        "type": "reply",
        "delivery": f"reply-{outbound.pk}",
        "ticket": {"id": ticket.pk, "reference": ticket.reference, "title": ticket.title},
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "language": customer.language,
        },
        "conversation": {"in_reply_to": inbound.external_id if inbound is not None else ""},
        "message": {
            "id": message.pk,
            "body": message.body,
            "author": (message.author.get_full_name() or message.author.get_username()) if message.author else "",
            "created_at": message.created_at.isoformat(),
        },
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "url": _link(a),
                "expires_at": expires.isoformat(),
            }
            for a in message.attachments.all()
        ],
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without the body: refuse it (a 3xx is then refused for good)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def survey_payload(outbound: OutboundMessage, inbound) -> dict:
    """A survey for the gateway: ``type`` ``survey``, the question as text and the signed link (docs/api.md)."""
    survey = outbound.survey
    ticket = survey.ticket
    customer = ticket.customer
    language = survey.language or customer.language or settings.LANGUAGE_CODE
    url = survey_url(survey)
    with translation.override(language):
        question = _("Your request #%(id)d “%(title)s” is resolved. How did we do? Answer here: %(url)s") % {
            "id": ticket.pk,
            "title": ticket.title,
            "url": url,
        }
    return {
        "type": "survey",
        "delivery": f"survey-{outbound.pk}",
        "ticket": {"id": ticket.pk, "reference": ticket.reference, "title": ticket.title},
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "language": customer.language,
        },
        "conversation": {"in_reply_to": inbound.external_id if inbound is not None else ""},
        "message": {"id": None, "body": question, "author": "", "created_at": survey.created_at.isoformat()},
        "survey": {
            "url": url,
            "answers": list(Rating.values),
            "expires_at": survey.expires_at.isoformat() if survey.expires_at else None,
        },
        "attachments": [],
    }


def send(outbound: OutboundMessage) -> str:
    """POST the reply to the gateway; returns what it answered. Raises ``DeliveryError`` / ``PermanentFailure``."""
    return _post(outbound, payload, f"reply-{outbound.pk}")


def send_survey(outbound: OutboundMessage) -> str:
    """POST the satisfaction survey to the gateway (the same signature, retries and refusals as a reply)."""
    return _post(outbound, survey_payload, f"survey-{outbound.pk}")


def _post(outbound: OutboundMessage, build, delivery: str) -> str:
    inbound = last_inbound(outbound.ticket)
    channel = gateway_of(inbound)
    if channel is None:
        raise PermanentFailure("the customer's gateway takes no replies (no reply URL or secret)")
    body = json.dumps(build(outbound, inbound), ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        channel.reply_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "OpsDesk-Reply/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(channel.reply_secret, timestamp, body),
            DELIVERY_HEADER: delivery,
        },
    )
    try:
        with _opener.open(request, timeout=settings.CHANNELS_GATEWAY_TIMEOUT) as response:
            status = response.status
            response.read(4096)
    except urllib.error.HTTPError as exc:
        if exc.code in RETRIED_STATUSES or exc.code >= 500:
            raise DeliveryError(f"HTTP {exc.code} from {channel.name}") from None
        raise PermanentFailure(f"HTTP {exc.code} from {channel.name}") from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"{channel.name} unreachable: {exc.reason}") from None
    except (TimeoutError, OSError) as exc:
        raise DeliveryError(f"{channel.name}: {exc or type(exc).__name__}") from None
    if not 200 <= status < 300:
        raise PermanentFailure(f"HTTP {status} from {channel.name}")
    return f"HTTP {status} from {channel.name}"
