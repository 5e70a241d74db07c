"""Replies to customers by email: subject in the customer's language, text and HTML parts, threading, files.

``build(outbound)`` composes the message (no network); ``send(outbound)`` hands it to the Django email
backend (``EMAIL_URL``). The Message-ID is made once, when the reply is queued, and kept on the outbox
row, so a retried send carries the same one and the customer's mail client threads or deduplicates it.
"""

from __future__ import annotations

import secrets
import smtplib
from dataclasses import dataclass
from email.utils import formataddr, getaddresses, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from channels.inbound.models import InboundEmail
from channels.inbound.receive import own_addresses
from channels.models import OutboundMessage, Route
from channels.routes import route_for
from notifications.channels import DeliveryError, PermanentFailure, absolute_url
from tickets.models import Channel, Message, Rating
from tickets.satisfaction import survey_link_token

MAX_REFERENCES = 10


def mail_domain() -> str:
    """``CHANNELS_MAIL_DOMAIN``, else the domain of ``DEFAULT_FROM_EMAIL``."""
    configured = getattr(settings, "CHANNELS_MAIL_DOMAIN", "")
    if configured:
        return configured
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "opsdesk.invalid"


def new_message_id(message: Message) -> str:
    """A fresh RFC 5322 Message-ID for ``message``: ``<random.ticket.message@domain>``.

    Short on purpose: a header line under 78 characters is never folded, so every mail program quotes it
    back in ``In-Reply-To`` exactly as it was sent (threading compares it as text).
    """
    return f"<{secrets.token_hex(6)}.{message.ticket_id}.{message.pk}@{mail_domain()}>"


def _bracketed(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    return value if value.startswith("<") else f"<{value}>"


def thread_ids(message: Message | None, *, ticket_id: int | None = None) -> list[str]:
    """The Message-IDs of the customer's emails on the ticket, oldest first (the last one is replied to).

    Those up to ``message``; with ``ticket_id`` instead (a survey), all of them."""
    if message is not None:
        found = Message.objects.filter(
            ticket_id=message.ticket_id, kind=Message.Kind.INBOUND, created_at__lte=message.created_at
        )
    else:
        found = Message.objects.filter(ticket_id=ticket_id, kind=Message.Kind.INBOUND)
    inbound = found.select_related("intake_channel").order_by("created_at", "pk")
    ids = []
    for item in inbound:
        mail_id = item.mail_message_id
        if not mail_id and item.external_id and item.intake_channel and item.intake_channel.channel == Channel.EMAIL:
            mail_id = item.external_id
        mail_id = _bracketed(mail_id)
        if mail_id and mail_id not in ids:
            ids.append(mail_id)
    return ids[-MAX_REFERENCES:]


def subject(ticket, language: str) -> str:
    with translation.override(language):
        return _("Your request [#%(id)d] %(title)s") % {"id": ticket.pk, "title": ticket.title}


def sender(outbound: OutboundMessage) -> str:
    """The intake channel's own address (the one the customer wrote to), else ``DEFAULT_FROM_EMAIL``."""
    inbound = (
        Message.objects.filter(ticket_id=outbound.ticket.pk, kind=Message.Kind.INBOUND, intake_channel__isnull=False)
        .exclude(intake_channel__email_address="")
        .select_related("intake_channel")
        .order_by("-created_at", "-pk")
        .first()
    )
    if inbound is not None:
        return formataddr((inbound.intake_channel.name, inbound.intake_channel.email_address))
    return settings.DEFAULT_FROM_EMAIL


def recipients(message: Message) -> tuple[list[str], list[str]]:
    """To and Cc of a reply, as a mail program's "reply all" would address it (:func:`reply_all`).

    The customer's latest email on the ticket up to ``message`` decides."""
    latest = (
        _taken_emails(message.ticket_id)
        .filter(message__created_at__lte=message.created_at)
        .order_by("-received_at", "-pk")
        .values("reply_to", "cc")
        .first()
    )
    return reply_all(message.ticket.customer, latest["reply_to"] if latest else "", latest["cc"] if latest else "")


def reply_all(customer, reply_to: str, cc: str) -> tuple[list[str], list[str]]:
    """To and Cc of a reply to an email that had these ``Reply-To`` and ``Cc`` (texts as stored).

    To: the ``Reply-To`` when there was one, else the customer. Cc: whom the email was copied to, less
    OpsDesk's own addresses, the To and the customer."""
    to = _addresses(reply_to) or [formataddr((customer.name, customer.email))]
    if not cc:
        return to, []
    skip = own_addresses() | {parseaddr(value)[1].lower() for value in to} | {customer.email.lower()}
    copied = [address for address in _addresses(cc) if address.lower() not in skip]
    return to, list(dict.fromkeys(copied))


@dataclass(frozen=True)
class Addressing:
    """Whom a ticket's email conversation involves, for the ticket page.

    ``copies``: each customer email's ``Reply-To`` and ``Cc`` as it gave them, by message id (only those
    that had either). ``to`` and ``cc``: where the next reply goes (empty when it does not go by email).
    """

    copies: dict[int, tuple[list[str], list[str]]]
    to: list[str]
    cc: list[str]


def addressing(ticket, messages: list[Message]) -> Addressing | None:
    """The ticket page's :class:`Addressing`, or None when none of ``messages`` (the ticket's, as the page
    shows them) came by email: then no query at all, else two."""
    if not any(m.kind == Message.Kind.INBOUND and m.channel == Channel.EMAIL for m in messages):
        return None
    rows = list(_taken_emails(ticket.pk).order_by("received_at", "pk").values_list("message_id", "reply_to", "cc"))
    if not rows:
        return None
    copies = {
        message_id: (_addresses(reply_to), _addresses(cc)) for message_id, reply_to, cc in rows if reply_to or cc
    }
    to, cc = [], []
    if route_for(ticket) == Route.EMAIL:
        _message_id, reply_to, copied = rows[-1]
        to, cc = reply_all(ticket.customer, reply_to, copied)
    return Addressing(copies=copies, to=to, cc=cc)


def _taken_emails(ticket_id: int):
    """The customer's emails that became messages of the ticket (not the ignored or failed ones)."""
    return InboundEmail.objects.filter(
        message__ticket_id=ticket_id, outcome__in=[InboundEmail.Outcome.CREATED, InboundEmail.Outcome.APPENDED]
    )


def _addresses(text: str) -> list[str]:
    return [address for _name, address in getaddresses([text]) if "@" in address]


def build(outbound: OutboundMessage) -> EmailMultiAlternatives:
    message = outbound.message
    ticket = message.ticket
    customer = ticket.customer
    language = customer.language or settings.LANGUAGE_CODE
    context = {"message": message, "ticket": ticket, "customer": customer, "author": message.author}
    with translation.override(language):
        text = render_to_string("channels/email/reply.txt", context)
        html = render_to_string("channels/email/reply.html", context)
    headers = {"Message-ID": outbound.mail_message_id, "Auto-Submitted": "auto-replied"}
    thread = thread_ids(message)
    if thread:
        headers["In-Reply-To"] = thread[-1]
        headers["References"] = " ".join(thread)
    to, cc = recipients(message)
    email = EmailMultiAlternatives(
        subject=subject(ticket, language),
        body=text,
        from_email=sender(outbound),
        to=to,
        cc=cc,
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.filename, handle.read(), attachment.content_type)
    return email


def new_survey_message_id(survey) -> str:
    """A fresh Message-ID for a survey email: ``<random.ticket.sN@domain>`` (short: never folded)."""
    return f"<{secrets.token_hex(6)}.{survey.ticket_id}.s{survey.pk}@{mail_domain()}>"


def survey_subject(ticket, language: str) -> str:
    with translation.override(language):
        return _("How did we do? [#%(id)d] %(title)s") % {"id": ticket.pk, "title": ticket.title}


def build_survey(outbound: OutboundMessage) -> EmailMultiAlternatives:
    """The survey email: one question, three answer links (each opens the page with that answer chosen)."""
    survey = outbound.survey
    ticket = survey.ticket
    customer = ticket.customer
    language = survey.language or customer.language or settings.LANGUAGE_CODE
    link = survey_url(survey)
    context = {
        "ticket": ticket,
        "customer": customer,
        "link": link,
        "answers": [(value, label, f"{link}?rating={value}") for value, label in Rating.choices],
        "expires_at": survey.expires_at,
    }
    with translation.override(language):
        text = render_to_string("channels/email/survey.txt", context)
        html = render_to_string("channels/email/survey.html", context)
    headers = {"Message-ID": outbound.mail_message_id, "Auto-Submitted": "auto-generated"}
    thread = thread_ids(None, ticket_id=ticket.pk)
    if thread:
        headers["In-Reply-To"] = thread[-1]
        headers["References"] = " ".join(thread)
    email = EmailMultiAlternatives(
        subject=survey_subject(ticket, language),
        body=text,
        from_email=sender(outbound),
        to=[formataddr((customer.name, customer.email))],
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    return email


def survey_url(survey) -> str:
    """The absolute address of the survey's page (signed link, no login)."""
    return absolute_url(reverse("survey:answer", args=[survey_link_token(survey)]))


def _permanent(exc: Exception) -> bool:
    """The server refused for good (5xx for the sender, every recipient or the data)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, (smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return exc.smtp_code >= 500
    return False


def send(outbound: OutboundMessage) -> str:
    """Hand the reply to the mail server; returns what it said. Raises ``DeliveryError`` / ``PermanentFailure``."""
    return _hand_over(outbound, build)


def send_survey(outbound: OutboundMessage) -> str:
    """Hand the survey email to the mail server; returns what it said (the same errors as ``send``)."""
    return _hand_over(outbound, build_survey)


def _hand_over(outbound: OutboundMessage, builder) -> str:
    if not outbound.ticket.customer.email:
        raise PermanentFailure("the customer has no email address")
    email = builder(outbound)
    try:
        email.send(fail_silently=False)
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"[:500]
        if _permanent(exc):
            raise PermanentFailure(text) from None
        raise DeliveryError(text) from None
    addressed = ", ".join(parseaddr(value)[1] for value in email.to + email.cc)
    return f"accepted for {addressed}"
