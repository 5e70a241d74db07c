"""Customer satisfaction: the survey a done ticket sends, its delivery state, the answer and the figures.

The one writer of ``SatisfactionSurvey`` and ``SatisfactionRating`` (docs/satisfaction.md):

* ``survey_start`` opens the ticket's one survey when it is done (``channels.handlers.send_survey``
  reacts to ``StatusChanged`` and says which route reaches the customer); an internal task or a customer no
  channel reaches gets a skipped survey with the reason, and the history says so;
* the customer outbox reports what happened (``survey_delivered``, ``survey_delivery_failed``,
  ``survey_delivery_retrying``), the way ``tickets.delivery`` mirrors a public message;
* ``survey_link_token`` / ``survey_for_token`` make and read the signed link (no login; it expires);
* ``survey_answer`` stores the answer once; a bad answer reopens a done ticket when its queue says so,
  and ``SatisfactionRated`` tells the owner (``notifications``);
* ``satisfaction_summary`` counts answers of any ticket queryset (the dashboard, the SLA report, a
  customer page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locks import lock
from core.text import text_problem
from tickets import events, services
from tickets.errors import TicketError
from tickets.history import record
from tickets.models import Rating, SatisfactionRating, SatisfactionSurvey, Status, Ticket

SIGNING_SALT = "tickets.satisfaction.survey"
MAX_COMMENT = 2000
MAX_ERROR = 2000
State = SatisfactionSurvey.State
SkipReason = SatisfactionSurvey.SkipReason


class SurveyError(TicketError):
    """The answer cannot be taken; the message is for the customer."""


def max_age() -> timedelta:
    """How long a survey link works (``SATISFACTION_SURVEY_MAX_AGE`` seconds, from the moment the ticket is done)."""
    return timedelta(seconds=max(60, int(settings.SATISFACTION_SURVEY_MAX_AGE)))


# --- Opening the survey (inside the transaction that closes the ticket) --------------------------------


def survey_start(ticket: Ticket, *, route: str, at: datetime | None = None) -> SatisfactionSurvey | None:
    """The ticket's one survey, when it is done: ``sending`` through ``route``, or ``skipped`` with the reason.

    ``route``: how the customer's channel is reached (``email``, ``gateway``), "" when nothing can.
    Returns ``None`` when the ticket has a survey already (done again after a reopening: no second survey).
    """
    at = at or timezone.now()
    if SatisfactionSurvey.objects.filter(ticket=ticket).exists():
        return None
    if ticket.is_internal:
        return _skip(ticket, SkipReason.INTERNAL, at=at)
    if not route:
        return _skip(ticket, SkipReason.NO_ROUTE, at=at)
    return SatisfactionSurvey.objects.create(
        ticket=ticket,
        state=State.SENDING,
        route=route,
        language=ticket.customer.language or settings.LANGUAGE_CODE,
        created_at=at,
        expires_at=at + max_age(),
    )


def _skip(ticket: Ticket, reason: str, *, at: datetime) -> SatisfactionSurvey:
    survey = SatisfactionSurvey.objects.create(ticket=ticket, state=State.SKIPPED, skip_reason=reason, created_at=at)
    record(ticket, "ticket.survey_skipped", None, at=at, reason=str(reason))
    return survey


# --- Delivery (the customer outbox reports here) ---------------------------------------------------


@transaction.atomic
def survey_delivered(survey: SatisfactionSurvey, *, at: datetime, route: str) -> bool:
    """The customer's channel took the survey at ``at``; ``False`` (changing nothing) when recorded already."""
    updated = (
        SatisfactionSurvey.objects.filter(pk=survey.pk)
        .exclude(state__in=(State.SENT, State.SKIPPED))
        .update(state=State.SENT, sent_at=at, delivery_error="", route=route)
    )
    if not updated:
        return False
    survey.state, survey.sent_at, survey.delivery_error, survey.route = State.SENT, at, "", route
    record(survey.ticket_id, "ticket.survey_sent", None, at=at, route=route)
    return True


@transaction.atomic
def survey_delivery_failed(survey: SatisfactionSurvey, *, error: str, route: str) -> None:
    """No attempt is left (or the channel refused it for good): the customer did not get the survey."""
    error = (error or "")[:MAX_ERROR]
    updated = (
        SatisfactionSurvey.objects.filter(pk=survey.pk)
        .exclude(state__in=(State.SENT, State.SKIPPED, State.FAILED))
        .update(state=State.FAILED, delivery_error=error)
    )
    if updated:
        survey.state, survey.delivery_error = State.FAILED, error
        record(survey.ticket_id, "ticket.survey_failed", None, route=route, error=error)


@transaction.atomic
def survey_resend(survey: SatisfactionSurvey, *, actor, route: str, at: datetime | None = None) -> None:
    """Someone sends a survey that did not reach the customer again, through ``route`` (looked up anew).

    Refused (``SurveyError``) unless it failed, while its link still works and a channel reaches the customer."""
    at = at or timezone.now()
    if survey.state != State.FAILED:
        raise SurveyError(_("Only a survey that was not delivered can be sent again."))
    if survey.expires_at is not None and survey.expires_at <= at:
        raise SurveyError(_("The survey's link has expired: it cannot be sent again."))
    if not route:
        raise SurveyError(_("No channel reaches the customer (no email address, no reply URL)."))
    updated = SatisfactionSurvey.objects.filter(pk=survey.pk, state=State.FAILED).update(
        state=State.SENDING, delivery_error="", route=route
    )
    if not updated:
        raise SurveyError(_("Only a survey that was not delivered can be sent again."))
    survey.state, survey.delivery_error, survey.route = State.SENDING, "", route
    record(survey.ticket_id, "ticket.survey_resent", actor, at=at, route=route)


def survey_delivery_retrying(survey: SatisfactionSurvey, *, error: str = "") -> None:
    """Still on its way: a retry is due (``error``: why the last attempt failed)."""
    error = (error or "")[:MAX_ERROR]
    SatisfactionSurvey.objects.filter(pk=survey.pk, state=State.SENDING).update(delivery_error=error)
    survey.delivery_error = error


# --- The signed link ---------------------------------------------------------------------------------


def survey_link_token(survey: SatisfactionSurvey) -> str:
    """The token of the survey's link: the survey id signed with the site's key (no login, nothing stored)."""
    return signing.TimestampSigner(salt=SIGNING_SALT).sign(str(survey.pk))


@dataclass(frozen=True)
class Lookup:
    """What a token names: ``survey`` (or ``None``) and ``state`` (``open``, ``answered``, ``expired``, ``invalid``)."""

    state: str
    survey: SatisfactionSurvey | None = None


def survey_for_token(token: str) -> Lookup:
    """The survey a link's token names and whether it can still be answered; a forged token is ``invalid``."""
    signer = signing.TimestampSigner(salt=SIGNING_SALT)
    try:
        value = signer.unsign(token)
        pk = int(value)
    except (signing.BadSignature, ValueError, TypeError):
        return Lookup("invalid")
    survey = (
        SatisfactionSurvey.objects.select_related("ticket", "ticket__customer", "rating")
        .filter(pk=pk)
        .exclude(state=State.SKIPPED)
        .first()
    )
    if survey is None:
        return Lookup("invalid")
    if hasattr(survey, "rating"):
        return Lookup("answered", survey)
    try:
        signer.unsign(token, max_age=max_age())
    except signing.SignatureExpired:
        return Lookup("expired", survey)
    if survey.is_expired:
        return Lookup("expired", survey)
    return Lookup("open", survey)


# --- The answer ----------------------------------------------------------------------------------------


def clean_comment(comment: str) -> str:
    """The comment as stored: trimmed; NUL, lone surrogates and more than ``MAX_COMMENT`` characters refused."""
    comment = (comment or "").strip()
    problem = text_problem(comment)
    if problem:
        raise SurveyError(problem)
    if len(comment) > MAX_COMMENT:
        raise SurveyError(_("The comment is too long: at most %(max)d characters.") % {"max": MAX_COMMENT})
    return comment


@transaction.atomic
def survey_answer(survey: SatisfactionSurvey, *, rating: str, comment: str = "") -> SatisfactionRating:
    """Store the customer's answer once; a bad one reopens a done ticket when its queue says so.

    Raises ``SurveyError`` (changing nothing) for an unknown rating, a bad comment, an expired survey or a
    survey answered already.
    """
    if rating not in Rating.values:
        raise SurveyError(_("Choose one of the answers."))
    comment = clean_comment(comment)
    ticket = Ticket.objects.select_related("queue").get(pk=survey.ticket_id)
    lock(ticket)  # one answer at a time: the second one sees the first
    survey = SatisfactionSurvey.objects.get(pk=survey.pk)
    if survey.state == State.SKIPPED:
        raise SurveyError(_("This survey was never sent."))
    if SatisfactionRating.objects.filter(survey=survey).exists():
        raise SurveyError(_("This survey has been answered already."))
    if survey.is_expired:
        raise SurveyError(_("This survey has expired."))
    now = timezone.now()
    reopen = rating == Rating.BAD and ticket.queue.reopen_on_bad_rating and ticket.status == Status.DONE
    answer = SatisfactionRating.objects.create(
        survey=survey,
        ticket=ticket,
        rating=rating,
        comment=comment,
        answered_at=now,
        performer_id=ticket.performer_id,
        queue_id=ticket.queue_id,
        ticket_type_id=ticket.ticket_type_id,
        reopened=reopen,
    )
    record(ticket, "ticket.rated", None, at=now, rating=rating, comment=comment, reopened=reopen)
    if reopen:
        services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=None, cause="bad_rating")
    events.publish(events.SatisfactionRated(ticket=ticket, actor=None, at=now, rating=answer, reopened=reopen))
    return answer


def survey_loaded(ticket: Ticket) -> SatisfactionSurvey | None:
    """The survey of a ticket loaded with ``select_related("satisfaction_survey__rating")`` (no query), or ``None``."""
    try:
        return ticket.satisfaction_survey
    except SatisfactionSurvey.DoesNotExist:
        return None


def survey_of(ticket: Ticket) -> SatisfactionSurvey | None:
    """The ticket's survey with its answer selected (``hasattr(survey, "rating")`` without a query), or ``None``."""
    return SatisfactionSurvey.objects.filter(ticket=ticket).select_related("rating").first()


# --- Figures ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Answers of a set of tickets: counts per rating and the share of good ones (``None`` without answers)."""

    good: int = 0
    neutral: int = 0
    bad: int = 0

    @property
    def total(self) -> int:
        return self.good + self.neutral + self.bad

    @property
    def percent_good(self) -> float | None:
        return round(100 * self.good / self.total, 1) if self.total else None


_COUNTS = {
    "good": Count("pk", filter=Q(rating=Rating.GOOD)),
    "neutral": Count("pk", filter=Q(rating=Rating.NEUTRAL)),
    "bad": Count("pk", filter=Q(rating=Rating.BAD)),
}


def ratings_of(tickets: QuerySet[Ticket]) -> QuerySet[SatisfactionRating]:
    """The answers of ``tickets`` (any ticket queryset: visible_to(user), a customer's, a period's)."""
    return SatisfactionRating.objects.filter(ticket__in=tickets.values("pk"))


def satisfaction_summary(tickets: QuerySet[Ticket]) -> Summary:
    """Counts of good / neutral / bad answers of ``tickets`` and the share of good ones; one query.

    The selector a customer page, the dashboard and the SLA report share::

        summary = satisfaction_summary(Ticket.objects.filter(customer=customer))
        summary.good, summary.bad, summary.total, summary.percent_good  # percent_good is None without answers
    """
    return summarize(ratings_of(tickets))


def summarize(ratings: QuerySet[SatisfactionRating]) -> Summary:
    """``Summary`` of any queryset of answers (a period's, a scope's); one query."""
    row = ratings.aggregate(**_COUNTS)
    return Summary(**{key: row[key] or 0 for key in _COUNTS})


GROUPS = ("performer", "queue", "ticket_type")


def summarize_by(ratings: QuerySet[SatisfactionRating], field: str) -> dict[int | None, Summary]:
    """``summarize`` per ``performer``, ``queue`` or ``ticket_type`` (as the ticket was when answered); one query."""
    if field not in GROUPS:
        raise ValueError(f"cannot group satisfaction by {field!r}")
    rows = ratings.order_by().values(f"{field}_id").annotate(**_COUNTS)
    return {row[f"{field}_id"]: Summary(row["good"], row["neutral"], row["bad"]) for row in rows}


def satisfaction_by(tickets: QuerySet[Ticket], field: str) -> dict[int | None, Summary]:
    """``satisfaction_summary`` per ``performer``, ``queue`` or ``ticket_type`` (as the ticket was when answered)."""
    return summarize_by(ratings_of(tickets), field)
