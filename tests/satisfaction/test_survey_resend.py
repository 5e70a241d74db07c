"""A survey that did not reach the customer can be sent again from the ticket page, by whom may retry a reply."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from channels import outbox
from channels.models import OutboundMessage
from notifications.channels import PermanentFailure
from tests.factories import MembershipFactory, UserFactory
from tests.satisfaction.conftest import finish
from tickets.models import SatisfactionSurvey, TicketEvent

pytestmark = pytest.mark.django_db
State = SatisfactionSurvey.State


@pytest.fixture
def failed(work, engineer, monkeypatch):
    """The mail server refused the survey for good; then it is back."""

    def refuse(outbound):
        raise PermanentFailure("550 mailbox unavailable")

    with monkeypatch.context() as patch:
        patch.setitem(outbox.SURVEY_SENDERS, "email", refuse)
        finish(work, engineer)
        assert outbox.deliver_pending()["failed"] == 1
    survey = SatisfactionSurvey.objects.get(ticket=work)
    assert survey.state == State.FAILED
    return survey


def resend_url(ticket) -> str:
    return reverse("channels:retry_survey", args=[ticket.pk])


@pytest.mark.parametrize("who", ["engineer", "dispatcher", "manager", "admin_user"])
def test_the_performer_dispatcher_manager_and_admin_send_a_failed_survey_again_and_it_arrives(
    client, request, work, failed, who
):
    person = request.getfixturevalue(who)
    client.force_login(person)
    page = client.get(reverse("tickets:detail", args=[work.pk])).content.decode()
    assert resend_url(work) in page and "550 mailbox unavailable" in page

    response = client.post(resend_url(work), follow=True)
    assert "The survey is being sent again." in response.content.decode()
    failed.refresh_from_db()
    assert (failed.state, failed.delivery_error) == (State.SENDING, "")
    event = TicketEvent.objects.get(ticket=work, kind="ticket.survey_resent")
    assert event.actor == person and event.data == {"route": "email"}

    assert outbox.deliver_pending() == {"sent": 1, "failed": 0, "retrying": 0}
    [sent] = mail.outbox
    assert "/survey/" in sent.body
    failed.refresh_from_db()
    assert failed.state == State.SENT


def test_a_colleague_who_does_not_perform_it_gets_403_an_outsider_404_and_a_get_405(
    client, queue, work, failed, other_engineer, engineer
):
    colleague = UserFactory(role="engineer")
    MembershipFactory(queue=queue, user=colleague)
    client.force_login(colleague)
    assert resend_url(work) not in client.get(reverse("tickets:detail", args=[work.pk])).content.decode()
    assert client.post(resend_url(work)).status_code == 403
    client.force_login(other_engineer)
    assert client.post(resend_url(work)).status_code == 404
    client.force_login(engineer)
    assert client.get(resend_url(work)).status_code == 405
    client.logout()
    assert client.post(resend_url(work)).status_code == 302  # to the login page
    failed.refresh_from_db()
    assert failed.state == State.FAILED
    assert not TicketEvent.objects.filter(kind="ticket.survey_resent").exists()


def test_a_survey_that_was_sent_or_whose_link_expired_is_not_sent_again(client, work, failed, engineer):
    client.force_login(engineer)
    expires_at = failed.expires_at
    SatisfactionSurvey.objects.filter(pk=failed.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.post(resend_url(work), follow=True)
    assert "The survey&#x27;s link has expired" in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == State.FAILED
    assert OutboundMessage.objects.get(survey=failed).status == OutboundMessage.Status.FAILED

    SatisfactionSurvey.objects.filter(pk=failed.pk).update(expires_at=expires_at)
    client.post(resend_url(work))
    outbox.deliver_pending()
    response = client.post(resend_url(work), follow=True)
    assert "Only a survey that was not delivered can be sent again." in response.content.decode()
    assert TicketEvent.objects.filter(kind="ticket.survey_resent").count() == 1
    assert len(mail.outbox) == 1


def test_a_ticket_without_a_survey_answers_404(client, work, engineer):
    client.force_login(engineer)
    assert client.post(resend_url(work)).status_code == 404
    assert not TicketEvent.objects.filter(kind="ticket.survey_resent").exists()
