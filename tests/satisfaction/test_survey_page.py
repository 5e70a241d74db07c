"""The customer's survey page: no login, a signed link, once, until it expires; nothing else about the ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from notifications.models import Notification
from tests.satisfaction.conftest import finish
from tickets.models import SatisfactionRating, SatisfactionSurvey, TicketEvent
from tickets.satisfaction import survey_link_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(work, engineer):
    finish(work, engineer)
    return SatisfactionSurvey.objects.get(ticket=work)


@pytest.fixture
def url(survey):
    return reverse("survey:answer", args=[survey_link_token(survey)])


def test_the_page_asks_the_one_question_in_the_customers_language(client, url, work):
    response = client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ru">' in page and "Как мы справились?" in page and "Отправить ответ" in page
    assert work.reference in page and work.title in page
    assert response["Referrer-Policy"] == "same-origin" and "no-store" in response["Cache-Control"]


def test_an_english_customer_reads_it_in_english(client, url, work, customer):
    SatisfactionSurvey.objects.filter(ticket=work).update(language="en")
    page = client.get(url).content.decode()
    assert '<html lang="en">' in page and "How did we do?" in page


def test_the_page_tells_nothing_about_the_ticket_beyond_its_number_and_title(client, url, work, engineer, customer):
    services_note = "Internal: the customer owes us money"
    from tickets import services

    services.ticket_add_note(work, body=services_note, actor=engineer)
    page = client.get(url).content.decode()
    for secret in (customer.email, customer.name, engineer.username, "Engineer", services_note, work.queue.name):
        assert secret not in page


def test_the_link_from_the_email_preselects_the_answer_and_a_get_changes_nothing(client, url):
    page = client.get(url + "?rating=bad").content.decode()
    assert 'value="bad" checked' in page
    assert 'value="good" checked' not in client.get(url + "?rating=<script>").content.decode()
    assert not SatisfactionRating.objects.exists()


def test_a_bad_answer_with_a_comment_is_stored_and_thanked(client, url, work, engineer):
    response = client.post(url, {"rating": "bad", "comment": "Бумага снова застряла"})
    assert response.status_code == 200
    assert "data-survey-thanks" in response.content.decode() and "Спасибо" in response.content.decode()
    answer = SatisfactionRating.objects.get(ticket=work)
    assert (answer.rating, answer.comment) == ("bad", "Бумага снова застряла")
    assert Notification.objects.filter(recipient=engineer, kind="work.satisfaction").exists()


def test_the_second_visit_says_already_answered_and_changes_nothing(client, url, work):
    client.post(url, {"rating": "good"})
    again = client.post(url, {"rating": "bad", "comment": "changed my mind"})
    assert again.status_code == 200 and 'data-survey-closed="answered"' in again.content.decode()
    assert "Ответ уже получен" in again.content.decode()
    assert 'data-survey-closed="answered"' in client.get(url).content.decode()
    assert list(SatisfactionRating.objects.values_list("rating", flat=True)) == ["good"]
    assert TicketEvent.objects.filter(ticket=work, kind="ticket.rated").count() == 1


def test_an_expired_link_says_so_and_takes_no_answer(client, url, survey):
    with time_machine.travel(survey.expires_at + timedelta(hours=1)):
        page = client.get(url)
        post = client.post(url, {"rating": "bad"})
    assert page.status_code == post.status_code == 410
    assert 'data-survey-closed="expired"' in page.content.decode() and "Срок опроса истёк" in page.content.decode()
    assert not SatisfactionRating.objects.exists()


@pytest.mark.parametrize("token", ["nonsense", "1:abc:def", "1", "x" * 500, "%00", "..%2f"])
def test_a_forged_token_is_a_404(client, survey, token):
    response = client.get(f"/survey/{token}/")
    assert response.status_code == 404
    assert client.post(f"/survey/{token}/", {"rating": "bad"}).status_code == 404
    assert not SatisfactionRating.objects.exists()


def test_another_surveys_id_under_this_signature_is_a_404(client, survey):
    token = survey_link_token(survey)
    forged = str(survey.pk + 1) + token[token.index(":") :]
    assert client.get(reverse("survey:answer", args=[forged])).status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"comment": "no rating"}, "Выберите один из ответов"),
        ({"rating": "excellent"}, "Выберите один из ответов"),
        ({"rating": "bad", "comment": "a\x00b"}, 'class="error"'),
        ({"rating": "bad", "comment": "x" * 2001}, "2000"),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, url, data, message):
    response = client.post(url, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not SatisfactionRating.objects.exists()


def test_a_lone_surrogate_in_the_raw_body_is_no_500(client, url):
    response = client.post(url, "rating=bad&comment=%ED%A0%80x", content_type="application/x-www-form-urlencoded")
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert "\ud800" not in SatisfactionRating.objects.get().comment


def test_the_form_needs_the_csrf_token(url):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(url, {"rating": "bad"}).status_code == 403
    assert not SatisfactionRating.objects.exists()
    page = strict.get(url).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_other_methods_are_refused(client, url):
    assert client.put(url).status_code == 405
    assert client.delete(url).status_code == 405


def test_the_answer_appears_on_the_ticket_page_for_those_who_see_the_ticket(
    client, url, work, engineer, other_engineer
):
    client.post(url, {"rating": "bad", "comment": "Снова мнёт бумагу"})
    staff = Client()
    staff.force_login(engineer)
    page = staff.get(reverse("tickets:detail", args=[work.pk])).content.decode()
    assert 'data-satisfaction-rating="bad"' in page and "Снова мнёт бумагу" in page
    outsider = Client()
    outsider.force_login(other_engineer)
    assert outsider.get(reverse("tickets:detail", args=[work.pk])).status_code == 404
