"""The inbound intake service: a channel gateway hands over one customer message.

``intake_receive(channel, payload)`` is what ``POST /api/intake/v1/messages``
calls once the request is authenticated and parsed (see ``intake.api`` and
``docs/api.md``). It works in three steps, so a refused message changes
nothing:

1. **Check the shape** of the payload (pure, no database): required fields,
   types, email, phone, priority, related kind, ``sent_at``.
2. **Resolve** against the database without writing: a message id this
   channel already delivered is answered as a duplicate; otherwise the ticket
   type, the existing customer and the referenced ticket are looked up. A
   reference to a ticket that does not exist or belongs to someone else is a
   ``ticket_mismatch`` and never says which.
3. **Write** in one transaction through ``tickets.services``: find or create
   the customer, then append to the referenced ticket or open a new one.
   The unique constraint on (intake channel, external id) is the last word on
   duplicates: a concurrent twin loses inside a savepoint and gets the
   winner's ids back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core import dates
from core.rowcache import Precompiled
from core.text import text_problem
from intake.files import parse_attachments
from routing.assignment import classify_text
from tickets import history, services
from tickets.attachments import IncomingFile
from tickets.merge import surviving_ticket
from tickets.models import (
    Customer,
    IntakeChannel,
    Language,
    Message,
    Priority,
    RelatedObject,
    Status,
    Ticket,
    TicketType,
)

MAX_MESSAGE_ID = 200
MAX_EMAIL = 254
MAX_NAME = 200
MAX_RELATED_REF = 120
MAX_RELATED_TITLE = 200
MIN_PHONE_DIGITS, MAX_PHONE_DIGITS = 5, 15  # E.164 allows at most 15 digits
MAX_TICKET_ID = 2**63 - 1

PRIORITIES = {
    "low": Priority.LOW,
    "normal": Priority.NORMAL,
    "high": Priority.HIGH,
    "critical": Priority.CRITICAL,
}

# "[#123]" anywhere in a subject, e.g. "Re: [#123] Printer jam"; the first one wins.
SUBJECT_REFERENCE = re.compile(r"\[#(\d{1,18})\]")
TICKET_REFERENCE = re.compile(r"#?(\d{1,19})")


class IntakeError(Exception):
    """A message that is refused as a whole; ``code`` is stable, ``message`` is for people."""

    def __init__(self, code: str, message: str, status: int = 422, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or {}

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    message: Message
    created_ticket: bool
    duplicate: bool


@dataclass(frozen=True)
class IntakePayload:
    """A payload whose shape has been checked; strings are stripped, optional ones may be empty."""

    message_id: str
    name: str
    email: str
    phone: str
    language: str
    ticket_ref: int | None
    subject: str
    subject_ref: int | None
    body: str
    type_slug: str
    priority: int
    related_kind: str
    related_ref: str
    related_title: str
    sent_at: datetime | None
    attachments: tuple[IncomingFile, ...] = ()
    mail_message_id: str = ""  # an email's own Message-ID, kept on the message for threading (channels)


# --- Step 1: shape ------------------------------------------------------------------


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any, field: str, errors: dict[str, str]) -> str:
    """``value`` stripped, or "" with the reason in ``errors`` (not a string, or text no database can store)."""
    if not isinstance(value, str):
        errors[field] = _("Must be a string.")
        return ""
    problem = text_problem(value)
    if problem:
        errors[field] = problem
        return ""
    return value.strip()


def _optional_text(data: dict, key: str, field: str, errors: dict[str, str]) -> str:
    value = data.get(key)
    return "" if value is None else _text(value, field, errors)


def _required_text(value: Any, field: str, missing: str, errors: dict[str, str]) -> str:
    if _absent(value):
        errors[field] = missing
        return ""
    return _text(value, field, errors)


def parse_ticket_reference(value: Any) -> int | None:
    """``123``, ``"123"`` or ``"#123"`` as a number; ``None`` if it is not a reference at all."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str):
        match = TICKET_REFERENCE.fullmatch(value.strip())
        if match and int(match.group(1)) > 0:
            return int(match.group(1))
    return None


def subject_reference(subject: str) -> int | None:
    """The first ``[#123]`` in an email subject, if any."""
    match = SUBJECT_REFERENCE.search(subject or "")
    return int(match.group(1)) if match else None


def clean_payload(payload: Any) -> IntakePayload:
    """Check everything that needs no database; raise one ``validation_error`` listing every bad field."""
    if not isinstance(payload, dict):
        raise IntakeError("not_an_object", _("The request body must be a JSON object."), status=400)
    errors: dict[str, str] = {}

    message_id = payload.get("message_id")
    if isinstance(message_id, int) and not isinstance(message_id, bool):
        message_id = str(message_id)
    message_id = _required_text(message_id, "message_id", _("The gateway's message id is required."), errors)
    if len(message_id) > MAX_MESSAGE_ID:
        errors["message_id"] = _("At most %(max)d characters.") % {"max": MAX_MESSAGE_ID}

    customer = payload.get("customer")
    name = email = phone = language = ""
    if customer is None:
        errors["customer"] = _("The customer is required: give an email or a phone number.")
    elif not isinstance(customer, dict):
        errors["customer"] = _("Must be an object with an email or a phone number.")
    else:
        name = _optional_text(customer, "name", "customer.name", errors)[:MAX_NAME]
        email = _optional_text(customer, "email", "customer.email", errors).lower()
        if email:
            try:
                if len(email) > MAX_EMAIL:
                    raise ValidationError("too long")
                validate_email(email)
            except ValidationError:
                errors["customer.email"] = _("Enter a valid email address.")
        raw_phone = _optional_text(customer, "phone", "customer.phone", errors)
        if raw_phone:
            phone = services.normalize_phone(raw_phone)
            if not MIN_PHONE_DIGITS <= len(phone) - 1 <= MAX_PHONE_DIGITS:
                errors["customer.phone"] = _("Enter a phone number of %(min)d to %(max)d digits.") % {
                    "min": MIN_PHONE_DIGITS,
                    "max": MAX_PHONE_DIGITS,
                }
        language = _optional_text(customer, "language", "customer.language", errors).lower()
        if language and language not in Language.values:
            errors["customer.language"] = _("Use one of: %(choices)s.") % {"choices": ", ".join(Language.values)}
        if not email and not phone and not any(k in errors for k in ("customer.email", "customer.phone")):
            errors["customer"] = _("Give the customer's email or phone number.")

    ticket_ref = None
    raw_ticket = payload.get("ticket")
    if not _absent(raw_ticket):
        ticket_ref = parse_ticket_reference(raw_ticket)
        if ticket_ref is None:
            errors["ticket"] = _("A ticket reference is a number like 123 or “#123”.")

    subject = _optional_text(payload, "subject", "subject", errors)

    body = _required_text(payload.get("body"), "body", _("The message text is required."), errors)

    type_slug = _optional_text(payload, "type", "type", errors)

    priority = Priority.NORMAL
    raw_priority = payload.get("priority")
    if raw_priority is not None:
        key = raw_priority.strip().lower() if isinstance(raw_priority, str) else None
        if key not in PRIORITIES:
            errors["priority"] = _("Use one of: %(choices)s.") % {"choices": ", ".join(PRIORITIES)}
        else:
            priority = PRIORITIES[key]

    related_kind = related_ref = related_title = ""
    related = payload.get("related")
    if related is not None:
        if not isinstance(related, dict):
            errors["related"] = _("Must be an object with “kind” and “ref”.")
        else:
            related_kind = _optional_text(related, "kind", "related.kind", errors).lower()
            if related_kind not in RelatedObject.Kind.values:
                errors["related.kind"] = _("Use one of: %(choices)s.") % {
                    "choices": ", ".join(RelatedObject.Kind.values)
                }
            related_ref = _optional_text(related, "ref", "related.ref", errors)
            if not related_ref:
                errors.setdefault("related.ref", _("The reference of the related object is required."))
            elif len(related_ref) > MAX_RELATED_REF:
                errors["related.ref"] = _("At most %(max)d characters.") % {"max": MAX_RELATED_REF}
            related_title = _optional_text(related, "title", "related.title", errors)[:MAX_RELATED_TITLE]

    sent_at = None
    raw_sent_at = payload.get("sent_at")
    if raw_sent_at is not None:
        try:
            sent_at = parse_datetime(raw_sent_at) if isinstance(raw_sent_at, str) else None
        except ValueError:
            sent_at = None
        if sent_at is None:
            errors["sent_at"] = _("Use an ISO-8601 date and time, e.g. 2025-03-01T09:30:00+05:00.")
        elif not dates.in_range(sent_at):
            errors["sent_at"] = dates.out_of_range_message()

    attachments = parse_attachments(payload.get("attachments"), errors)

    if errors:
        raise validation_error(errors)
    return IntakePayload(
        message_id=message_id,
        name=name,
        email=email,
        phone=phone,
        language=language,
        ticket_ref=ticket_ref,
        subject=subject,
        subject_ref=subject_reference(subject),
        body=body,
        type_slug=type_slug,
        priority=priority,
        related_kind=related_kind,
        related_ref=related_ref,
        related_title=related_title,
        sent_at=sent_at,
        attachments=attachments,
    )


def validation_error(fields: dict[str, str]) -> IntakeError:
    return IntakeError("validation_error", _("The message was not accepted: check the listed fields."), 422, fields)


def ticket_mismatch() -> IntakeError:
    # The same words whether the ticket is missing or someone else's: nothing about others leaks.
    return IntakeError(
        "ticket_mismatch",
        _(
            "The referenced ticket was not found for this customer. Send the message without a reference to open a new "
            "ticket."
        ),
        422,
    )


# --- Step 2: resolve --------------------------------------------------------------------


def find_delivered(channel: IntakeChannel, message_id: str) -> Message | None:
    """The message this channel already delivered under ``message_id``, if any (at most one: a unique index)."""
    found = _DELIVERED.objects(channel.pk, message_id)
    return found[0] if found else None


_DELIVERED = Precompiled(
    lambda channel_id, message_id: (
        Message.objects.select_related("ticket")
        .filter(intake_channel_id=channel_id, external_id=message_id)
        .exclude(external_id="")  # the condition of the unique index, so that the index is used (SQLite)
        .order_by()[:1]
    ),
    -7_100_000_001,
    "\x00opsdesk-placeholder-message-id",
)


# The ticket a message is appended to is read under its row lock (so ``ticket_receive_customer_message`` need not
# lock it again) with the people the notices of the new message go to, their profiles (language, time zone, working
# calendar) and notification settings, as ``notifications`` would read them next. The SQL is compiled once.
def _locked_ticket(pk: int, customer_id: int | None = None):
    tickets = Ticket.objects.select_for_update(of=("self",)).select_related(
        *(f"{person}__{relation}" for person in ("performer", "owner") for relation in _RECIPIENT_RELATIONS)
    )
    if customer_id is None:
        return tickets.select_related("customer").filter(pk=pk).order_by()[:1]
    return tickets.filter(pk=pk, customer_id=customer_id).order_by()[:1]


_RECIPIENT_RELATIONS = ("profile__work_calendar", "notification_settings")
_LOCKED_THREAD = Precompiled(_locked_ticket, -7_100_301, prepare=True)
_LOCKED_REFERENCE = Precompiled(_locked_ticket, -7_100_301, -7_100_302, prepare=True)


@dataclass(frozen=True)
class _Plan:
    customer: Customer | None  # None: a first-time sender, created in step 3
    append_to: Ticket | None
    follows_up: Ticket | None  # a canceled ticket the customer wrote about
    ticket_type: TicketType | None
    title: str
    rule: object = None  # the keyword rule that gave the type (routing.assignment), if any
    classified: bool = False  # the keyword rules were applied here (ticket_create need not apply them again)


def _plan(channel: IntakeChannel, data: IntakePayload, thread: Ticket | None = None) -> _Plan:
    errors: dict[str, str] = {}
    ticket_type = channel.default_type
    if data.type_slug:
        ticket_type = (
            TicketType.objects.filter(slug=data.type_slug, is_active=True).select_related("default_queue").first()
        )
        if ticket_type is None:
            errors["type"] = _("Unknown ticket type “%(slug)s”.") % {"slug": data.type_slug}

    customer = services.customer_find(email=data.email, phone=data.phone)
    reference = data.ticket_ref if data.ticket_ref is not None else data.subject_ref
    target = None
    if thread is not None:
        # The channel already knows the conversation (an email's In-Reply-To): no customer check.
        found = _LOCKED_THREAD.objects(thread.pk)
        target = found[0] if found else None
    elif reference is not None:
        if customer is not None and reference <= MAX_TICKET_ID:
            # Locked until the message is stored: a ticket canceled meanwhile must not swallow it.
            found = _LOCKED_REFERENCE.objects(reference, customer.pk)
            target = found[0] if found else None
            if target is not None:
                target.customer = customer
        if target is None:
            if errors:
                raise validation_error(errors)
            raise ticket_mismatch()

    # A ticket merged into another (tickets.merge): the customer's reply lands in the surviving ticket.
    target = surviving_ticket(target, lock=True)
    append_to = target if target is not None and target.status != Status.CANCELED else None
    follows_up = target if target is not None and append_to is None else None
    title = data.subject or (follows_up.title if follows_up is not None else "")
    if append_to is None and not title:
        errors["subject"] = _("A subject is required to open a new ticket.")
    if errors:
        raise validation_error(errors)
    rule = None
    classified = append_to is None and not data.type_slug
    if classified:
        # No type in the payload: keyword rules classify the message before the channel's default type applies.
        rule = classify_text(title, data.body)
        ticket_type = rule.ticket_type if rule is not None else ticket_type
    return _Plan(
        customer=customer,
        append_to=append_to,
        follows_up=follows_up,
        ticket_type=ticket_type,
        title=title,
        rule=rule,
        classified=classified,
    )


# --- Step 3: write ----------------------------------------------------------------------


def _customer(data: IntakePayload) -> Customer:
    """A first-time sender becomes a customer (``_plan`` has just looked them up and found nobody)."""
    try:
        with transaction.atomic():
            return services.customer_create(name=data.name, email=data.email, phone=data.phone, language=data.language)
    except IntegrityError:
        # A concurrent first message from the same person created them a moment ago.
        customer = services.customer_find(email=data.email, phone=data.phone)
        if customer is None:
            raise
        return customer


def _related_object(data: IntakePayload, customer: Customer) -> RelatedObject | None:
    if not data.related_kind:
        return None
    related, _created = RelatedObject.objects.get_or_create(
        kind=data.related_kind,
        external_ref=data.related_ref,
        defaults={"customer": customer, "title": data.related_title},
    )
    return related


def _open_ticket(channel: IntakeChannel, data: IntakePayload, plan: _Plan, customer: Customer) -> Message:
    queue = channel.default_queue
    if plan.ticket_type is not None and plan.ticket_type.default_queue is not None:
        queue = plan.ticket_type.default_queue
    ticket = services.ticket_create(
        actor=None,
        title=plan.title,
        customer=customer,
        queue=queue,
        ticket_type=plan.ticket_type,
        description=data.body,
        channel=channel.channel,
        priority=data.priority,
        related_object=_related_object(data, customer),
        intake_channel=channel,
        external_id=data.message_id,
        classified_by=plan.rule,
        classify=not plan.classified,
        attachments=data.attachments,
        mail_message_id=data.mail_message_id,
    )
    if plan.follows_up is not None:
        # Staff read the note; the customer's own words stay untouched.
        with translation.override(settings.LANGUAGE_CODE):
            note = _("The customer wrote about the canceled ticket %(reference)s; this ticket continues it.") % {
                "reference": plan.follows_up.reference
            }
        services.ticket_add_note(ticket, body=note, actor=None)
    if ticket.opening_message is not None:  # the customer's words, as written (not read back)
        return ticket.opening_message
    return Message.objects.select_related("ticket").get(
        ticket=ticket, intake_channel=channel, external_id=data.message_id
    )


def intake_receive(channel: IntakeChannel, payload: Any) -> IntakeResult:
    """Accept one customer message from ``channel``'s gateway, or raise ``IntakeError`` having changed nothing."""
    data = clean_payload(payload)
    # A gateway's retry is rare, so the unique constraint on (channel, message id) answers it, after a rollback,
    # instead of a lookup before every message (one query each). A payload with files is looked up first: a retry
    # must not write files that the rollback would leave behind.
    return intake_accept(channel, data, look_up_delivered=bool(data.attachments))


def intake_accept(
    channel: IntakeChannel, data: IntakePayload, *, thread: Ticket | None = None, look_up_delivered: bool = True
) -> IntakeResult:
    """Steps 2 and 3 for a payload already checked: what the API and the mailboxes (``channels``) share.

    ``thread``: the ticket the channel itself found the message belongs to (an email's ``In-Reply-To``);
    it is taken whoever the sender is. Without it, ``data.ticket_ref`` / ``data.subject_ref`` must name a
    ticket of the sender's. ``look_up_delivered=False``: the message id is not looked up before the writes (the
    caller has just looked, or the message carries no file): a delivery already made, or a concurrent twin, loses on
    the unique constraint and is answered as a duplicate all the same.
    """
    # One transaction (a savepoint inside a caller's): the duplicate check, if any, the plan's row locks and the
    # writes. A delivery that loses the unique constraint on (channel, external id), to a concurrent twin or to a
    # delivery made before, rolls all of it back; the delivered message is read afterwards, outside the failed block.
    # The history rows of the whole intake (created, classified, assigned, routed…) are written in one insert at its
    # end, inside its transaction.
    try:
        with transaction.atomic(), history.deferred():
            delivered = find_delivered(channel, data.message_id) if look_up_delivered else None
            if delivered is not None:
                return _duplicate(delivered)
            plan = _plan(channel, data, thread)
            if plan.append_to is not None:
                message = services.ticket_receive_customer_message(
                    plan.append_to,
                    body=data.body,
                    channel=channel.channel,
                    intake_channel=channel,
                    external_id=data.message_id,
                    attachments=data.attachments,
                    mail_message_id=data.mail_message_id,
                    locked=True,  # _plan read it under its row lock
                )
                return IntakeResult(plan.append_to, message, created_ticket=False, duplicate=False)
            # Only a new ticket needs the sender as a customer (a colleague may answer on a thread).
            message = _open_ticket(channel, data, plan, plan.customer or _customer(data))
            return IntakeResult(message.ticket, message, created_ticket=True, duplicate=False)
    except IntegrityError:
        delivered = find_delivered(channel, data.message_id)
        if delivered is None:
            raise
        return _duplicate(delivered)
    except (IntakeError, services.TicketError) as error:
        # Not looked up before: a retry of a message delivered earlier is answered with its ids, whatever the
        # rest of its payload would meet now (a type deactivated since, a ticket closed since).
        delivered = None if look_up_delivered else find_delivered(channel, data.message_id)
        if delivered is not None:
            return _duplicate(delivered)
        if isinstance(error, services.AttachmentsRefused):
            raise validation_error({"attachments": str(error)}) from error
        if isinstance(error, services.TicketError):
            raise IntakeError("validation_error", str(error), 422) from error
        raise


def _duplicate(delivered: Message) -> IntakeResult:
    return IntakeResult(delivered.ticket, delivered, created_ticket=False, duplicate=True)
