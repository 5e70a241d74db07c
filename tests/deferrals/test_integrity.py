"""Deferral integrity (issue 16, point 4): closing withdraws, a closed deadline is final, automatic by default."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as global_apps
from django.utils import timezone

from deferrals import services as deferrals
from deferrals.models import DeferralCause, DeferralRequest
from reports import selectors as report_selectors
from tests.factories import TicketFactory, TicketTypeFactory, UserFactory
from tickets import services as ticket_services
from tickets.models import Status, Ticket, TicketType
from tickets.services import TicketError

HOUR = timedelta(hours=1)


@pytest.fixture
def worked(queue, engineer):
    return TicketFactory(
        queue=queue, performer=engineer, owner=engineer, status=Status.IN_PROGRESS, deadline=timezone.now() + 2 * HOUR
    )


def ask(ticket, actor):
    return deferrals.deferral_request(
        ticket,
        actor=actor,
        cause=DeferralCause.objects.get(code="supplier"),
        explanation="The supplier ships on Monday.",
        proposed_deadline=timezone.now() + 30 * HOUR,
    )


@pytest.mark.parametrize("status", [Status.DONE, Status.CANCELED])
def test_closing_the_ticket_withdraws_its_pending_request_with_a_history_row(worked, engineer, status):
    deferral = ask(worked, engineer)
    ticket_services.ticket_change_status(worked, status=status, actor=engineer)
    deferral.refresh_from_db()
    assert deferral.status == DeferralRequest.Status.WITHDRAWN and deferral.withdrawn_at is not None
    assert deferral.decided_at is None and deferral.decided_by is None
    row = worked.events.get(kind="ticket.deferral_withdrawn")
    assert row.actor == engineer and row.data["request"] == deferral.pk and row.data["status"] == status
    assert not DeferralRequest.objects.pending().exists()
    assert not DeferralRequest.objects.decided().exists()  # withdrawn is not a verdict


def test_a_withdrawn_request_can_no_longer_be_decided(worked, engineer, manager):
    deferral = ask(worked, engineer)
    ticket_services.ticket_change_status(worked, status=Status.DONE, actor=engineer)
    with pytest.raises(TicketError, match="already been decided"):
        deferrals.deferral_decide(deferral, actor=manager, verdict="objective", new_deadline=timezone.now() + 40 * HOUR)
    worked.refresh_from_db()
    assert worked.deadline < timezone.now() + 3 * HOUR


def test_a_decision_never_moves_the_deadline_of_a_closed_ticket(worked, engineer, manager):
    deferral = ask(worked, engineer)
    # A ticket closed behind the workflow's back (a bulk update): the request is still pending.
    Ticket.objects.filter(pk=worked.pk).update(status=Status.DONE, done_at=timezone.now())
    before = Ticket.objects.get(pk=worked.pk).deadline
    with pytest.raises(TicketError, match="closed"):
        deferrals.deferral_decide(
            deferral, actor=manager, verdict="subjective", new_deadline=timezone.now() + 40 * HOUR
        )
    assert Ticket.objects.get(pk=worked.pk).deadline == before
    deferral.refresh_from_db()
    assert deferral.is_pending


def test_closed_on_time_never_changes_after_closure(worked, engineer, admin_user):
    late = timezone.now() - HOUR
    Ticket.objects.filter(pk=worked.pk).update(deadline=late)
    worked.refresh_from_db()
    ticket_services.ticket_change_status(worked, status=Status.DONE, actor=engineer)
    closed = Ticket.objects.filter(pk=worked.pk)
    assert not report_selectors.on_time(closed).exists()
    with pytest.raises(TicketError, match="closed"):
        ticket_services.ticket_override_deadline(
            worked, deadline=timezone.now() + 5 * HOUR, actor=admin_user, reason="make it look on time"
        )
    # A system move (the SLA) does nothing on a closed ticket either.
    ticket_services.ticket_move_deadline(worked, deadline=timezone.now() + 5 * HOUR, actor=None, cause="sla_default")
    assert closed.get().deadline == late
    assert not report_selectors.on_time(closed).exists()


def test_the_admin_shows_a_closed_tickets_deadline_read_only(worked, admin_user, rf):
    from django.contrib.admin.sites import site

    model_admin = site._registry[Ticket]
    request = rf.get("/")
    request.user = admin_user
    assert "deadline" not in model_admin.get_readonly_fields(request, worked)
    Ticket.objects.filter(pk=worked.pk).update(status=Status.CANCELED, canceled_at=timezone.now())
    worked.refresh_from_db()
    assert "deadline" in model_admin.get_readonly_fields(request, worked)


def test_a_new_type_starts_deferral_automatically_and_the_sweep_opens_a_request(queue, engineer, manager):
    plain = TicketType.objects.create(name="Standard", slug="standard-new")
    assert plain.deferral_enabled and plain.deferral_auto_start
    ticket = TicketFactory(
        queue=queue, performer=engineer, status=Status.IN_PROGRESS, ticket_type=plain, deadline=timezone.now() - HOUR
    )
    assert deferrals.deferrals_open_automatic() == 1
    request = DeferralRequest.objects.get(ticket=ticket)
    assert request.automatic and request.addressed_to == manager


def test_the_migration_switches_automatic_start_on_for_types_with_deferral(db):
    on = TicketTypeFactory(slug="with-deferral", deferral_enabled=True, deferral_auto_start=False)
    off = TicketTypeFactory(slug="without-deferral", deferral_enabled=False, deferral_auto_start=False)
    migration = importlib.import_module("tickets.migrations.0014_deferral_auto_start_on_by_default")
    migration.switch_automatic_deferral_on(global_apps, None)
    on.refresh_from_db()
    off.refresh_from_db()
    assert on.deferral_auto_start and not off.deferral_auto_start


def test_the_migration_withdraws_requests_left_pending_on_closed_tickets(worked, engineer):
    deferral = ask(worked, engineer)
    Ticket.objects.filter(pk=worked.pk).update(status=Status.CANCELED, canceled_at=timezone.now())
    migration = importlib.import_module("deferrals.migrations.0002_withdrawn_requests")
    migration.withdraw_pending_on_closed_tickets(global_apps, None)
    deferral.refresh_from_db()
    assert deferral.status == DeferralRequest.Status.WITHDRAWN
    row = worked.events.get(kind="ticket.deferral_withdrawn")
    assert row.data["status"] == "canceled" and row.data["requester"]["id"] == engineer.pk


def test_a_request_of_another_employee_is_untouched_by_closing_a_different_ticket(worked, engineer, queue):
    other = TicketFactory(
        queue=queue, performer=engineer, owner=engineer, status=Status.IN_PROGRESS, deadline=timezone.now() + 2 * HOUR
    )
    first, second = ask(worked, engineer), ask(other, engineer)
    ticket_services.ticket_change_status(other, status=Status.DONE, actor=UserFactory(username="closer"))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_pending and second.status == DeferralRequest.Status.WITHDRAWN


def test_the_discipline_report_shows_declined_and_the_decision_time_and_explains_them(
    client, worked, engineer, manager
):
    declined = ask(worked, engineer)
    deferrals.deferral_decline(declined, actor=manager, comment="Finish it today.")
    other = TicketFactory(
        queue=worked.queue,
        performer=engineer,
        owner=engineer,
        status=Status.IN_PROGRESS,
        deadline=timezone.now() + 2 * HOUR,
    )
    ask(other, engineer)
    ticket_services.ticket_change_status(other, status=Status.DONE, actor=engineer)  # withdrawn: counts nowhere
    client.force_login(manager)
    html = client.get("/reports/discipline/").content.decode()
    assert 'data-metric="declined">1<' in html
    assert 'data-metric="lead_time">less than a minute<' in html
    for rule in ("declined", "automatic", "lead-time"):
        assert f'data-rule="{rule}"' in html
    assert "withdrawn" in html
    listed = client.get("/reports/discipline/deferrals/", {"employee": engineer.pk, "metric": "lead_time"})
    assert [item.pk for item in listed.context["items"]] == [declined.pk]
    assert "data-lead-time" in listed.content.decode()
