"""Deferral pages: the ticket panel, the approval inbox, the approval screen, the team view; every refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from deferrals import services as deferrals
from deferrals.models import DeferralCause, DeferralRequest
from tests.factories import TicketFactory, UserFactory
from tests.tickets.test_admin import form_data
from tickets.models import Status, Ticket

HOUR = timedelta(hours=1)


@pytest.fixture
def worked(queue, engineer):
    return TicketFactory(queue=queue, performer=engineer, owner=engineer, status=Status.IN_PROGRESS,
                         deadline=timezone.now() + 2 * HOUR, title="Router swap")


@pytest.fixture
def pending(worked, engineer):
    return deferrals.deferral_request(
        worked, actor=engineer, cause=DeferralCause.objects.get(code="supplier"),
        explanation="The supplier ships on Monday.", proposed_deadline=timezone.now() + 30 * HOUR,
    )


@pytest.fixture
def other_manager(db):
    return UserFactory(username="othermanager", role="manager")


def local(value):
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def test_the_performer_requests_a_deferral_from_the_ticket_page(client, worked, engineer, manager):
    client.force_login(engineer)
    page = client.get(reverse("tickets:detail", args=[worked.pk]))
    assert b"data-deferral-request-form" in page.content and b"SLA resolution due" in page.content
    proposed = timezone.now() + 30 * HOUR
    response = client.post(reverse("deferrals:request", args=[worked.pk]), {
        "cause": DeferralCause.objects.get(code="other").pk, "explanation": "Waiting for the landlord",
        "proposed_deadline": local(proposed),
    })
    assert response.status_code == 302
    deferral = DeferralRequest.objects.get()
    assert deferral.addressed_to == manager and deferral.explanation == "Waiting for the landlord"
    page = client.get(reverse("tickets:detail", args=[worked.pk]))
    assert b"Deferral pending" in page.content and b"data-deferral-request-form" not in page.content


def test_an_invalid_request_changes_nothing_and_says_why(client, worked, engineer):
    client.force_login(engineer)
    response = client.post(reverse("deferrals:request", args=[worked.pk]), {"explanation": ""}, follow=True)
    assert not DeferralRequest.objects.exists()
    assert b"Explain why" in response.content


def test_request_refusals_by_role(client, worked, other_engineer, dispatcher):
    url = reverse("deferrals:request", args=[worked.pk])
    assert client.post(url).status_code == 302 and "/login/" in client.post(url)["Location"]
    client.force_login(other_engineer)
    assert client.post(url).status_code == 404
    client.force_login(dispatcher)
    assert client.post(url).status_code == 403
    assert client.get(reverse("tickets:detail", args=[worked.pk])).content.count(b"data-deferral-request-form") == 0


@pytest.mark.parametrize("name", ["deferrals:inbox", "deferrals:team"])
def test_approval_pages_are_for_approvers(client, pending, engineer, dispatcher, manager, name):
    url = reverse(name)
    assert "/login/" in client.get(url)["Location"]
    for user in (engineer, dispatcher):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(manager)
    page = client.get(url)
    assert page.status_code == 200 and b"Router swap" in page.content


def test_the_header_shows_the_pending_count_to_the_manager_only(client, pending, engineer, manager):
    client.force_login(manager)
    page = client.get(reverse("tickets:list"))
    assert b'data-pending-approvals="1"' in page.content
    client.force_login(engineer)
    assert b"data-pending-approvals" not in client.get(reverse("tickets:list")).content


def test_the_approval_screen_shows_everything_on_one_page(client, pending, manager, engineer, worked):
    earlier = TicketFactory(queue=worked.queue, performer=engineer, owner=engineer, status=Status.IN_PROGRESS,
                            deadline=timezone.now() + HOUR, title="Earlier job")
    old = deferrals.deferral_request(earlier, actor=engineer, cause=DeferralCause.objects.get(code="scope"),
                                     explanation="More sites", proposed_deadline=timezone.now() + 5 * HOUR)
    deferrals.deferral_decline(old, actor=manager, comment="No")
    client.force_login(manager)
    page = client.get(reverse("deferrals:decide", args=[pending.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for text in ("Router swap", "The supplier ships on Monday.", "Earlier job", "sla-panel", "History",
                 "Conversation", "data-decision-form", local(pending.proposed_deadline), "after the old deadline"):
        assert text in html, text


def test_the_decide_screen_refuses_outsiders(client, pending, engineer, other_manager, admin_user):
    url = reverse("deferrals:decide", args=[pending.pk])
    client.force_login(engineer)
    assert client.get(url).status_code == 403
    assert client.post(url, {"verdict": "objective", "new_deadline": local(pending.proposed_deadline)}).status_code \
        == 403
    assert client.post(reverse("deferrals:decline", args=[pending.pk]), {"decline-comment": "x"}).status_code == 403
    client.force_login(other_manager)
    assert client.get(url).status_code == 404
    assert client.post(url, {"verdict": "objective", "new_deadline": local(pending.proposed_deadline)}).status_code \
        == 404
    assert client.get(reverse("deferrals:distance", args=[pending.pk])).status_code == 404
    assert DeferralRequest.objects.get().is_pending
    client.force_login(admin_user)
    assert client.get(url).status_code == 200


def test_the_manager_rules_subjective_and_the_performer_sees_the_verdict(client, pending, manager, engineer, worked):
    client.force_login(manager)
    new = timezone.now() + 40 * HOUR
    response = client.post(reverse("deferrals:decide", args=[pending.pk]),
                           {"verdict": "subjective", "new_deadline": local(new), "comment": "Plan better"})
    assert response.status_code == 302 and response["Location"] == reverse("deferrals:inbox")
    worked.refresh_from_db()
    assert local(worked.deadline) == local(new)
    client.force_login(engineer)
    html = client.get(reverse("tickets:detail", args=[worked.pk])).content.decode()
    assert "verdict-subjective" in html and "Plan better" in html


def test_the_team_view_decides_in_place_and_returns_to_the_list(client, pending, manager):
    client.force_login(manager)
    team = reverse("deferrals:team")
    response = client.post(reverse("deferrals:decline", args=[pending.pk]),
                           {"decline-comment": "Finish today", "next": team})
    assert response.status_code == 302 and response["Location"] == team
    assert DeferralRequest.objects.get().status == "declined"
    assert b"No pending requests" in client.get(team).content


def test_an_engineer_cannot_move_a_deadline_through_any_portal_form(client, worked, engineer):
    client.force_login(engineer)
    before = worked.deadline
    for name in ("tickets:triage", "tickets:status", "tickets:next_step"):
        client.post(reverse(name, args=[worked.pk]), {"deadline": local(before + 50 * HOUR), "status": "in_progress"})
    worked.refresh_from_db()
    assert worked.deadline == before


def test_an_engineer_with_admin_access_cannot_move_a_deadline_there(client, worked, engineer):
    engineer.is_staff = True
    engineer.save()
    client.force_login(engineer)
    url = reverse("admin:tickets_ticket_change", args=[worked.pk])
    page = client.get(url)
    assert page.status_code == 200 and "deadline" not in page.context["adminform"].form.fields
    data = form_data(page)
    data.update(deadline_0=["2030-01-15"], deadline_1=["10:00:00"])
    client.post(url, data)
    worked.refresh_from_db()
    assert worked.deadline.year != 2030


def test_deferral_requests_are_read_only_in_admin(client, pending, admin_user):
    client.force_login(admin_user)
    url = reverse("admin:deferrals_deferralrequest_change", args=[pending.pk])
    page = client.get(url)
    assert page.status_code == 200 and not page.context["has_change_permission"]
    client.post(url, {"status": "objective"})
    assert DeferralRequest.objects.get().is_pending


def test_the_intake_api_cannot_carry_a_deadline(client, queue):
    from tests.tickets.intake_helpers import make_gateway, message, send

    gateway = make_gateway("Mail", queue)
    send(client, gateway.token, message(deadline="2030-01-01T10:00:00+05:00"))
    assert not Ticket.objects.filter(deadline__year=2030).exists()


def test_the_performer_gives_the_cause_of_an_automatic_request(client, queue, engineer, manager):
    from tests.factories import TicketTypeFactory

    ticket = TicketFactory(queue=queue, performer=engineer, owner=engineer, status=Status.IN_PROGRESS,
                           ticket_type=TicketTypeFactory(slug="auto", deferral_auto_start=True),
                           deadline=timezone.now() - HOUR)
    assert deferrals.deferrals_open_automatic() == 1
    client.force_login(engineer)
    assert b"data-deferral-cause-form" in client.get(reverse("tickets:detail", args=[ticket.pk])).content
    deferral = DeferralRequest.objects.get()
    client.post(reverse("deferrals:cause", args=[deferral.pk]), {
        "cause": DeferralCause.objects.get(code="customer").pk, "explanation": "Customer was away",
        "proposed_deadline": local(timezone.now() + 5 * HOUR),
    })
    deferral.refresh_from_db()
    assert deferral.cause.code == "customer"
    client.force_login(manager)
    assert client.post(reverse("deferrals:cause", args=[deferral.pk]), {}).status_code == 404


def test_the_verdict_in_the_russian_confirmation_is_singular(client, pending, manager):
    manager.profile.language = "ru"
    manager.profile.save()
    client.force_login(manager)
    new = timezone.now() + 40 * HOUR
    response = client.post(reverse("deferrals:decide", args=[pending.pk]),
                           {"verdict": "objective", "new_deadline": local(new)}, follow=True)
    html = response.content.decode()
    assert "вердикт «объективная»" in html and "Объективные" not in html.split("установлен новый срок")[1][:40]
