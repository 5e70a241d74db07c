"""``{% inbox_badge %}``: the header link with the unread count, in one query."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from notifications.models import Notification, Urgency
from notifications.service import notify

TEMPLATE = Template("{% load notifications %}<header>{% inbox_badge %}</header>")


def render(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return TEMPLATE.render(Context({"request": request, "user": user}))


def test_the_badge_counts_unread_inbox_notifications_in_one_query(engineer, set_prefs, django_assert_num_queries):
    for n in range(3):
        notify(engineer, kind="t", urgency=Urgency.ROUTINE, title=f"n{n}", body="")
    Notification.objects.filter(title="n0").update(read_at=Notification.objects.get(title="n0").created_at)
    set_prefs(engineer, routine=["email"])
    notify(engineer, kind="t", urgency=Urgency.ROUTINE, title="email only", body="")  # not in the inbox
    with django_assert_num_queries(1):
        html = render(engineer)
    assert f'href="{reverse("notifications:inbox")}"' in html
    assert 'data-unread="2"' in html and '<span class="badge inbox-badge-count">2' in html


def test_without_unread_notifications_the_badge_shows_no_count(engineer):
    html = render(engineer)
    assert 'data-unread="0"' in html and "inbox-badge-count" not in html


def test_anonymous_visitors_get_no_badge(db):
    assert render(AnonymousUser()) == "<header></header>"
