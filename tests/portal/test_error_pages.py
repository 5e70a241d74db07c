"""Branded 403, 404 and 500 pages in both languages, inside the portal layout (issue 19, careful user point 4).

Run with DEBUG off, as in production: Django's own pages are a bare "403 Forbidden" in English and the
debug 404. The 500 page is rendered by ``server_error`` without a request context or the database.
"""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.csrf import csrf_failure
from django.views.defaults import server_error

from tests.factories import TicketFactory

TEXT = {
    "en": {403: "Access denied", 404: "Page not found", 500: "Something went wrong on our side",
           "home": "Go to the start page", "nav": "My work"},
    "ru": {403: "Доступ запрещён", 404: "Страница не найдена", 500: "Что-то пошло не так на нашей стороне",
           "home": "На стартовую страницу", "nav": "Мои задачи"},
}


@pytest.fixture
def production(settings):
    settings.DEBUG = False


def as_user(client, user, language):
    user.profile.language = language
    user.profile.save(update_fields=["language"])
    client.force_login(user)
    return client


def assert_branded(response, status, language, *, navigation=True):
    assert response.status_code == status
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert f'data-error-page="{status}"' in html
    assert TEXT[language][status] in html
    assert TEXT[language]["home"] in html
    assert 'class="topbar"' in html
    assert ('class="mainnav"' in html) is navigation
    if navigation:
        assert TEXT[language]["nav"] in html
    assert "Traceback" not in html and "Django" not in html


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_page_the_role_may_not_open_is_a_branded_403(client, production, engineer, language):
    response = as_user(client, engineer, language).get(reverse("tickets:intake"))
    assert_branded(response, 403, language)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_ticket_the_user_may_not_see_is_a_branded_404(client, production, engineer, other_queue, language):
    hidden = TicketFactory(queue=other_queue)
    response = as_user(client, engineer, language).get(reverse("tickets:detail", args=[hidden.pk]))
    assert_branded(response, 404, language)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_unknown_address_is_a_branded_404_for_anyone(client, production, db, language):
    client.cookies["django_language"] = language
    response = client.get("/no/such/page/")
    assert_branded(response, 404, language, navigation=False)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_failing_view_is_a_branded_500(production, settings, engineer, language):
    settings.ROOT_URLCONF = "tests.portal.boom_urls"
    client = as_user(Client(raise_request_exception=False), engineer, language)
    response = client.get("/boom/")
    assert_branded(response, 500, language, navigation=False)  # no context processors: no user, no menu


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_500_page_needs_neither_the_request_context_nor_the_database(production, language):
    """No ``db`` fixture: any query fails the test. ``server_error`` renders with an empty context."""
    with translation.override(language):
        response = server_error(RequestFactory().get("/"))
    assert_branded(response, 500, language, navigation=False)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_refused_form_says_it_expired_in_the_layout(production, language):
    with translation.override(language):
        response = csrf_failure(RequestFactory().post("/"), reason="CSRF token missing.")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'data-error-page="403"' in html and 'class="topbar"' in html
    assert {"en": "The form has expired", "ru": "Срок действия формы истёк"}[language] in html
