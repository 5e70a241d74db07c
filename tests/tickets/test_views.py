"""The portal views: who may do what, and what a bad request leaves behind (nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    QueueFactory,
    TicketFactory,
    UserFactory,
    VipTierFactory,
)
from tickets import services
from tickets.models import Message, Status, Ticket, TicketEvent

ACTIONS = ["reply", "note", "status", "next_step", "assign", "unassign", "triage"]
PAGES = ["tickets:my_work", "tickets:intake", "tickets:list", "tickets:create", "tickets:customer_search"]


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def snapshot(ticket: Ticket) -> tuple:
    """Everything an action could change, to assert that a refused one changed nothing."""
    fresh = Ticket.objects.get(pk=ticket.pk)
    return (
        fresh.status,
        fresh.performer_id,
        fresh.owner_id,
        fresh.blocking_reason_id,
        fresh.priority,
        fresh.queue_id,
        fresh.ticket_type_id,
        fresh.next_step,
        fresh.next_step_due,
        Message.objects.filter(ticket=fresh).count(),
        TicketEvent.objects.filter(ticket=fresh).count(),
    )


@pytest.fixture
def assigned(ticket, engineer, dispatcher):
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    ticket.refresh_from_db()
    return ticket


# --- Anonymous visitors -------------------------------------------------------------


@pytest.mark.parametrize("name", ["home", *PAGES])
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("action", ["detail", *ACTIONS])
def test_anonymous_visitors_cannot_reach_a_ticket_or_act_on_it(client, ticket, action):
    before = snapshot(ticket)
    response = client.post(reverse(f"tickets:{action}", args=[ticket.pk]), {"body": "x", "status": "canceled"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert snapshot(ticket) == before


def test_the_login_page_renders_with_the_language_switch(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="language" value="ru"' in content and 'rel="icon" href="data:,"' in content


# --- Home and language --------------------------------------------------------------------


def test_home_sends_dispatchers_to_the_intake_and_everyone_else_to_their_work(client, dispatcher, engineer, manager):
    client.force_login(dispatcher)
    assert client.get(reverse("home")).url == reverse("tickets:intake")
    for user in (engineer, manager):
        client.force_login(user)
        assert client.get(reverse("home")).url == reverse("tickets:my_work")


def test_switching_the_language_sets_the_cookie_and_the_profile(client, engineer):
    client.force_login(engineer)
    engineer.profile.language = "en"
    engineer.profile.save()
    response = client.post(reverse("set_language"), {"language": "ru", "next": reverse("tickets:list")})
    assert response.status_code == 302 and response.url == reverse("tickets:list")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    engineer.profile.refresh_from_db()
    assert engineer.profile.language == "ru"


def test_switching_the_language_refuses_an_unknown_language_and_changes_nothing(client, engineer):
    client.force_login(engineer)
    engineer.profile.language = "en"
    engineer.profile.save()
    response = client.post(reverse("set_language"), {"language": "de"})
    assert response.status_code == 400
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    engineer.profile.refresh_from_db()
    assert engineer.profile.language == "en"


def test_switching_the_language_never_redirects_to_another_site(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})
    assert response.url == reverse("home")


def test_switching_the_language_is_a_post(client, engineer):
    client.force_login(engineer)
    assert client.get(reverse("set_language"), {"language": "ru"}).status_code == 405


def test_the_page_is_rendered_in_the_chosen_language(client, engineer):
    client.force_login(engineer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    content = client.get(reverse("tickets:my_work")).content.decode()
    assert '<html lang="ru">' in content


# --- Empty database ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("tickets:my_work", "Nothing on your desk right now"),
        ("tickets:list", "No tickets match these filters"),
        ("tickets:intake", "The intake is clear"),
        ("tickets:create", "Create ticket"),
    ],
)
def test_pages_render_a_friendly_empty_state_on_an_empty_database(client, db, name, text):
    client.force_login(UserFactory(username="boss", role="admin", is_staff=True))
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert text in response.content.decode()


def test_the_layout_shows_navigation_by_role(client, engineer, dispatcher):
    client.force_login(engineer)
    content = client.get(reverse("tickets:my_work")).content.decode()
    assert reverse("tickets:list") in content and reverse("tickets:my_work") in content
    assert reverse("tickets:intake") not in content and reverse("tickets:create") not in content
    assert reverse("admin:index") not in content
    client.force_login(dispatcher)
    content = client.get(reverse("tickets:my_work")).content.decode()
    assert reverse("tickets:intake") in content and reverse("tickets:create") in content


# --- My work --------------------------------------------------------------------------------------


def test_my_work_lists_open_tickets_the_user_performs_or_owns(client, engineer, queue):
    performed = TicketFactory(queue=queue, performer=engineer, status=Status.ASSIGNED, title="Performed one")
    owned = TicketFactory(queue=queue, owner=engineer, title="Owned one")
    TicketFactory(queue=queue, performer=engineer, status=Status.DONE, title="Finished one")
    TicketFactory(queue=queue, title="Somebody else's")
    client.force_login(engineer)
    content = client.get(reverse("tickets:my_work")).content.decode()
    assert performed.title in content and owned.title in content
    assert "Finished one" not in content and "Somebody else" not in content


def test_my_work_filters_by_status_and_overdue(client, engineer, queue):
    late = TicketFactory(queue=queue, performer=engineer, status=Status.IN_PROGRESS, title="Late one",
                         deadline=timezone.now() - timedelta(hours=1))
    TicketFactory(queue=queue, performer=engineer, status=Status.ASSIGNED, title="Fresh one",
                  deadline=timezone.now() + timedelta(days=1))
    client.force_login(engineer)
    content = client.get(reverse("tickets:my_work"), {"overdue": "on"}).content.decode()
    assert late.title in content and "Fresh one" not in content
    assert 'class="overdue"' in content
    content = client.get(reverse("tickets:my_work"), {"status": "assigned"}).content.decode()
    assert "Fresh one" in content and "Late one" not in content


# --- Intake -------------------------------------------------------------------------------------------


def test_the_intake_shows_unassigned_tickets_of_the_dispatched_queues_oldest_first(client, dispatcher, queue, engineer):
    old = TicketFactory(queue=queue, title="Older call", created_at=timezone.now() - timedelta(hours=3))
    new = TicketFactory(queue=queue, title="Newer call")
    TicketFactory(queue=queue, title="Already taken", performer=engineer, status=Status.ASSIGNED)
    TicketFactory(queue=QueueFactory(slug="elsewhere"), title="Other desk")
    client.force_login(dispatcher)
    content = client.get(reverse("tickets:intake")).content.decode()
    assert content.index(old.title) < content.index(new.title)
    assert "Already taken" not in content and "Other desk" not in content
    assert f'<option value="{engineer.pk}">Engineer</option>' in content


def test_engineers_may_not_open_the_intake_create_tickets_or_assign(client, engineer, ticket):
    client.force_login(engineer)
    assert client.get(reverse("tickets:intake")).status_code == 403
    assert client.get(reverse("tickets:create")).status_code == 403
    assert client.post(reverse("tickets:create"), {"title": "x"}).status_code == 403
    assert client.get(reverse("tickets:customer_search"), {"customer_q": "cu"}).status_code == 403
    before = snapshot(ticket)
    assert client.post(reverse("tickets:assign", args=[ticket.pk]), {"performer": engineer.pk}).status_code == 403
    assert client.post(reverse("tickets:unassign", args=[ticket.pk])).status_code == 403
    triage = {"priority": 4, "queue": ticket.queue_id}
    assert client.post(reverse("tickets:triage", args=[ticket.pk]), triage).status_code == 403
    assert snapshot(ticket) == before


def test_a_dispatcher_assigns_from_the_intake_and_comes_back_to_it(client, dispatcher, engineer, ticket):
    client.force_login(dispatcher)
    board = reverse("tickets:intake")
    response = client.post(reverse("tickets:assign", args=[ticket.pk]), {"performer": engineer.pk, "next": board})
    assert response.status_code == 302 and response.url == board
    ticket.refresh_from_db()
    assert ticket.performer == engineer and ticket.status == Status.ASSIGNED
    assert any("is now with Engineer" in m for m in messages_of(response))
    assert ticket.title not in client.get(board).content.decode()


def test_assigning_refuses_people_outside_the_queue_and_unknown_ids(client, dispatcher, ticket, other_engineer):
    client.force_login(dispatcher)
    before = snapshot(ticket)
    for performer in (other_engineer.pk, 999999, "abc", ""):
        response = client.post(reverse("tickets:assign", args=[ticket.pk]), {"performer": performer})
        assert response.status_code == 302 and messages_of(response)
    assert snapshot(ticket) == before


def test_a_manager_sees_the_team_tickets_and_may_assign_them(client, manager, engineer, queue):
    team_ticket = TicketFactory(queue=QueueFactory(slug="field"), performer=engineer, status=Status.ASSIGNED,
                                title="Team work")
    MembershipFactory(queue=team_ticket.queue, user=engineer)
    TicketFactory(queue=QueueFactory(slug="remote"), title="Not the team's")
    client.force_login(manager)
    content = client.get(reverse("tickets:list")).content.decode()
    assert "Team work" in content and "Not the team" not in content
    assert client.get(reverse("tickets:detail", args=[team_ticket.pk])).status_code == 200
    response = client.post(reverse("tickets:unassign", args=[team_ticket.pk]), {"reason": "rebalancing"})
    assert response.status_code == 302
    team_ticket.refresh_from_db()
    assert team_ticket.performer is None and team_ticket.status == Status.NEW
    TicketFactory(queue=QueueFactory(slug="managed", manager=manager), title="Managed queue call")
    assert "Managed queue call" in client.get(reverse("tickets:intake")).content.decode()


# --- Ticket list ------------------------------------------------------------------------------------------


def test_the_list_shows_only_visible_tickets(client, engineer, queue, other_queue):
    TicketFactory(queue=queue, title="Mine to see")
    TicketFactory(queue=other_queue, title="Sales secret")
    client.force_login(engineer)
    content = client.get(reverse("tickets:list")).content.decode()
    assert "Mine to see" in content and "Sales secret" not in content


def test_the_list_filters_by_statuses_customer_text_and_overdue(client, admin_user, engineer, waiting_reason):
    alma = CustomerFactory(name="Alma Store", phone="+77011234567")
    waiting = TicketFactory(customer=alma, title="Broken fridge", performer=engineer, status=Status.WAITING,
                            blocking_reason=waiting_reason)
    TicketFactory(title="Printer jam", status=Status.NEW)
    done = TicketFactory(title="Closed job", status=Status.DONE, performer=engineer,
                         deadline=timezone.now() - timedelta(days=1))
    late = TicketFactory(title="Late job", status=Status.NEW, deadline=timezone.now() - timedelta(days=1))
    client.force_login(admin_user)
    url = reverse("tickets:list")

    def titles(**params):
        content = client.get(url, params).content.decode()
        return {t for t in ("Broken fridge", "Printer jam", "Closed job", "Late job") if t in content}

    assert titles(status=["waiting", "done"]) == {waiting.title, done.title}
    assert titles(customer="7011 234") == {waiting.title}
    assert titles(customer="alma") == {waiting.title}
    assert titles(q="jam") == {"Printer jam"}
    assert titles(overdue="on") == {late.title}
    assert titles(blocking_reason=waiting_reason.pk) == {waiting.title}
    assert titles(performer=engineer.pk) == {waiting.title, done.title}


def test_a_bad_filter_value_is_reported_not_a_crash(client, engineer, queue):
    TicketFactory(queue=queue, title="Still listed")
    client.force_login(engineer)
    response = client.get(reverse("tickets:list"), {"queue": "abc", "status": "bogus", "sort": "nonsense"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Still listed" in content and 'class="error"' in content


def test_the_list_is_sortable_and_paginated(client, admin_user):
    for n in range(30):
        TicketFactory(title=f"Item {n:02d}")
    client.force_login(admin_user)
    response = client.get(reverse("tickets:list"), {"sort": "title"})
    content = response.content.decode()
    assert "Item 00" in content and "Item 29" not in content
    assert 'rel="next"' in content
    content = client.get(reverse("tickets:list"), {"sort": "title", "page": 2}).content.decode()
    assert "Item 29" in content


# --- Ticket page --------------------------------------------------------------------------------------------


def test_the_ticket_page_shows_the_ticket_conversation_and_history(client, engineer, dispatcher, assigned):
    services.ticket_reply(assigned, body="We are on it", actor=engineer)
    services.ticket_add_note(assigned, body="Call the warehouse", actor=engineer)
    client.force_login(engineer)
    content = client.get(reverse("tickets:detail", args=[assigned.pk])).content.decode()
    assert assigned.title in content and assigned.customer.name in content
    assert "msg-reply" in content and "msg-note" in content
    assert "Dispatcher assigned the ticket to Engineer." in content
    assert "Engineer replied to the customer (first response)." in content
    assert reverse("tickets:reply", args=[assigned.pk]) in content
    assert reverse("tickets:assign", args=[assigned.pk]) not in content


def test_the_vip_tier_of_the_customer_is_shown(client, engineer, queue):
    ticket = TicketFactory(queue=queue, customer=CustomerFactory(vip_tier=VipTierFactory(name="Platinum")))
    client.force_login(engineer)
    assert "VIP · Platinum" in client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()


def test_observers_see_the_ticket_without_forms(client, other_engineer, ticket):
    ticket.observers.add(other_engineer)
    client.force_login(other_engineer)
    response = client.get(reverse("tickets:detail", args=[ticket.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert reverse("tickets:reply", args=[ticket.pk]) not in content
    assert reverse("tickets:status", args=[ticket.pk]) not in content
    before = snapshot(ticket)
    assert client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "hi"}).status_code == 403
    assert snapshot(ticket) == before


@pytest.mark.parametrize("action", ["detail", *ACTIONS])
def test_an_engineer_of_another_queue_gets_404_on_the_ticket_and_every_action(client, other_engineer, ticket, action):
    client.force_login(other_engineer)
    before = snapshot(ticket)
    url = reverse(f"tickets:{action}", args=[ticket.pk])
    response = client.get(url) if action == "detail" else client.post(url, {"body": "x", "status": "canceled"})
    assert response.status_code == 404
    assert snapshot(ticket) == before


@pytest.mark.parametrize("action", ["detail", *ACTIONS])
def test_unknown_tickets_are_404(client, admin_user, action, db):
    client.force_login(admin_user)
    url = reverse(f"tickets:{action}", args=[424242])
    assert (client.get(url) if action == "detail" else client.post(url)).status_code == 404


@pytest.mark.parametrize("action", ACTIONS)
def test_action_urls_refuse_get(client, admin_user, ticket, action):
    client.force_login(admin_user)
    assert client.get(reverse(f"tickets:{action}", args=[ticket.pk])).status_code == 405


# --- Actions ------------------------------------------------------------------------------------------------


def test_the_performer_replies_and_the_ticket_goes_to_work(client, engineer, assigned):
    client.force_login(engineer)
    response = client.post(reverse("tickets:reply", args=[assigned.pk]), {"body": "Coming tomorrow"})
    assert response.status_code == 302 and response.url == reverse("tickets:detail", args=[assigned.pk])
    assigned.refresh_from_db()
    assert assigned.status == Status.IN_PROGRESS
    assert assigned.messages.get(kind=Message.Kind.PUBLIC_REPLY).body == "Coming tomorrow"


@pytest.mark.parametrize("action", ["reply", "note"])
def test_an_empty_message_is_refused_with_a_message(client, engineer, assigned, action):
    client.force_login(engineer)
    before = snapshot(assigned)
    response = client.post(reverse(f"tickets:{action}", args=[assigned.pk]), {"body": "   "})
    assert response.status_code == 302
    assert any("empty" in m for m in messages_of(response))
    assert snapshot(assigned) == before


def test_a_note_is_added(client, engineer, assigned):
    client.force_login(engineer)
    client.post(reverse("tickets:note", args=[assigned.pk]), {"body": "Parts ordered"})
    assert assigned.messages.get().kind == Message.Kind.INTERNAL_NOTE


def test_waiting_needs_a_reason_and_gets_it(client, engineer, assigned, waiting_reason):
    client.force_login(engineer)
    url = reverse("tickets:status", args=[assigned.pk])
    before = snapshot(assigned)
    response = client.post(url, {"status": "waiting", "reason": ""})
    assert any("blocking reason" in m for m in messages_of(response))
    assert snapshot(assigned) == before
    client.post(url, {"status": "waiting", "reason": waiting_reason.pk, "comment": "asked for photos"})
    assigned.refresh_from_db()
    assert assigned.status == Status.WAITING and assigned.blocking_reason == waiting_reason


def test_a_reason_left_selected_is_ignored_for_other_statuses(client, engineer, assigned, waiting_reason):
    client.force_login(engineer)
    client.post(reverse("tickets:status", args=[assigned.pk]), {"status": "in_progress", "reason": waiting_reason.pk})
    assigned.refresh_from_db()
    assert assigned.status == Status.IN_PROGRESS and assigned.blocking_reason is None


@pytest.mark.parametrize("status", ["nonsense", "new_ish", ""])
def test_an_unknown_status_is_refused(client, engineer, assigned, status):
    client.force_login(engineer)
    before = snapshot(assigned)
    response = client.post(reverse("tickets:status", args=[assigned.pk]), {"status": status})
    assert messages_of(response)
    assert snapshot(assigned) == before


def test_a_transition_the_lifecycle_forbids_is_refused(client, engineer, queue):
    ticket = TicketFactory(queue=queue, performer=engineer, status=Status.CANCELED)
    client.force_login(engineer)
    before = snapshot(ticket)
    response = client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "done"})
    assert messages_of(response)
    assert snapshot(ticket) == before


def test_the_next_step_is_saved_in_the_viewers_time_zone(client, engineer, assigned):
    engineer.profile.time_zone = "Asia/Almaty"
    engineer.profile.save()
    client.force_login(engineer)
    client.post(reverse("tickets:next_step", args=[assigned.pk]), {"text": "Call back", "due": "2031-05-04T10:30"})
    assigned.refresh_from_db()
    assert assigned.next_step == "Call back"
    assert assigned.next_step_due.isoformat() == "2031-05-04T05:30:00+00:00"


def test_a_next_step_date_without_text_is_refused(client, engineer, assigned):
    client.force_login(engineer)
    before = snapshot(assigned)
    response = client.post(reverse("tickets:next_step", args=[assigned.pk]), {"text": "", "due": "2031-05-04T10:30"})
    assert messages_of(response)
    assert snapshot(assigned) == before


def test_a_dispatcher_triages_and_a_bad_queue_changes_nothing(client, dispatcher, ticket):
    client.force_login(dispatcher)
    url = reverse("tickets:triage", args=[ticket.pk])
    before = snapshot(ticket)
    response = client.post(url, {"priority": 4, "queue": 999999})
    assert messages_of(response) and snapshot(ticket) == before
    client.post(url, {"priority": 4, "queue": ticket.queue_id, "ticket_type": ""})
    ticket.refresh_from_db()
    assert ticket.priority == 4 and ticket.ticket_type is None
    assert ticket.events.last().kind == "ticket.updated"


def test_triage_to_a_queue_the_dispatcher_does_not_see_lands_on_the_list(client, dispatcher, ticket, other_queue):
    client.force_login(dispatcher)
    response = client.post(reverse("tickets:triage", args=[ticket.pk]), {"priority": 2, "queue": other_queue.pk})
    assert response.url == reverse("tickets:list")
    ticket.refresh_from_db()
    assert ticket.queue == other_queue


def test_assigning_a_closed_ticket_shows_the_service_error(client, dispatcher, engineer, queue):
    ticket = TicketFactory(queue=queue, status=Status.CANCELED)
    client.force_login(dispatcher)
    before = snapshot(ticket)
    response = client.post(reverse("tickets:assign", args=[ticket.pk]), {"performer": engineer.pk})
    assert any("closed ticket" in m for m in messages_of(response))
    assert snapshot(ticket) == before


# --- New ticket ----------------------------------------------------------------------------------------------


def create_data(the_queue, **overrides):
    data = {
        "customer_name": "Aigerim",
        "customer_phone": "+7 701 555 11 22",
        "customer_email": "",
        "title": "Washing machine leaks",
        "description": "Leaks since Monday.",
        "channel": "phone",
        "queue": the_queue.pk,
        "ticket_type": "",
        "priority": 3,
        "related_kind": "",
        "related_ref": "",
        "performer": "",
    }
    data.update(overrides)
    return data


def test_a_dispatcher_creates_a_ticket_for_a_new_caller(client, dispatcher, engineer, queue):
    client.force_login(dispatcher)
    deadline = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("tickets:create"),
        create_data(queue, performer=engineer.pk, related_kind="order", related_ref="A-100", deadline=deadline),
    )
    ticket = Ticket.objects.get()
    assert response.url == reverse("tickets:detail", args=[ticket.pk])
    assert ticket.customer.phone == "+77015551122" and ticket.customer.name == "Aigerim"
    assert ticket.performer == engineer and ticket.status == Status.ASSIGNED and ticket.priority == 3
    assert ticket.related_object.external_ref == "A-100" and ticket.deadline is not None
    message = ticket.messages.get()
    assert message.channel == "phone" and message.author == dispatcher


def test_an_existing_customer_can_be_chosen_or_is_found_by_phone(client, dispatcher, queue):
    known = CustomerFactory(name="Known Ltd", phone="+77015551122")
    client.force_login(dispatcher)
    client.post(reverse("tickets:create"), create_data(queue, customer=known.pk, customer_phone=""))
    client.post(reverse("tickets:create"), create_data(queue, customer_name="Whoever", title="Second"))
    assert set(Ticket.objects.values_list("customer_id", flat=True)) == {known.pk}


def test_the_customer_search_finds_customers_by_phone_digits(client, dispatcher):
    CustomerFactory(name="Known Ltd", phone="+77015551122")
    client.force_login(dispatcher)
    content = client.get(reverse("tickets:customer_search"), {"customer_q": "555 11"}).content.decode()
    assert "Known Ltd" in content and 'name="customer"' in content


@pytest.mark.parametrize(
    "overrides",
    [
        {"deadline": "2001-01-01T10:00"},
        {"customer_phone": "", "customer_email": ""},
        {"title": ""},
        {"queue": 999999},
        {"customer": 999999},
        {"related_kind": "order", "related_ref": ""},
    ],
)
def test_bad_input_creates_nothing_and_says_why(client, dispatcher, queue, overrides):
    client.force_login(dispatcher)
    response = client.post(reverse("tickets:create"), create_data(queue, **overrides))
    assert response.status_code == 200
    assert messages_of(response) and 'class="error"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_performer_from_another_queue_is_refused(client, dispatcher, queue, other_engineer):
    client.force_login(dispatcher)
    response = client.post(reverse("tickets:create"), create_data(queue, performer=other_engineer.pk))
    assert response.status_code == 200 and not Ticket.objects.exists()


def test_users_without_the_deadline_right_do_not_get_the_field(client, queue):
    clerk = UserFactory(username="clerk", role="engineer")
    clerk.user_permissions.add(Permission.objects.get(codename="add_ticket"))
    MembershipFactory(queue=queue, user=clerk)
    client.force_login(clerk)
    response = client.get(reverse("tickets:create"))
    assert response.status_code == 200 and 'name="deadline"' not in response.content.decode()
    future = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    client.post(reverse("tickets:create"), create_data(queue, deadline=future))
    assert Ticket.objects.get().deadline is None
