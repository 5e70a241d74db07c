"""Work notices for agents: assignment, reassignment, the customer's answer, pull queues, roles, observers.

Each kind has its own test; then the rules every kind shares: nobody hears of their own action, each
kind can be turned off, quiet hours hold the outbox (never the inbox), the header badge counts them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from notifications import preferences
from notifications.models import Delivery, Notification, NotificationSettings, Urgency
from notifications.work import WorkKind
from tests.factories import CustomerFactory, MembershipFactory, QueueFactory, UserFactory
from tickets import services
from tickets.models import Channel, Priority, Status


def notices(user, kind=None):
    rows = Notification.objects.filter(recipient=user).order_by("pk")
    return list(rows.filter(kind=kind) if kind else rows)


def create(actor, queue, **fields):
    return services.ticket_create(
        actor=actor,
        title="Washing machine leaks",
        customer=CustomerFactory(),
        queue=queue,
        description="Water on the floor",
        **fields,
    )


@pytest.fixture
def colleague(db, queue):
    user = UserFactory(username="colleague", role="engineer")
    MembershipFactory(queue=queue, user=user)
    return user


# --- Each kind ---------------------------------------------------------------------------------------


def test_the_engineer_a_dispatcher_assigns_hears_of_it_by_app_and_email(dispatcher, engineer, queue):
    ticket = create(dispatcher, queue)
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    [notice] = notices(engineer)
    assert notice.kind == WorkKind.ASSIGNED and notice.urgency == Urgency.IMPORTANT
    assert notice.title == f"{ticket.reference} is assigned to you"
    assert notice.body == "“Washing machine leaks”, by Dispatcher"
    assert notice.ticket == ticket and notice.actor == dispatcher and notice.in_app
    assert list(Delivery.objects.filter(notification=notice).values_list("channel", flat=True)) == ["email"]
    assert notices(dispatcher) == []


def test_a_critical_ticket_assigned_is_a_critical_notice(dispatcher, engineer, queue):
    create(dispatcher, queue, priority=Priority.CRITICAL, performer=engineer)
    [notice] = notices(engineer)
    assert notice.urgency == Urgency.CRITICAL


def test_the_former_performer_hears_the_ticket_went_to_someone_else_or_back_to_the_queue(
    dispatcher, engineer, colleague, queue
):
    ticket = create(dispatcher, queue, performer=engineer)
    services.ticket_assign(ticket, performer=colleague, actor=dispatcher)
    [moved] = notices(engineer, WorkKind.REASSIGNED)
    assert moved.title == f"{ticket.reference} is now with Colleague" and moved.urgency == Urgency.ROUTINE
    assert [n.kind for n in notices(colleague)] == [WorkKind.ASSIGNED]

    services.ticket_unassign(ticket, actor=dispatcher, reason="Wrong skills")
    back = notices(colleague, WorkKind.REASSIGNED)
    assert [n.title for n in back] == [f"{ticket.reference} went back to its queue"]


def test_the_performer_hears_the_customer_answered_and_an_owner_apart_from_them_too(
    dispatcher, engineer, manager, queue
):
    ticket = create(dispatcher, queue, performer=engineer)
    services.ticket_set_people(ticket, actor=dispatcher, owner=manager)
    Notification.objects.all().delete()
    services.ticket_receive_customer_message(ticket, body="Still leaking,   see photo", channel=Channel.EMAIL)
    [to_performer] = notices(engineer)
    assert to_performer.kind == WorkKind.CUSTOMER_WROTE and to_performer.urgency == Urgency.IMPORTANT
    assert to_performer.title == f"The customer answered on {ticket.reference}"
    assert to_performer.body == "“Washing machine leaks”: Still leaking, see photo"
    [to_owner] = notices(manager)
    assert to_owner.kind == WorkKind.CUSTOMER_WROTE and to_owner.urgency == Urgency.ROUTINE


def test_the_agents_of_a_pull_queue_hear_of_a_new_ticket_but_not_the_one_who_created_it(dispatcher, db):
    pull = QueueFactory(name="Tech support", slug="tech", strategy="pull")
    agents = [UserFactory(username=f"agent{i}", role="engineer") for i in range(3)]
    for agent in agents:
        MembershipFactory(queue=pull, user=agent)
    ticket = create(agents[0], pull)
    for agent in agents[1:]:
        [notice] = notices(agent)
        assert notice.kind == WorkKind.QUEUE and notice.urgency == Urgency.ROUTINE
        assert notice.title == f"New ticket {ticket.reference} in Tech support"
    assert notices(agents[0]) == []


def test_a_ticket_handed_back_to_a_pull_queue_is_announced_to_the_others_only(dispatcher, db):
    pull = QueueFactory(name="Tech support", slug="tech", strategy="pull")
    first, second = (UserFactory(username=n, role="engineer") for n in ("first", "second"))
    for agent in (first, second):
        MembershipFactory(queue=pull, user=agent)
    ticket = create(dispatcher, pull, performer=first)
    Notification.objects.all().delete()
    services.ticket_change_status(ticket, status=Status.NEW, actor=first, comment="Not mine")
    assert [n.title for n in notices(second)] == [f"{ticket.reference} is back in Tech support"]
    assert notices(first) == []


def test_a_ticket_routed_automatically_is_not_announced_to_the_queue(dispatcher, engineer, queue):
    queue.strategy = "round_robin"
    queue.save()
    create(dispatcher, queue)
    assert [n.kind for n in notices(engineer)] == [WorkKind.ASSIGNED]


def test_people_made_owner_approver_or_observer_hear_of_their_role(dispatcher, engineer, manager, colleague, queue):
    ticket = create(dispatcher, queue, performer=engineer)
    Notification.objects.all().delete()
    services.ticket_set_people(ticket, actor=dispatcher, owner=colleague, approver=manager, observers=[engineer])
    assert [n.title for n in notices(colleague)] == [f"You are the owner of the result of {ticket.reference}"]
    assert [n.title for n in notices(manager)] == [f"You are the approver of {ticket.reference}"]
    assert [n.title for n in notices(engineer)] == [f"You observe {ticket.reference}"]
    assert {n.kind for n in Notification.objects.all()} == {WorkKind.ROLE}


def test_people_named_on_a_new_ticket_hear_of_their_role(dispatcher, engineer, manager, queue):
    ticket = create(dispatcher, queue, approver=manager, observers=[engineer])
    assert [n.title for n in notices(manager)] == [f"You are the approver of {ticket.reference}"]
    assert [n.title for n in notices(engineer)] == [f"You observe {ticket.reference}"]


def test_observers_hear_of_status_changes_and_of_the_resolution(dispatcher, engineer, manager, queue, waiting_reason):
    ticket = create(dispatcher, queue, performer=engineer, observers=[manager])
    assert [n.kind for n in notices(manager)] == [WorkKind.ROLE], "not of the automatic “assigned”"
    Notification.objects.all().delete()
    services.ticket_change_status(ticket, status=Status.WAITING, reason=waiting_reason, actor=engineer)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    services.ticket_change_status(ticket, status=Status.DONE, actor=engineer)
    assert [n.title for n in notices(manager)] == [
        f"{ticket.reference} is now “Waiting for external action”",
        f"{ticket.reference} is now “In progress”",
        f"{ticket.reference} is resolved",
    ]
    assert {n.kind for n in notices(manager)} == {WorkKind.OBSERVED}
    assert notices(engineer) == []


def test_notices_are_written_in_the_recipients_language(dispatcher, engineer, queue):
    engineer.profile.language = "ru"
    engineer.profile.save()
    ticket = create(dispatcher, queue, performer=engineer)
    [notice] = notices(engineer)
    assert notice.title == f"Заявка {ticket.reference} назначена вам"


# --- Rules every kind shares ----------------------------------------------------------------------------


def test_nobody_hears_of_their_own_action(engineer, queue, manager):
    ticket = create(engineer, queue, performer=engineer, observers=[engineer])
    services.ticket_set_people(ticket, actor=engineer, owner=engineer, approver=manager)
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    assert notices(engineer) == []
    assert [n.kind for n in notices(manager)] == [WorkKind.ROLE]


def test_a_kind_turned_off_is_not_sent_and_the_others_still_are(dispatcher, engineer, queue):
    NotificationSettings.objects.create(user=engineer, muted_kinds=[WorkKind.ASSIGNED.value])
    ticket = create(dispatcher, queue, performer=engineer)
    assert notices(engineer) == []
    services.ticket_receive_customer_message(ticket, body="Hello?", channel=Channel.EMAIL)
    assert [n.kind for n in notices(engineer)] == [WorkKind.CUSTOMER_WROTE]


def test_the_settings_page_turns_a_kind_off_and_on_again(client, engineer):
    client.force_login(engineer)
    page = client.get(reverse("notifications:settings"))
    assert page.status_code == 200
    for kind in WorkKind:
        assert f'value="{kind.value}"' in page.content.decode()
        assert page.context["form"]["work_notices"].initial == WorkKind.values
    data = {
        "routine_channels": ["in_app"],
        "important_channels": ["in_app", "email"],
        "critical_channels": ["in_app", "email"],
        "digest_window_minutes": 15,
        "quiet_hours": "on",
        "work_notices": [k for k in WorkKind.values if k != WorkKind.QUEUE],
    }
    assert client.post(reverse("notifications:settings"), data).status_code == 302
    assert NotificationSettings.objects.get(user=engineer).muted_kinds == [WorkKind.QUEUE.value]
    data["work_notices"] = WorkKind.values
    client.post(reverse("notifications:settings"), data)
    assert NotificationSettings.objects.get(user=engineer).muted_kinds == []


def test_the_settings_page_refuses_an_unknown_kind_and_saves_nothing(client, engineer):
    client.force_login(engineer)
    data = {
        "routine_channels": ["in_app"],
        "important_channels": ["in_app"],
        "critical_channels": ["in_app"],
        "digest_window_minutes": 15,
        "work_notices": ["escalation.level_1"],
    }
    response = client.post(reverse("notifications:settings"), data)
    assert response.status_code == 200 and response.context["form"].errors["work_notices"]
    assert not NotificationSettings.objects.filter(user=engineer).exists()


class OffShiftUntil:
    def __init__(self, opens_at):
        self.opens_at = opens_at

    def is_working(self, at):
        return at >= self.opens_at

    def next_opening(self, at):
        return max(at, self.opens_at)


def test_off_shift_the_assignment_is_in_the_inbox_at_once_and_the_email_waits(dispatcher, engineer, queue, monkeypatch):
    now = datetime(2026, 3, 16, 16, 0, tzinfo=UTC)  # 21:00 in Almaty
    opens_at = now + timedelta(hours=12)
    monkeypatch.setattr(preferences, "working_calendar_for", lambda user: OffShiftUntil(opens_at))
    with time_machine.travel(now, tick=False):
        create(dispatcher, queue, performer=engineer)
    [notice] = notices(engineer)
    assert notice.in_app and notice.read_at is None
    assert Delivery.objects.get(notification=notice).next_attempt_at == opens_at


def test_the_header_badge_counts_the_work_notices(client, dispatcher, engineer, queue):
    create(dispatcher, queue, performer=engineer)
    ticket = create(dispatcher, queue, performer=engineer)
    services.ticket_receive_customer_message(ticket, body="Any news?", channel=Channel.EMAIL)
    client.force_login(engineer)
    badge = client.get(reverse("notifications:header_badges")).content.decode()
    assert 'data-unread="3"' in badge
