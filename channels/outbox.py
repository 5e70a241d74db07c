"""The customer outbox: every public message gets one row, sent after commit, retried, sent once.

The claim, backoff and reclaim are ``core.outbox``'s (shared with the staff notifications outbox).
``queue`` writes the row in the transaction of the reply (``channels.handlers.deliver_reply``);
``deliver_pending`` is the worker: the django-q2 task enqueued on commit, the per-minute schedule
and ``manage.py deliver_outbox`` all run it. What happens to the message is written through
``tickets.delivery`` (its delivery state; delivered = the first-response clock stops then).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels import email, gateway
from channels.models import OutboundMessage, Route
from channels.routes import reply_route, route_for
from core import outbox
from notifications.channels import PermanentFailure
from notifications.models import Urgency
from notifications.service import notify
from tickets import delivery as message_delivery
from tickets import satisfaction
from tickets.models import Message, SatisfactionSurvey

logger = logging.getLogger(__name__)

BATCH_SIZE = 50
TASK = "channels.tasks.deliver_outbox"
Status = OutboundMessage.Status

SENDERS: dict[str, Callable[[OutboundMessage], str]] = {Route.EMAIL: email.send, Route.GATEWAY: gateway.send}
SURVEY_SENDERS: dict[str, Callable[[OutboundMessage], str]] = {
    Route.EMAIL: email.send_survey,
    Route.GATEWAY: gateway.send_survey,
}


class OutboxError(Exception):
    """A request about the outbox that cannot be done; the message is for the person who asked."""


def max_attempts() -> int:
    return max(1, int(settings.CHANNELS_MAX_ATTEMPTS))


# --- Enqueueing -----------------------------------------------------------------------


def enqueue() -> None:
    """Ask a django-q2 worker to deliver now; failing loses nothing (the per-minute schedule delivers)."""
    outbox.enqueue_task(TASK)


def enqueue_on_commit() -> None:
    outbox.enqueue_on_commit(enqueue)


# --- Queueing (inside the reply's transaction) -------------------------------------------


def queue(message: Message, *, counts_as_response: bool = True) -> OutboundMessage:
    """The outbox row of a new public message. A logged call is delivered at once; a message nothing can
    carry fails at once (its author and performer are told); the others wait for the worker."""
    now = timezone.now()
    route = route_for(message.ticket, message_channel=message.channel)
    row = OutboundMessage(
        message=message, route=route, counts_as_response=counts_as_response, created_at=now, next_attempt_at=now
    )
    if route == Route.PHONE:
        row.status, row.sent_at, row.result = Status.SENT, now, "logged call"
        row.save()
        message_delivery.message_delivered(message, at=now, route=route, counts_as_response=counts_as_response)
        return row
    if route == Route.NONE:
        row.status, row.last_error = Status.FAILED, "no channel can carry it (no email address, no reply URL)"
        row.save()
        _failed(row, row.last_error)
        return row
    if route == Route.EMAIL:
        row.mail_message_id = email.new_message_id(message)
    row.save()
    enqueue_on_commit()
    return row


def queue_survey(survey: SatisfactionSurvey) -> OutboundMessage:
    """The outbox row of a satisfaction survey (its route was chosen when it was opened); sent after commit."""
    now = timezone.now()
    row = OutboundMessage(
        survey=survey, route=survey.route, counts_as_response=False, created_at=now, next_attempt_at=now
    )
    if row.route == Route.EMAIL:
        row.mail_message_id = email.new_survey_message_id(survey)
    row.save()
    enqueue_on_commit()
    return row


@transaction.atomic
def retry_survey(survey: SatisfactionSurvey, *, actor) -> OutboundMessage:
    """Send a survey that was not delivered again, from the first attempt (its route is looked up anew)."""
    row = OutboundMessage.objects.select_for_update().filter(survey=survey).first()
    if row is None or row.status != Status.FAILED:
        raise OutboxError(_("Only a survey that was not delivered can be sent again."))
    route = reply_route(survey.ticket)
    try:
        satisfaction.survey_resend(survey, actor=actor, route=route)
    except satisfaction.SurveyError as exc:
        raise OutboxError(str(exc)) from None
    row.route = route
    if route == Route.EMAIL and not row.mail_message_id:
        row.mail_message_id = email.new_survey_message_id(survey)
    row.status, row.attempts, row.next_attempt_at, row.last_error = Status.PENDING, 0, timezone.now(), ""
    row.save(update_fields=["route", "mail_message_id", "status", "attempts", "next_attempt_at", "last_error"])
    enqueue_on_commit()
    return row


# --- The worker ----------------------------------------------------------------------------


def claim_due(*, now: datetime, limit: int = BATCH_SIZE) -> list[OutboundMessage]:
    token = outbox.claim(OutboundMessage.objects.filter(next_attempt_at__lte=now), limit=limit)
    if token is None:
        return []
    return list(
        OutboundMessage.objects.filter(claim_token=token)
        .select_related(
            "message__ticket__customer",
            "message__author",
            "message__ticket__performer",
            "survey__ticket__customer",
            "survey__ticket__performer",
        )
        .order_by("created_at", "pk")
    )


def reclaim_stale(*, now: datetime) -> int:
    failed, reclaimed = outbox.reclaim_stale(
        OutboundMessage.objects.all(),
        now=now,
        timeout_seconds=settings.CHANNELS_SENDING_TIMEOUT,
        max_attempts=max_attempts(),
    )
    if failed or reclaimed:
        logger.warning("reclaimed %d stuck outgoing messages, failed %d", reclaimed, failed)
    for row in OutboundMessage.objects.filter(status=Status.FAILED, message__delivery_status="sending").select_related(
        "message__ticket__performer", "message__author"
    ):
        _failed(row, row.last_error)
    for row in OutboundMessage.objects.filter(
        status=Status.FAILED, survey__state=SatisfactionSurvey.State.SENDING
    ).select_related("survey"):
        _failed(row, row.last_error)
    return failed + reclaimed


def send(row: OutboundMessage) -> str:
    """Send one claimed row; returns ``sent``, ``retrying`` or ``failed``."""
    mine = OutboundMessage.objects.filter(pk=row.pk, claim_token=row.claim_token, status=Status.SENDING)
    try:
        sender = (SURVEY_SENDERS if row.survey_id else SENDERS).get(row.route)
        if sender is None:
            raise PermanentFailure(f"no sender for route {row.route!r}")
        result = sender(row)
    except Exception as exc:
        permanent = isinstance(exc, PermanentFailure)
        error = (str(exc) or type(exc).__name__)[:2000]
        if permanent or row.attempts >= max_attempts():
            logger.error("outgoing message %s (%s) failed for good: %s", row.pk, row.route, error)
            with transaction.atomic():
                if mine.update(status=Status.FAILED, claim_token=None, last_error=error):
                    _failed(row, error)
            return "failed"
        logger.warning("outgoing message %s (%s) failed (attempt %d): %s", row.pk, row.route, row.attempts, error)
        with transaction.atomic():
            if mine.update(
                status=Status.PENDING,
                claim_token=None,
                last_error=error,
                next_attempt_at=timezone.now() + outbox.backoff(row.attempts),
            ):
                if row.survey_id:
                    satisfaction.survey_delivery_retrying(row.survey, error=error)
                else:
                    message_delivery.message_delivery_retrying(row.message, error=error)
        return "retrying"
    sent_at = timezone.now()
    with transaction.atomic():
        if mine.update(status=Status.SENT, claim_token=None, sent_at=sent_at, last_error="", result=str(result)[:300]):
            if row.survey_id:
                satisfaction.survey_delivered(row.survey, at=sent_at, route=row.route)
                return "sent"
            message_delivery.message_delivered(
                row.message,
                at=sent_at,
                route=row.route,
                counts_as_response=row.counts_as_response,
                mail_message_id=row.mail_message_id,
            )
    return "sent"


def deliver_pending(*, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """One delivery pass: everything due (up to ``limit``); ``{"sent": n, "failed": n, "retrying": n}``."""
    now = now or timezone.now()
    stats: Counter[str] = Counter()
    reclaim_stale(now=now)
    done = 0
    while done < limit:
        batch = claim_due(now=now, limit=min(BATCH_SIZE, limit - done))
        if not batch:
            break
        for row in batch:
            stats[send(row)] += 1
        done += len(batch)
    return {key: stats[key] for key in ("sent", "failed", "retrying")}


# --- Failure and retry ------------------------------------------------------------------------


def _failed(row: OutboundMessage, error: str) -> None:
    """The message did not reach the customer: say so on the message and tell the performer (or its author).

    A survey that did not reach the customer is recorded on the ticket; nobody is told (there is nothing to do).
    """
    if row.survey_id:
        satisfaction.survey_delivery_failed(row.survey, error=error, route=row.route)
        return
    message = row.message
    message_delivery.message_delivery_failed(message, error=error, route=row.route)
    ticket = message.ticket
    recipient = ticket.performer or message.author
    if recipient is None:
        return
    notify(
        recipient,
        kind="channels.delivery_failed",
        urgency=Urgency.IMPORTANT,
        title=_("A reply did not reach the customer"),
        body=error,
        url=reverse("tickets:detail", args=[ticket.pk]),
        ticket=ticket,
        dedupe_key=f"delivery-failed-{row.pk}-{timezone.now().timestamp():.0f}",  # once per failure
    )


@transaction.atomic
def retry(message: Message, *, actor) -> OutboundMessage:
    """Send a message that was not delivered again, from the first attempt (its route is looked up anew)."""
    row = OutboundMessage.objects.select_for_update().filter(message=message).first()
    if row is None or row.status != Status.FAILED:
        raise OutboxError(_("Only a reply that was not delivered can be sent again."))
    route = route_for(message.ticket, message_channel=message.channel)
    if route in (Route.NONE, Route.PHONE):
        raise OutboxError(
            _(
                "No channel can carry a reply to this customer (no email address, no reply URL). If you "
                "answered by phone, record it as a logged call."
            )
        )
    row.route = route
    if route == Route.EMAIL and not row.mail_message_id:
        row.mail_message_id = email.new_message_id(message)
    row.status, row.attempts, row.next_attempt_at, row.last_error = Status.PENDING, 0, timezone.now(), ""
    row.save(update_fields=["route", "mail_message_id", "status", "attempts", "next_attempt_at", "last_error"])
    message_delivery.message_delivery_retrying(message)
    enqueue_on_commit()
    return row
