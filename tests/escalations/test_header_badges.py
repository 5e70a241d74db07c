"""The header badges' fragment that htmx refreshes every 60 s (``notifications:header_badges``)."""

from __future__ import annotations

from django.urls import reverse

from deferrals.models import DeferralRequest
from notifications.models import Urgency
from notifications.service import notify

URL = "notifications:header_badges"


def test_anonymous_visitors_get_204_and_no_body_not_a_login_redirect(client, db):
    response = client.get(reverse(URL))
    assert response.status_code == 204 and response.content == b""


def test_the_fragment_has_both_badges_in_a_constant_number_of_queries(
    client, engineer, manager, django_assert_max_num_queries
):
    client.force_login(engineer)
    with django_assert_max_num_queries(6):
        response = client.get(reverse(URL), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-unread="0"' in response.content.decode()
    for n in range(30):
        notify(engineer, kind="t", urgency=Urgency.ROUTINE, title=f"n{n}", body="")
    with django_assert_max_num_queries(6):
        html = client.get(reverse(URL)).content.decode()
    assert 'data-unread="30"' in html and "<html" not in html and "inbox-badge-count" in html
    client.force_login(manager)
    html = client.get(reverse(URL)).content.decode()
    assert 'data-pending-approvals="0"' in html and 'data-unread="0"' in html
    assert DeferralRequest.objects.count() == 0


def test_the_fragment_is_read_only_get(client, engineer):
    client.force_login(engineer)
    assert client.post(reverse(URL)).status_code == 405


def test_the_fragment_speaks_russian(client, engineer):
    notify(engineer, kind="t", urgency=Urgency.ROUTINE, title="n", body="")
    client.force_login(engineer)
    client.cookies["django_language"] = "ru"
    html = client.get(reverse(URL)).content.decode()
    assert "Уведомления" in html and "непрочитан" in html


def test_every_page_polls_the_fragment(client, engineer):
    client.force_login(engineer)
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert f'hx-get="{reverse(URL)}"' in html and 'hx-trigger="every 60s"' in html
    assert 'id="sla-countdown-config"' in html and "js/live.js" in html
