"""How channels reacts to the ticket lifecycle (subscribed in ``opsdesk/wiring.py``)."""

from __future__ import annotations

from channels import outbox
from channels.routes import reply_route
from tickets import events, satisfaction
from tickets.models import Status


def deliver_reply(event: events.PublicReplyAdded) -> None:
    """Queue the public message in the customer outbox (a logged call is delivered at once)."""
    outbox.queue(event.message, counts_as_response=event.counts_as_response)


def send_survey(event: events.StatusChanged) -> None:
    """A ticket done for the first time sends its customer the satisfaction survey (internal tasks and customers
    no channel reaches get none: the history says why)."""
    if event.new != Status.DONE:
        return
    survey = satisfaction.survey_start(event.ticket, route=reply_route(event.ticket), at=event.at)
    if survey is not None and survey.state == survey.State.SENDING:
        outbox.queue_survey(survey)
