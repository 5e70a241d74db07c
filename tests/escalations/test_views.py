"""The inbox, opening and marking notifications, and the settings page: own notifications only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import Notification, NotificationSettings, Urgency
from notifications.service import notify
from tests.factories import UserFactory

ROLES = ["engineer", "dispatcher", "manager", "admin_user"]


def note(user, title="Ticket #1 needs you", **kwargs):
    kwargs.setdefault("urgency", Urgency.ROUTINE)
    return notify(user, kind="t", title=title, body="Body text", **kwargs)


@pytest.fixture(autouse=True)
def english(client, settings):
    """Fixture users read Russian by profile; these tests read the English page."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def roleless(db):
    return UserFactory(username="roleless")


@pytest.mark.parametrize(
    ("name", "args", "method"),
    [
        ("inbox", [], "get"),
        ("settings", [], "get"),
        ("mark_all_read", [], "post"),
        ("mark_read", [1], "post"),
        ("open", [1], "get"),
    ],
)
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, name, args, method):
    response = getattr(client, method)(reverse(f"notifications:{name}", args=args))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ["inbox", "settings"])
def test_a_user_without_a_role_is_refused(client, roleless, name):
    client.force_login(roleless)
    assert client.get(reverse(f"notifications:{name}")).status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_its_own_inbox_and_nobody_elses(client, request, other_engineer, role):
    user = request.getfixturevalue(role)
    note(user, title="Mine to read")
    note(other_engineer, title="Somebody else's")
    client.force_login(user)
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    assert "Mine to read" in response.content.decode() and "Somebody else" not in response.content.decode()


@pytest.mark.parametrize(("name", "method"), [("open", "get"), ("open", "post"), ("mark_read", "post")])
def test_another_users_notification_is_a_404(client, engineer, other_engineer, name, method):
    theirs = note(other_engineer)
    client.force_login(engineer)
    response = getattr(client, method)(reverse(f"notifications:{name}", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_unread_notifications_are_bold_and_newest_first(client, engineer):
    older = note(engineer, title="Older one")
    newer = note(engineer, title="Newer one")
    Notification.objects.filter(pk=older.pk).update(created_at=newer.created_at.replace(year=2020))
    note_read = note(engineer, title="Already read")
    Notification.objects.filter(pk=note_read.pk).update(read_at=note_read.created_at)
    client.force_login(engineer)
    html = client.get(reverse("notifications:inbox")).content.decode()
    assert '<strong class="inbox-title">Newer one</strong>' in html
    assert '<span class="inbox-title">Already read</span>' in html
    assert html.index("Newer one") < html.index("Older one")


def test_the_unread_filter_shows_only_unread(client, engineer):
    note(engineer, title="Unread one")
    read = note(engineer, title="Read one")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    client.force_login(engineer)
    html = client.get(reverse("notifications:inbox") + "?show=unread").content.decode()
    assert "Unread one" in html and "Read one" not in html


def test_the_inbox_pages_and_runs_the_same_queries_for_any_page_size(
    client, engineer, ticket, django_assert_num_queries
):
    client.force_login(engineer)
    for n in range(3):
        note(engineer, title=f"n{n}", ticket=ticket)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("notifications:inbox"))
    for n in range(3, 40):
        note(engineer, title=f"n{n}", ticket=ticket)
    with django_assert_num_queries(len(few)):
        response = client.get(reverse("notifications:inbox"))
    assert len(response.context["page"].object_list) == 25
    second = client.get(reverse("notifications:inbox") + "?page=2")
    assert len(second.context["page"].object_list) == 15


def test_opening_a_notification_marks_it_read_and_leads_to_its_ticket(client, engineer, ticket):
    notification = note(engineer, ticket=ticket)
    client.force_login(engineer)
    response = client.post(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302 and response.url == reverse("tickets:detail", args=[ticket.pk])
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_an_email_link_opens_with_get_and_a_foreign_url_is_never_followed(client, engineer):
    local = note(engineer, url="/tickets/")
    foreign = note(engineer, url="https://evil.example/phish")
    bare = note(engineer)
    client.force_login(engineer)
    assert client.get(reverse("notifications:open", args=[local.pk])).url == "/tickets/"
    assert client.get(reverse("notifications:open", args=[foreign.pk])).url == reverse("notifications:inbox")
    assert client.get(reverse("notifications:open", args=[bare.pk])).url == reverse("notifications:inbox")
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_mark_read_and_mark_all_read_change_state_only_on_post(client, engineer, manager):
    first = note(engineer)
    note(engineer)
    mine_elsewhere = note(manager)
    client.force_login(engineer)
    assert client.get(reverse("notifications:mark_read", args=[first.pk])).status_code == 405
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405
    response = client.post(reverse("notifications:mark_read", args=[first.pk]), {"next": "/notifications/?page=1"})
    assert response.url == "/notifications/?page=1"
    assert Notification.objects.get(pk=first.pk).read_at is not None
    response = client.post(reverse("notifications:mark_all_read"), {"next": "https://evil.example/"})
    assert response.url == reverse("notifications:inbox")
    assert not Notification.objects.filter(recipient=engineer, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=mine_elsewhere.pk).read_at is None


# --- Settings page ---------------------------------------------------------------------


def valid_post(**overrides):
    data = {
        "routine_channels": ["in_app"],
        "important_channels": ["in_app", "email"],
        "critical_channels": ["in_app", "email", "sms"],
        "digest_window_minutes": "30",
        "quiet_hours": "on",
        "messenger_handle": "@aigerim",
        "phone": "+7 701 123-45-67",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("role", ROLES)
def test_every_role_can_open_its_settings_with_the_defaults(client, request, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = client.get(reverse("notifications:settings"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["critical_channels"].value() == ["in_app", "email", "webhook", "sms"]
    assert not NotificationSettings.objects.filter(user=user).exists(), "reading creates nothing"


def test_saving_the_settings_stores_them(client, engineer):
    client.force_login(engineer)
    response = client.post(reverse("notifications:settings"), valid_post())
    assert response.status_code == 302
    prefs = NotificationSettings.objects.get(user=engineer)
    assert prefs.critical_channels == ["in_app", "email", "sms"]
    assert (prefs.digest_window_minutes, prefs.quiet_hours, prefs.phone) == (30, True, "+77011234567")
    assert prefs.messenger_handle == "@aigerim"
    client.post(reverse("notifications:settings"), valid_post(quiet_hours=None))
    prefs.refresh_from_db()
    assert prefs.quiet_hours is False


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"critical_channels": ["email", "sms"]}, "critical_channels", "Critical notices always go to the in-app"),
        ({"routine_channels": None}, "routine_channels", "Choose at least one channel."),
        ({"important_channels": ["pigeon"]}, "important_channels", "Select a valid choice."),
        ({"digest_window_minutes": "500"}, "digest_window_minutes", "less than or equal to 240"),
        ({"phone": "call me"}, "phone", "Enter a phone number"),
        ({"messenger_handle": "bad handle!"}, "messenger_handle", "Use letters, digits"),
    ],
)
def test_bad_settings_show_errors_and_save_nothing(client, engineer, overrides, field, message):
    client.force_login(engineer)
    response = client.post(reverse("notifications:settings"), valid_post(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert message in response.content.decode()
    assert not NotificationSettings.objects.filter(user=engineer).exists()


def test_the_settings_page_warns_about_channels_that_cannot_reach_the_person(client, db):
    user = UserFactory(username="nomail", email="", role="engineer")
    client.force_login(user)
    html = client.get(reverse("notifications:settings")).content.decode()
    assert "your account has no email address" in html
    assert "no phone number" in html and "no messenger handle" in html


def test_the_settings_page_lists_the_persons_recent_deliveries_with_their_state(client, engineer):
    notify(engineer, kind="t", urgency=Urgency.CRITICAL, title="Breach", body="")
    from notifications.delivery import deliver_pending

    deliver_pending()
    client.force_login(engineer)
    html = client.get(reverse("notifications:settings")).content.decode()
    assert "not configured: no phone number" in html
    assert "sent to engineer@example.com" in html


def test_the_delivery_states_read_in_russian(client, engineer, settings):
    notify(engineer, kind="t", urgency=Urgency.CRITICAL, title="Breach", body="")
    from notifications.delivery import deliver_pending

    deliver_pending()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    client.force_login(engineer)
    html = client.get(reverse("notifications:settings")).content.decode()
    assert "sent to" not in html and "not configured" not in html
    assert "отправлено на engineer@example.com" in html
    assert "не настроено: не указан номер телефона" in html
