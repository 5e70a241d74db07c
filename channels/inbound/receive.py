"""The one service for every received email, whether an IMAP poll fetched it or an MTA piped it in.

``email_receive(channel, raw)``:

1. parses the message (``channels.inbound.parse``; ``Unparseable`` when it has no header at all);
2. ignores noise with a reason: bounces (a bounce of an OpsDesk reply marks that delivery failed),
   automatic mail (``Auto-Submitted``, ``Precedence``, ``X-Autoreply``, list mail, the null sender),
   mail from OpsDesk's own addresses, and a sender over the rate limit;
3. threads it: ``In-Reply-To``/``References`` naming a message OpsDesk sent or received → that
   ticket; else a ``[#id]`` subject tag of a ticket of the same customer; else a new ticket;
4. hands it to the intake service (``intake.services.intake_accept``: customer matching, routing,
   SLA, exactly as an intake API message) and stores the files and the original ``.eml`` as
   attachments of the message, all in one transaction.

Every email leaves one ``InboundEmail`` row (outcome, reason), so nothing is lost unseen; an ignored
or failed email keeps its raw bytes there. Database outages propagate (``OperationalError``):
the caller leaves the mail where it is so it is retried.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Count
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from channels.inbound.models import InboundEmail, Mailbox
from channels.inbound.parse import ParsedEmail, parse_email
from channels.models import OutboundMessage
from core import fastinsert
from core.rowcache import Precompiled
from intake.services import IntakeError, IntakePayload, find_delivered, intake_accept, subject_reference
from tickets import attachments, delivery, services
from tickets.attachments import IncomingFile
from tickets.models import IntakeChannel, Message, Priority, Ticket

logger = logging.getLogger(__name__)

Outcome, Reason = InboundEmail.Outcome, InboundEmail.Reason
ORIGINAL_NAME = "original.eml"
_TAG = re.compile(r"\s*\[#\d{1,18}\]\s*")
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
_BULK = {"bulk", "junk", "list"}


@dataclass
class Received:
    """What became of one email; ``as_json`` is the line ``email_receive`` prints."""

    outcome: str
    reason: str = ""
    record: InboundEmail | None = None
    ticket: Ticket | None = None
    message: Message | None = None
    attachment_ids: list[int] = field(default_factory=list)

    def as_json(self) -> dict:
        if self.outcome in (Outcome.IGNORED, Outcome.FAILED):
            return {self.outcome: self.reason}
        data = {
            "ticket": self.ticket.pk,
            "message": self.message.pk,
            "created": self.outcome == Outcome.CREATED,
            "attachments": self.attachment_ids,
        }
        if self.outcome == Outcome.DUPLICATE:
            data["duplicate"] = True
        return data


def own_addresses() -> set[str]:
    """OpsDesk's own addresses: the sender of its mail, every mailbox, ``EMAIL_INTAKE_OWN_ADDRESSES``."""
    values = [settings.DEFAULT_FROM_EMAIL, getattr(settings, "SERVER_EMAIL", "")]
    values += list(getattr(settings, "EMAIL_INTAKE_OWN_ADDRESSES", []))
    found = {address.lower() for _name, address in email.utils.getaddresses(values) if "@" in address}
    for address, username in _MAILBOX_ADDRESSES.rows():
        found |= {value.lower() for value in (address, username) if value and "@" in value}
    return found


_MAILBOX_ADDRESSES = Precompiled(lambda: Mailbox.objects.values_list("address", "username"))


def noise_reason(parsed: ParsedEmail, own: set[str]) -> str:
    """Why this email must not become a customer message, or "" when it may."""
    headers = parsed.headers
    local_part = parsed.sender.partition("@")[0]
    if parsed.is_delivery_report or local_part in _BOUNCE_SENDERS or "x-failed-recipients" in headers:
        return Reason.BOUNCE
    auto = headers.get("auto-submitted", "").split(";", 1)[0].strip().lower()
    if auto and auto != "no":
        return Reason.AUTO_SUBMITTED
    precedence = headers.get("precedence", "").strip().lower()
    if precedence == "auto_reply" or "x-autoreply" in headers or "x-autorespond" in headers:
        return Reason.AUTO_REPLY
    if precedence in _BULK or "list-id" in headers:
        return Reason.BULK
    if parsed.return_path == "":
        return Reason.NULL_SENDER
    if not parsed.sender:
        return Reason.NO_SENDER
    try:
        validate_email(parsed.sender)
    except ValidationError:
        return Reason.NO_SENDER
    if parsed.sender in own:
        return Reason.OWN_ADDRESS
    return ""


def rate_limited(channel: IntakeChannel, sender: str) -> bool:
    """More than ``EMAIL_INTAKE_RATE_LIMIT`` emails taken from ``sender`` in the last window: a runaway robot."""
    limit = int(getattr(settings, "EMAIL_INTAKE_RATE_LIMIT", 30))
    if limit <= 0:
        return False
    window = timedelta(seconds=int(getattr(settings, "EMAIL_INTAKE_RATE_WINDOW", 3600)))
    counted = _TAKEN.rows(channel.pk, sender, timezone.now() - window)  # no row: none taken
    return bool(counted) and counted[0][0] >= limit


_TAKEN = Precompiled(
    lambda channel_id, sender, since: (
        InboundEmail.objects.filter(
            intake_channel_id=channel_id,
            sender=sender,
            received_at__gte=since,
            outcome__in=[Outcome.CREATED, Outcome.APPENDED],
        )
        .order_by()
        .values("intake_channel_id")
        .annotate(taken=Count("pk"))
        .values_list("taken")
    ),
    -7_100_000_001,
    "\x00opsdesk-placeholder-sender",
    datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=UTC),
)


def external_id(message_id: str) -> str:
    """The intake's idempotency key (at most 200 characters) for a Message-ID."""
    return message_id if len(message_id) <= 200 else "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()


def find_thread(channel: IntakeChannel, parsed: ParsedEmail) -> Ticket | None:
    """The ticket this email answers: by its headers, else by a subject tag of a ticket of the same sender."""
    ids = parsed.in_reply_to[:50]
    if ids:
        candidates = ids + [value.strip("<>") for value in ids]
        # Two lookups, each on its partial index (an OR of the two, or a bare ``IN``, reads the whole table):
        # the Message-IDs OpsDesk sent or received, then this channel's external ids.
        columns = ("created_at", "pk", "mail_message_id", "external_id", "ticket_id")
        rows = set(
            Message.objects.filter(mail_message_id__in=candidates)
            .exclude(mail_message_id="")
            .order_by()
            .values_list(*columns)
        )
        rows |= set(
            Message.objects.filter(intake_channel=channel, external_id__in=candidates)
            .exclude(external_id="")
            .order_by()
            .values_list(*columns)
        )
        found = {
            mid: ticket_id
            for _created, _pk, mid, ext, ticket_id in sorted(rows)  # in message order: the latest one wins
            for mid in (mid, ext)
            if mid
        }
        for mid in ids:
            ticket_id = found.get(mid) or found.get(mid.strip("<>"))
            if ticket_id:
                return Ticket.objects.filter(pk=ticket_id).first()
    tag = subject_reference(parsed.subject)
    if tag is not None and tag < 2**63:
        return Ticket.objects.filter(pk=tag, customer__email__iexact=parsed.sender).first()
    return None


def fit_files(files: list[IncomingFile]) -> tuple[list[IncomingFile], list[IncomingFile]]:
    """The files within the attachment limits, and those left out (each too big or forbidden, then the largest)."""
    kept, dropped = [], []
    for file in files:
        try:
            attachments.check([file])
            kept.append(file)
        except ValidationError:
            dropped.append(file)
    while kept:
        try:
            attachments.check(kept)
            break
        except ValidationError:
            largest = max(kept, key=lambda file: len(file.content))
            kept.remove(largest)
            dropped.append(largest)
    return kept, dropped


def _site_text(message, **values) -> str:
    """``message`` (marked with ``gettext_lazy``) in the site's language: staff read it, whoever wrote."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(message) % values if values else str(message)


def _payload(parsed: ParsedEmail, thread: Ticket | None) -> IntakePayload:
    subject = _TAG.sub(" ", parsed.subject).strip()[:200]
    if not subject and thread is None:
        subject = _site_text(_("Email from %(sender)s"), sender=parsed.sender)
    body = parsed.conversation_text or _site_text(_("(The email has no text.)"))
    return IntakePayload(
        message_id=external_id(parsed.message_id),
        name=parsed.sender_name,
        email=parsed.sender,
        phone="",
        language="",
        ticket_ref=None,
        subject=subject,
        subject_ref=None,
        body=body,
        type_slug="",
        priority=Priority.NORMAL,
        related_kind="",
        related_ref="",
        related_title="",
        sent_at=None,
        mail_message_id=parsed.message_id[:255],
    )


def _take(channel: IntakeChannel, parsed: ParsedEmail, raw: bytes, mailbox: Mailbox | None) -> tuple[Received, bool]:
    """Write the message, its files and (when taken) its ``InboundEmail`` record in one transaction.

    Returns the result and whether it is recorded already (a duplicate found here is recorded by the caller).
    """
    files = [IncomingFile(f.filename, f.content_type, f.content, f.content_id) for f in parsed.files]
    kept, dropped = fit_files(files)
    original = IncomingFile(ORIGINAL_NAME, "message/rfc822", raw)
    keep_original = len(raw) <= int(settings.ATTACHMENT_MAX_FILE_BYTES)
    with transaction.atomic():
        thread = find_thread(channel, parsed)
        # email_receive has just looked for a delivery of this Message-ID.
        result = intake_accept(channel, _payload(parsed, thread), thread=thread, look_up_delivered=False)
        if result.duplicate:  # a concurrent delivery of the same email won
            return _duplicate(result.message), False  # recorded by the caller
        message = result.message
        stored = attachments.attach(message, kept + ([original] if keep_original else []))
        if dropped:
            names = ", ".join(f"{attachments.clean_filename(f.filename)} ({len(f.content)} B)" for f in dropped)
            services.ticket_add_note(
                result.ticket,
                body=_site_text(
                    _(
                        "Files of the customer's email not attached (over the attachment limits): %(names)s. "
                        "The original email is kept in the received emails (admin)."
                    ),
                    names=names,
                ),
                actor=None,
            )
        outcome = Outcome.CREATED if result.created_ticket else Outcome.APPENDED
        ids = [a.pk for a in stored[: len(kept)]]
        received = Received(outcome, ticket=result.ticket, message=message, attachment_ids=ids)
        # The record is written with the rest: one commit per email. The raw bytes are kept there only when
        # they are not among the message's files already.
        _record(channel, mailbox, parsed, raw, received, keep_raw=not (keep_original and not dropped))
    return received, True


def _duplicate(message: Message) -> Received:
    ids = list(message.attachments.exclude(filename=ORIGINAL_NAME).values_list("pk", flat=True))
    return Received(Outcome.DUPLICATE, ticket=message.ticket, message=message, attachment_ids=ids)


def mark_bounced(parsed: ParsedEmail) -> int:
    """A bounce of a reply OpsDesk sent: that delivery failed. Returns how many messages were marked."""
    ids = parsed.reported_message_ids[:10]
    if not ids:
        return 0
    candidates = ids + [value.strip("<>") for value in ids]
    bounced = list(
        Message.objects.filter(mail_message_id__in=candidates, kind=Message.Kind.PUBLIC_REPLY).exclude(
            mail_message_id=""
        )
    )
    error = str(_site_text(_("The mail server reported that the email could not be delivered.")))
    for message in bounced:
        delivery.message_bounced(message, error=error)
    OutboundMessage.objects.filter(message__in=bounced).update(
        status=OutboundMessage.Status.FAILED, last_error=error[:1000]
    )
    return len(bounced)


def _record(
    channel, mailbox, parsed: ParsedEmail | None, raw: bytes, received: Received, *, keep_raw: bool, detail: str = ""
) -> Received:
    record = InboundEmail(
        intake_channel=channel,
        mailbox=mailbox,
        mail_message_id=(parsed.message_id if parsed else "")[:255],
        sender=(parsed.sender if parsed else "")[:254],
        subject=(parsed.subject if parsed else "")[:300],
        reply_to=", ".join(parsed.reply_to) if parsed else "",
        cc=", ".join(parsed.cc) if parsed else "",
        outcome=received.outcome,
        reason=received.reason,
        detail=detail,
        message=received.message,
    )
    if keep_raw:
        record.raw.save("email.eml", ContentFile(raw), save=False)
    fastinsert.insert([record])
    received.record = record
    return received


def email_receive(
    channel: IntakeChannel, raw: bytes, *, mailbox: Mailbox | None = None, own: set[str] | None = None
) -> Received:
    """Take, ignore or fail one email for good; raises ``Unparseable`` or a database outage only.

    ``own``: ``own_addresses()`` when the caller already has it (a poll reads it once for all its emails).
    """
    parsed = parse_email(raw)
    reason = noise_reason(parsed, own_addresses() if own is None else own)
    if reason == Reason.BOUNCE:
        marked = mark_bounced(parsed)
        detail = _site_text(_("Replies marked undelivered: %(count)d."), count=marked) if marked else ""
        return _record(channel, mailbox, parsed, raw, Received(Outcome.IGNORED, reason), keep_raw=True, detail=detail)
    if reason:
        return _record(channel, mailbox, parsed, raw, Received(Outcome.IGNORED, reason), keep_raw=True)
    delivered = find_delivered(channel, external_id(parsed.message_id))
    if delivered is not None:
        return _record(channel, mailbox, parsed, raw, _duplicate(delivered), keep_raw=False)
    if rate_limited(channel, parsed.sender):
        return _record(channel, mailbox, parsed, raw, Received(Outcome.IGNORED, Reason.RATE_LIMITED), keep_raw=True)
    try:
        received, recorded = _take(channel, parsed, raw, mailbox)
    except IntakeError as error:
        detail = "; ".join([error.message, *error.fields.values()])
        return _record(
            channel, mailbox, parsed, raw, Received(Outcome.FAILED, Reason.REFUSED), keep_raw=True, detail=detail
        )
    except (OperationalError, InterfaceError):
        raise
    except Exception as error:
        logger.exception("email from %s could not be processed", parsed.sender)
        return _record(
            channel,
            mailbox,
            parsed,
            raw,
            Received(Outcome.FAILED, Reason.ERROR),
            keep_raw=True,
            detail=f"{type(error).__name__}: {error}"[:2000],
        )
    if recorded:
        return received
    return _record(channel, mailbox, parsed, raw, received, keep_raw=False)


def record_unparseable(channel: IntakeChannel, raw: bytes, problem: str, *, mailbox: Mailbox | None = None) -> None:
    """Log an email that is not an email at all, with its bytes, so an admin sees it."""
    _record(
        channel,
        mailbox,
        None,
        raw,
        Received(Outcome.FAILED, Reason.UNPARSEABLE),
        keep_raw=bool(raw),
        detail=problem[:2000],
    )
