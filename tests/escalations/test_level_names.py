"""Level names follow their trigger: an empty name is derived from trigger, clock and audience in the reader's
language (issue 19, careful user 8); a custom name stays."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils.translation import override

from escalations.defaults import DEFAULT_LADDER, install_default_ladders
from escalations.models import EscalationLevel
from escalations.selectors import escalation_counts
from notifications.models import Notification
from tests.factories import MembershipFactory, UserFactory
from tickets import history

from .ladders import ladder, office_calendar, sla_policy
from .test_sweep import MONDAY_10, at, open_ticket, run


def level(**fields) -> EscalationLevel:
    fields.setdefault("clock", "any")
    return EscalationLevel(**fields)


def in_both(item) -> tuple[str, str]:
    with override("en"):
        english = item.display_name
    with override("ru"):
        russian = item.display_name
    return english, russian


@pytest.mark.parametrize(("fields", "english", "russian"), [
    ({"clock": "resolution", "trigger_percent": 60, "to_performer": True},
     "Warning: 60 % of resolution time used — performer",
     "Предупреждение: использовано 60 % времени на решение — исполнитель"),
    ({"trigger_offset": -timedelta(minutes=30), "to_performer": True},
     "Warning: 30 min left of the target — performer",
     "Предупреждение: осталось 30 мин целевого времени — исполнитель"),
    ({"clock": "deadline", "trigger_percent": 100, "to_performer": True, "to_manager": True},
     "Breach: 100 % of the deadline used — performer, performer's manager",
     "Нарушение: использовано 100 % внутреннего срока — исполнитель, руководитель исполнителя"),
    ({"clock": "first_response", "trigger_percent": 200, "to_director": True},
     "Overdue: 200 % of first response time used — service director",
     "Просрочка: использовано 200 % времени на первый ответ — директор по сервису"),
    ({"clock": "next_reply", "trigger_offset": timedelta(hours=2)},
     "Overdue: 2 h past next reply time",
     "Просрочка: 2 ч сверх времени на следующий ответ"),
])
def test_an_unnamed_level_is_named_after_its_trigger_clock_and_audience_in_both_languages(fields, english, russian):
    assert in_both(level(**fields)) == (english, russian)


def test_a_custom_name_stays_whatever_the_trigger_and_language():
    custom = level(name="Call the boss", trigger_percent=60, to_performer=True)
    assert in_both(custom) == ("Call the boss", "Call the boss")
    assert custom.default_name_in("en") == "Warning: 60 % of the target used — performer"


def test_the_shipped_ladders_are_named_by_their_triggers(db):
    policy = install_default_ladders()[DEFAULT_LADDER]
    with override("en"):
        names = [item.display_name for item in policy.levels.order_by("order")]
    assert names == [
        "Warning: 50 % of the target used — performer",
        "Warning: 30 min left of the target — performer",
        "Warning: 80 % of the target used — performer, shift lead",
        "Breach: 100 % of the deadline used — performer, performer's manager",
        "Breach: 100 % of the target used — shift lead, head of department",
        "Overdue: 200 % of the target used — service director",
        "Warning: 80 % of next reply time used — performer",
        "Breach: 100 % of next reply time used — performer, shift lead",
    ]


def test_a_name_equal_to_the_derived_default_is_not_kept_so_it_never_goes_stale(db):
    policy = ladder("Shop", [{"name": "", "trigger_percent": 50, "to_performer": True}])
    item = policy.levels.get()
    item.name = "Warning: 50 % of the target used — performer"  # typed in, or left from an older default
    item.trigger_percent = 60
    item.full_clean()
    item.save()
    with override("en"):
        assert item.display_name == "Warning: 60 % of the target used — performer"
    item.name = "Предупреждение: использовано 60 % целевого времени — исполнитель"
    item.full_clean()
    assert item.name == ""
    item.name = "  Call the boss "
    item.full_clean()
    assert item.name == "Call the boss"


def test_the_admin_change_of_a_trigger_renames_an_unnamed_level(client, admin_user):
    policy = install_default_ladders()[DEFAULT_LADDER]
    client.force_login(admin_user)
    client.cookies["django_language"] = "en"
    url = reverse("admin:escalations_escalationpolicy_change", args=[policy.pk])
    html = client.get(url).content.decode()
    assert "Warning: 50 % of the target used — performer" in html
    level_url = reverse("admin:escalations_escalationlevel_change", args=[policy.levels.get(order=10).pk])
    assert level_url in html  # the rarely used fields are one click away
    assert client.get(level_url).status_code == 200


@pytest.fixture
def calendar(db):
    return office_calendar()


@pytest.fixture
def russian_engineer(queue):
    person = UserFactory(username="aigul", role="engineer", profile__language="ru")
    MembershipFactory(queue=queue, user=person)
    return person


def test_notices_and_history_name_an_unnamed_level_in_the_readers_language(db, calendar, queue, russian_engineer):
    standard = sla_policy(calendar, name="Standard request")
    ladder("Shop", [{"clock": "first_response", "trigger_percent": 50, "to_performer": True}],
           sla_policies=[standard])
    ticket = open_ticket(MONDAY_10, queue, russian_engineer)
    assert run(at(1))["fired"] == 1
    notice = Notification.objects.get(recipient=russian_engineer, kind__startswith="escalation")
    assert notice.title.startswith("Предупреждение: использовано 50 % времени на первый ответ — исполнитель: #")

    event = ticket.events.get(kind="ticket.escalated")
    assert event.data["level_name"] == ""
    sentence = history.sentence_for("ticket.escalated")
    row = SimpleNamespace(data=event.data)
    with override("en"):
        assert "Warning: 50 % of first response time used — performer" in sentence(row, "", None, ticket)
    with override("ru"):
        assert "Предупреждение: использовано 50 % времени на первый ответ" in sentence(row, "", None, ticket)
    with override("en"):
        counts = escalation_counts(at(0), at(2))["automatic"]
    assert counts == {"Warning: 50 % of first response time used — performer": 1}
