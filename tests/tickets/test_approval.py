"""“On approval” means something (issue 16, point 8): an approver is required and told, only the approver
closes the ticket (approve, approve and close where the type allows, reject with a comment), every decision
is a history row, and the time on approval is a waiting segment the delay report reads."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import Notification, Urgency
from notifications.work import WorkKind
from tests.factories import CustomerFactory, TicketTypeFactory, UserFactory
from tickets import approval, services
from tickets.catalogue import APPROVAL_REASON
from tickets.forms import StatusForm
from tickets.models import BlockingReason, Status, WaitSegment
from tickets.services import TicketError


@pytest.fixture
def worked(db, queue, engineer, dispatcher):
    ticket = services.ticket_create(
        actor=dispatcher,
        title="Refund 40 000 ₸",
        customer=CustomerFactory(),
        queue=queue,
        description="Please refund",
        performer=engineer,
    )
    services.ticket_change_status(ticket, status=Status.IN_PROGRESS, actor=engineer)
    Notification.objects.all().delete()
    return ticket


def kinds(ticket):
    return list(ticket.events.order_by("pk").values_list("kind", flat=True))


def test_on_approval_needs_an_approver_other_than_the_performer(worked, engineer):
    with pytest.raises(TicketError, match="Choose an approver"):
        services.ticket_change_status(worked, status=Status.ON_APPROVAL, actor=engineer)
    with pytest.raises(TicketError, match="other than the performer"):
        approval.ticket_send_to_approval(worked, approver=engineer, actor=engineer)
    worked.refresh_from_db()
    assert worked.status == Status.IN_PROGRESS and worked.approver is None


def test_sending_to_approval_names_the_approver_who_is_told_once(worked, engineer, manager):
    approval.ticket_send_to_approval(worked, approver=manager, comment="Above my limit", actor=engineer)
    worked.refresh_from_db()
    assert (worked.status, worked.approver) == (Status.ON_APPROVAL, manager)
    assert kinds(worked)[-2:] == ["ticket.approver_changed", "ticket.status_changed"]
    [notice] = Notification.objects.filter(recipient=manager)
    assert notice.kind == WorkKind.APPROVAL and notice.urgency == Urgency.IMPORTANT
    assert notice.title == f"{worked.reference} waits for your approval"


def test_the_performer_cannot_close_a_ticket_that_waits_for_approval(worked, engineer, manager):
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    assert Status.DONE not in services.allowed_statuses(worked)
    assert Status.CANCELED not in services.allowed_statuses(worked)
    for status in (Status.DONE, Status.CANCELED):
        with pytest.raises(TicketError):
            services.ticket_change_status(worked, status=status, actor=engineer)
    with pytest.raises(TicketError, match="Only the approver"):
        approval.ticket_approve(worked, actor=engineer, close=True)
    worked.refresh_from_db()
    assert worked.status == Status.ON_APPROVAL


def test_the_approver_approves_and_the_ticket_goes_back_to_work(worked, engineer, manager):
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    approval.ticket_approve(worked, actor=manager, comment="OK, refund it")
    worked.refresh_from_db()
    assert worked.status == Status.IN_PROGRESS
    decision = worked.events.get(kind="ticket.approved")
    assert decision.actor == manager
    assert decision.data["comment"] == "OK, refund it" and decision.data["closed"] is False
    [notice] = Notification.objects.filter(recipient=engineer)
    assert (notice.kind, notice.title) == (WorkKind.APPROVAL, f"{worked.reference} is approved: back to work")
    assert notice.body == "Manager: OK, refund it"


def test_approve_and_close_only_where_the_type_allows_it(worked, engineer, manager):
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    with pytest.raises(TicketError, match="go back to work when approved"):
        approval.ticket_approve(worked, actor=manager, close=True)
    worked.refresh_from_db()
    assert worked.status == Status.ON_APPROVAL and not worked.events.filter(kind="ticket.approved").exists()
    worked.ticket_type = TicketTypeFactory(slug="refund", approval_closes=True)
    worked.save()
    approval.ticket_approve(worked, actor=manager, close=True)
    worked.refresh_from_db()
    assert worked.status == Status.DONE and worked.done_at is not None
    assert worked.events.get(kind="ticket.approved").data["closed"] is True


def test_the_approver_rejects_with_a_comment_and_the_performer_reads_it(worked, engineer, manager):
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    with pytest.raises(TicketError, match="Say why"):
        approval.ticket_reject(worked, actor=manager, comment="  ")
    approval.ticket_reject(worked, actor=manager, comment="Offer a discount instead")
    worked.refresh_from_db()
    assert worked.status == Status.IN_PROGRESS
    assert worked.events.get(kind="ticket.approval_rejected").data["comment"] == "Offer a discount instead"
    [notice] = Notification.objects.filter(recipient=engineer)
    assert notice.title == f"{worked.reference}: approval rejected"
    assert notice.body == "Manager: Offer a discount instead"


def test_nobody_decides_on_a_ticket_that_does_not_wait_for_approval(worked, manager):
    services.ticket_set_people(worked, actor=manager, approver=manager)
    with pytest.raises(TicketError, match="does not wait for approval"):
        approval.ticket_approve(worked, actor=manager)


def test_the_time_on_approval_is_a_waiting_segment_with_the_approval_reason(worked, engineer, manager):
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    segment = WaitSegment.objects.get(ticket=worked)
    assert segment.reason.code == APPROVAL_REASON[0] and segment.ended_at is None
    approval.ticket_approve(worked, actor=manager)
    segment.refresh_from_db()
    assert segment.ended_at is not None and segment.business_seconds is not None


def test_the_approval_reason_is_never_offered_for_waiting(worked):
    reason = BlockingReason.objects.get(code=APPROVAL_REASON[0])
    assert not reason.is_active and reason.name_ru == "На согласовании"
    form = StatusForm(ticket=worked, allowed=services.allowed_statuses(worked))
    assert reason not in form.fields["reason"].queryset


# --- The ticket page -------------------------------------------------------------------------------------


def test_the_status_form_sends_to_approval_with_the_chosen_approver(client, worked, engineer, manager):
    client.force_login(engineer)
    url = reverse("tickets:status", args=[worked.pk])
    response = client.post(url, {"status": Status.ON_APPROVAL, "comment": "Please"}, follow=True)
    assert "Choose an approver" in response.content.decode()
    worked.refresh_from_db()
    assert worked.status == Status.IN_PROGRESS
    client.post(url, {"status": Status.ON_APPROVAL, "approver": manager.pk, "comment": "Please"})
    worked.refresh_from_db()
    assert (worked.status, worked.approver) == (Status.ON_APPROVAL, manager)


def test_the_approver_decides_from_the_ticket_page(client, worked, engineer, manager):
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    client.force_login(manager)
    page = client.get(reverse("tickets:detail", args=[worked.pk])).content.decode()
    assert 'value="approve"' in page and 'value="reject"' in page and 'value="close"' not in page
    response = client.post(
        reverse("tickets:approval", args=[worked.pk]), {"decision": "reject", "comment": ""}, follow=True
    )
    assert "Say why you reject" in response.content.decode()
    client.post(reverse("tickets:approval", args=[worked.pk]), {"decision": "approve", "comment": "Fine"})
    worked.refresh_from_db()
    assert worked.status == Status.IN_PROGRESS


def test_the_performer_sees_who_decides_and_cannot_post_a_decision(client, worked, engineer, manager):
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    client.force_login(engineer)
    page = client.get(reverse("tickets:detail", args=[worked.pk])).content.decode()
    assert "Waits for the decision of Manager" in page and 'value="approve"' not in page
    assert client.post(reverse("tickets:approval", args=[worked.pk]), {"decision": "approve"}).status_code == 403
    worked.refresh_from_db()
    assert worked.status == Status.ON_APPROVAL


def test_someone_who_cannot_see_the_ticket_gets_404(client, worked, engineer, manager, other_engineer):
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    client.force_login(other_engineer)
    assert client.post(reverse("tickets:approval", args=[worked.pk]), {"decision": "approve"}).status_code == 404


def test_a_bad_decision_changes_nothing(client, worked, engineer, manager):
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    client.force_login(manager)
    response = client.post(reverse("tickets:approval", args=[worked.pk]), {"decision": "maybe"})
    assert response.status_code == 302
    worked.refresh_from_db()
    assert worked.status == Status.ON_APPROVAL


def test_a_get_is_refused(client, worked, manager):
    client.force_login(manager)
    assert client.get(reverse("tickets:approval", args=[worked.pk])).status_code == 405


def test_the_approver_must_be_able_to_work_in_opsdesk(worked, engineer):
    stranger = UserFactory(username="stranger")  # no role
    with pytest.raises(TicketError):
        approval.ticket_send_to_approval(worked, approver=stranger, actor=engineer)


def test_the_decision_panel_and_the_notice_speak_russian(client, worked, engineer, manager):
    for person in (engineer, manager):
        person.profile.language = "ru"
        person.profile.save()
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    assert Notification.objects.get(recipient=manager).title == f"Заявка {worked.reference} ждёт вашего согласования"
    client.force_login(manager)
    page = client.get(reverse("tickets:detail", args=[worked.pk])).content.decode()
    assert "Ваше согласование" in page and "Согласовать" in page and "Отклонить" in page


def test_the_approver_decides_through_the_decision_not_the_status_form(worked, engineer, manager):
    approval.ticket_send_to_approval(worked, approver=manager, actor=engineer)
    with pytest.raises(TicketError, match="approve or reject"):
        services.ticket_change_status(worked, status=Status.IN_PROGRESS, actor=manager)
    services.ticket_change_status(worked, status=Status.IN_PROGRESS, actor=engineer, comment="Withdrawn")
    worked.refresh_from_db()
    assert worked.status == Status.IN_PROGRESS  # the performer may withdraw the request
