"""The survey leaves when a ticket is done: through the customer outbox, for real, or not at all with a reason."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.core import mail

from channels import outbox
from channels.models import OutboundMessage
from tests.factories import CustomerFactory, IntakeChannelFactory, TicketFactory
from tests.satisfaction.conftest import finish
from tickets import services
from tickets.models import Channel, SatisfactionSurvey, Status, TicketEvent
from tickets.satisfaction import survey_for_token

pytestmark = pytest.mark.django_db
State = SatisfactionSurvey.State


def _link(body: str) -> str:
    return next(word for word in body.split() if "/survey/" in word)


def _token(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def test_a_done_ticket_queues_its_survey_in_the_customer_outbox(work, engineer):
    finish(work, engineer)
    survey = SatisfactionSurvey.objects.get(ticket=work)
    assert (survey.state, survey.route, survey.language) == (State.SENDING, "email", "ru")
    assert survey.expires_at > survey.created_at
    row = OutboundMessage.objects.get(survey=survey)
    assert row.message is None and row.status == OutboundMessage.Status.PENDING
    assert row.mail_message_id.startswith("<") and f".{work.pk}.s{survey.pk}@" in row.mail_message_id
    assert mail.outbox == []  # nothing says sent before it is sent


def test_the_survey_email_is_really_sent_in_the_customers_language_with_a_working_link(work, engineer):
    finish(work, engineer)
    assert outbox.deliver_pending() == {"sent": 1, "failed": 0, "retrying": 0}
    [sent] = mail.outbox
    assert sent.to[0].endswith("<alma@client.example>")
    assert f"[#{work.pk}]" in sent.subject and "Как мы справились" in sent.subject
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    link = _link(sent.body)
    assert link.startswith("http://") and "?rating=good" in sent.body
    lookup = survey_for_token(_token(link))
    assert lookup.state == "open" and lookup.survey.ticket_id == work.pk
    survey = SatisfactionSurvey.objects.get(ticket=work)
    assert survey.state == State.SENT and survey.sent_at is not None
    assert TicketEvent.objects.filter(ticket=work, kind="ticket.survey_sent", data__route="email").count() == 1
    assert outbox.deliver_pending()["sent"] == 0  # sent once


def test_a_survey_the_mail_server_refuses_for_good_is_recorded_as_not_delivered(work, engineer, monkeypatch):
    from notifications.channels import PermanentFailure

    def refuse(outbound):
        raise PermanentFailure("550 mailbox unavailable")

    monkeypatch.setitem(outbox.SURVEY_SENDERS, "email", refuse)
    finish(work, engineer)
    assert outbox.deliver_pending()["failed"] == 1
    survey = SatisfactionSurvey.objects.get(ticket=work)
    assert survey.state == State.FAILED and "550" in survey.delivery_error
    assert TicketEvent.objects.filter(ticket=work, kind="ticket.survey_failed").exists()
    assert not TicketEvent.objects.filter(ticket=work, kind="ticket.survey_sent").exists()


def test_a_failed_attempt_is_retried_and_the_survey_stays_sending(work, engineer, monkeypatch):
    from notifications.channels import DeliveryError

    def down(outbound):
        raise DeliveryError("connection refused")

    monkeypatch.setitem(outbox.SURVEY_SENDERS, "email", down)
    finish(work, engineer)
    assert outbox.deliver_pending()["retrying"] == 1
    survey = SatisfactionSurvey.objects.get(ticket=work)
    assert survey.state == State.SENDING and survey.delivery_error == "connection refused"


def test_a_gateway_customer_gets_the_survey_through_the_gateway(db, queue, engineer, dispatcher, gateway):
    bridge = IntakeChannelFactory(
        channel=Channel.MESSENGER, default_queue=queue, reply_url=gateway.url, reply_secret="s3cret"
    )
    customer = CustomerFactory(email="", phone="+7 900 000 00 00", language="en")
    ticket = services.ticket_create(
        actor=None,
        title="Router",
        customer=customer,
        queue=queue,
        description="down",
        channel=Channel.MESSENGER,
        intake_channel=bridge,
        external_id="m-1",
    )
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    finish(ticket, engineer)
    assert outbox.deliver_pending()["sent"] == 1
    [request] = gateway.requests
    payload = json.loads(request["body"])
    assert payload["type"] == "survey" and payload["ticket"]["id"] == ticket.pk
    assert payload["conversation"]["in_reply_to"] == "m-1"
    assert "/survey/" in payload["survey"]["url"] and payload["survey"]["url"] in payload["message"]["body"]
    assert request["headers"]["x-opsdesk-delivery"].startswith("survey-")
    assert SatisfactionSurvey.objects.get(ticket=ticket).state == State.SENT


def test_a_customer_no_channel_reaches_gets_no_survey_and_the_history_says_why(db, queue, engineer, dispatcher):
    ticket = TicketFactory(queue=queue, customer=CustomerFactory(email=""))
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    finish(ticket, engineer)
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    assert (survey.state, survey.skip_reason) == (State.SKIPPED, "no_route")
    assert not OutboundMessage.objects.filter(survey=survey).exists()
    assert TicketEvent.objects.get(ticket=ticket, kind="ticket.survey_skipped").data == {"reason": "no_route"}


def test_an_internal_task_gets_no_survey(db, queue, engineer, dispatcher):
    task = services.ticket_create(
        actor=dispatcher, title="Replace the badge reader", queue=queue, requester_user=dispatcher
    )
    services.ticket_assign(task, performer=engineer, actor=dispatcher)
    finish(task, engineer)
    survey = SatisfactionSurvey.objects.get(ticket=task)
    assert (survey.state, survey.skip_reason) == (State.SKIPPED, "internal")
    assert not OutboundMessage.objects.filter(survey__isnull=False).exists()


def test_a_reopened_ticket_done_again_sends_no_second_survey(work, engineer):
    finish(work, engineer)
    services.ticket_change_status(work, status=Status.IN_PROGRESS, actor=engineer)
    finish(work, engineer)
    assert SatisfactionSurvey.objects.filter(ticket=work).count() == 1
    assert OutboundMessage.objects.filter(survey__ticket=work).count() == 1


def test_other_status_changes_send_no_survey(work, engineer):
    services.ticket_change_status(work, status=Status.IN_PROGRESS, actor=engineer)
    services.ticket_change_status(work, status=Status.CANCELED, actor=engineer)
    assert not SatisfactionSurvey.objects.exists()


def test_the_ticket_page_shows_where_the_survey_stands(client, work, engineer):
    finish(work, engineer)
    client.force_login(engineer)
    page = client.get(f"/tickets/{work.pk}/").content.decode()
    assert 'data-satisfaction="sending"' in page
    outbox.deliver_pending()
    page = client.get(f"/tickets/{work.pk}/").content.decode()
    assert 'data-satisfaction="sent"' in page and "no answer yet" in page
