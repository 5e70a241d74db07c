"""Manual escalations from the ticket page: functional (another queue) and hierarchical (the manager)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalations.models import ManualEscalation
from escalations.selectors import escalation_counts
from notifications.models import Notification
from tests.factories import MembershipFactory, TicketFactory, UserFactory
from tickets.models import QueueMembership, Status, TicketEvent


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def worked(ticket, engineer):
    ticket.performer = ticket.owner = engineer
    ticket.status = Status.ASSIGNED
    ticket.save()
    return ticket


@pytest.fixture
def finance_dispatcher(other_queue):
    user = UserFactory(username="finance", role="dispatcher")
    MembershipFactory(queue=other_queue, user=user, role=QueueMembership.Role.DISPATCHER)
    return user


def functional_url(ticket):
    return reverse("escalations:functional", args=[ticket.pk])


def hierarchical_url(ticket):
    return reverse("escalations:hierarchical", args=[ticket.pk])


def test_the_performer_sends_a_payment_question_to_finance_with_a_reason(
    client, worked, engineer, other_queue, finance_dispatcher
):
    client.force_login(engineer)
    response = client.post(
        functional_url(worked), {"functional-queue": other_queue.pk, "functional-reason": "Refund needs finance"},
        follow=True,
    )
    worked.refresh_from_db()
    assert (worked.queue, worked.performer, worked.status) == (other_queue, None, Status.NEW)
    row = ManualEscalation.objects.get()
    assert (row.kind, row.actor, row.reason, row.to_queue) == ("functional", engineer, "Refund needs finance",
                                                                other_queue)
    event = TicketEvent.objects.get(ticket=worked, kind="ticket.escalated_manually")
    assert event.data["to_queue"] == other_queue.slug
    notice = Notification.objects.get(recipient=finance_dispatcher)
    assert notice.title == f"Escalated to Sales: #{worked.pk} {worked.title}"
    # The engineer still owns the result, so still sees the ticket.
    assert response.redirect_chain[-1][0] == reverse("tickets:detail", args=[worked.pk])
    assert f"#{worked.pk} was escalated to Sales." in response.content.decode()


def test_a_helper_who_loses_sight_of_the_ticket_lands_on_the_list(client, ticket, engineer, other_queue):
    client.force_login(engineer)
    response = client.post(
        functional_url(ticket), {"functional-queue": other_queue.pk, "functional-reason": "Not ours"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("tickets:list")
    assert "moved to a queue you do not see" in response.content.decode()


def test_the_performer_takes_the_ticket_to_their_manager_who_becomes_the_approver(
    client, worked, engineer, manager
):
    client.force_login(engineer)
    response = client.post(
        hierarchical_url(worked), {"hierarchical-reason": "Customer wants a discount beyond my limit"}, follow=True
    )
    assert response.status_code == 200
    worked.refresh_from_db()
    assert (worked.approver, worked.performer) == (manager, engineer)
    row = ManualEscalation.objects.get()
    assert (row.kind, row.to_user) == ("hierarchical", manager)
    assert Notification.objects.get(recipient=manager).urgency == "important"
    html = response.content.decode()
    assert "was escalated to Manager" in html
    assert "Customer wants a discount beyond my limit" in html  # the panel and the history show it


def test_a_hierarchical_escalation_can_hand_the_ticket_over(client, worked, engineer, manager):
    client.force_login(engineer)
    client.post(hierarchical_url(worked), {"hierarchical-reason": "Needs a decision", "hierarchical-assign": "on"})
    worked.refresh_from_db()
    assert (worked.approver, worked.performer) == (manager, manager)


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        (functional_url, {"functional-queue": "", "functional-reason": "x"}, "To queue: This field is required."),
        (hierarchical_url, {"hierarchical-reason": "   "}, "Reason: This field is required."),
    ],
)
def test_bad_input_changes_nothing_and_says_why(client, worked, engineer, url, data, message):
    client.force_login(engineer)
    response = client.post(url(worked), data, follow=True)
    assert message in response.content.decode()
    assert not ManualEscalation.objects.exists()
    worked.refresh_from_db()
    assert worked.approver is None


def test_the_same_queue_is_refused(client, worked, engineer, queue):
    client.force_login(engineer)
    response = client.post(functional_url(worked), {"functional-queue": queue.pk, "functional-reason": "x"},
                           follow=True)
    assert "Select a valid choice" in response.content.decode()
    assert not ManualEscalation.objects.exists()


def test_without_a_manager_there_is_nobody_to_escalate_to(client, ticket, dispatcher):
    client.force_login(dispatcher)
    response = client.post(hierarchical_url(ticket), {"hierarchical-reason": "Help"}, follow=True)
    assert "Nobody to escalate to" in response.content.decode()
    assert not ManualEscalation.objects.exists()


def test_a_closed_ticket_cannot_be_escalated(client, worked, engineer, other_queue):
    worked.status = Status.DONE
    worked.save()
    client.force_login(engineer)
    response = client.post(functional_url(worked), {"functional-queue": other_queue.pk, "functional-reason": "x"},
                           follow=True)
    assert "A closed ticket cannot be escalated." in response.content.decode()
    assert not ManualEscalation.objects.exists()


def test_anonymous_people_are_sent_to_log_in(client, worked):
    response = client.post(hierarchical_url(worked), {"hierarchical-reason": "x"})
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_an_engineer_of_another_queue_gets_404(client, worked, other_engineer, other_queue):
    client.force_login(other_engineer)
    assert client.post(hierarchical_url(worked), {"hierarchical-reason": "x"}).status_code == 404
    assert client.post(functional_url(worked), {"functional-queue": other_queue.pk,
                                                "functional-reason": "x"}).status_code == 404


def test_an_observer_sees_the_ticket_but_may_not_escalate_it(client, worked, other_engineer):
    worked.observers.add(other_engineer)
    client.force_login(other_engineer)
    assert client.post(hierarchical_url(worked), {"hierarchical-reason": "x"}).status_code == 403
    page = client.get(reverse("tickets:detail", args=[worked.pk])).content.decode()
    assert "data-escalate-hierarchical" not in page
    assert not ManualEscalation.objects.exists()


def test_escalation_is_post_only(client, worked, engineer):
    client.force_login(engineer)
    assert client.get(hierarchical_url(worked)).status_code == 405


def test_the_ticket_page_offers_both_escalations_to_people_who_work_it(client, worked, engineer, manager):
    client.force_login(engineer)
    page = client.get(reverse("tickets:detail", args=[worked.pk])).content.decode()
    assert "data-escalate-functional" in page and "data-escalate-hierarchical" in page
    assert "To Manager, who becomes the approver." in page


def test_manual_escalations_are_counted_for_reports(client, worked, engineer, manager, other_queue):
    client.force_login(engineer)
    client.post(hierarchical_url(worked), {"hierarchical-reason": "Exception"})
    client.post(functional_url(worked), {"functional-queue": other_queue.pk, "functional-reason": "Finance"})
    other = TicketFactory(queue=worked.queue)
    assert other.pk
    now = timezone.now()
    counts = escalation_counts(now - timedelta(hours=1), now + timedelta(hours=1))
    assert counts["manual"] == {"functional": 1, "hierarchical": 1}
