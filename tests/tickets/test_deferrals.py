"""Deadline deferral: routing, the rules of asking and deciding, immutability, the automatic start."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from deferrals import access as deferral_access
from deferrals import selectors as deferral_selectors
from deferrals import services as deferrals
from deferrals.models import DeferralCause, DeferralRequest
from notifications.models import Notification
from tests.factories import MembershipFactory, TicketFactory, TicketTypeFactory, UserFactory
from tests.sla.conftest import make_policy, office  # noqa: F401 (fixtures)
from tickets.models import Absence, Profile, Status, Ticket
from tickets.services import TicketError

HOUR = timedelta(hours=1)


@pytest.fixture
def cause(db):
    return DeferralCause.objects.get(code="supplier")


@pytest.fixture
def worked(queue, engineer):
    """An engineer's ticket in progress, due in two hours."""
    return TicketFactory(
        queue=queue, performer=engineer, owner=engineer, status=Status.IN_PROGRESS,
        deadline=timezone.now() + 2 * HOUR,
    )


@pytest.fixture
def head(db):
    return UserFactory(username="head", role="manager")


@pytest.fixture
def other_manager(db):
    return UserFactory(username="othermanager", role="manager")


def ask(ticket, actor, *, hours=26, explanation="The supplier ships on Monday.", cause=None):
    cause = cause or DeferralCause.objects.get(code="supplier")
    return deferrals.deferral_request(
        ticket, actor=actor, cause=cause, explanation=explanation,
        proposed_deadline=timezone.now() + hours * HOUR,
    )


def away(user, substitute, days=(0, 2)):
    today = deferral_selectors.organisation_today()
    return Absence.objects.create(
        user=user, substitute=substitute, starts_on=today + timedelta(days=days[0] - 1),
        ends_on=today + timedelta(days=days[1]),
    )


# --- Reference data ------------------------------------------------------------------------


def test_the_cause_catalogue_has_other_and_ensuring_it_again_changes_nothing(db):
    from deferrals.catalogue import ensure_reference_data

    other = DeferralCause.objects.get(code="other")
    other.name = "Something else"
    other.save()
    count = DeferralCause.objects.count()
    ensure_reference_data()
    assert DeferralCause.objects.count() == count >= 2
    assert DeferralCause.objects.get(code="other").name == "Something else"
    assert DeferralCause.objects.get(code="other").name_ru


def test_an_absence_must_end_after_it_starts_and_name_another_substitute(engineer, manager):
    from django.core.exceptions import ValidationError

    today = timezone.localdate()
    with pytest.raises(ValidationError):
        Absence(user=manager, substitute=manager, starts_on=today, ends_on=today - timedelta(days=1)).full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        Absence.objects.create(user=manager, substitute=engineer, starts_on=today, ends_on=today - timedelta(days=1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Absence.objects.create(user=manager, substitute=manager, starts_on=today, ends_on=today)


# --- Routing -------------------------------------------------------------------------------


def test_a_request_goes_to_the_direct_manager_who_is_notified(worked, engineer, manager):
    before = worked.deadline
    deferral = ask(worked, engineer)
    assert deferral.addressed_to == manager and deferral.is_pending and not deferral.automatic
    assert deferral.old_deadline == before
    worked.refresh_from_db()
    assert worked.deadline == before  # asking moves nothing
    event = worked.events.get(kind="ticket.deferral_requested")
    assert event.actor == engineer and event.data["approver"]["id"] == manager.pk
    note = Notification.objects.get(recipient=manager, kind="deferral.requested")
    assert note.urgency == "important" and note.url == f"/deferrals/{deferral.pk}/"


def test_a_request_goes_to_the_substitute_while_the_manager_is_away(worked, engineer, manager, head):
    away(manager, head)
    assert ask(worked, engineer).addressed_to == head


def test_an_absence_that_ended_yesterday_no_longer_redirects(worked, engineer, manager, head):
    away(manager, head, days=(-5, -1))
    assert ask(worked, engineer).addressed_to == manager


def test_without_a_manager_the_request_goes_to_the_queues_manager(worked, engineer, queue, head):
    Profile.objects.filter(user=engineer).update(manager=None)
    queue.manager = head
    queue.save()
    engineer.refresh_from_db()
    assert ask(worked, engineer).addressed_to == head


def test_without_anyone_to_approve_the_request_is_refused(worked, engineer):
    Profile.objects.filter(user=engineer).update(manager=None)
    engineer.refresh_from_db()
    with pytest.raises(TicketError, match="Nobody can approve"):
        ask(worked, engineer)
    assert not DeferralRequest.objects.exists()


# --- Asking --------------------------------------------------------------------------------


def test_only_one_request_is_pending_per_ticket(worked, engineer, manager):
    ask(worked, engineer)
    with pytest.raises(TicketError, match="already pending"):
        ask(worked, engineer, hours=30)
    with pytest.raises(IntegrityError), transaction.atomic():
        DeferralRequest.objects.create(
            ticket=worked, requested_by=engineer, addressed_to=manager, old_deadline=worked.deadline
        )
    assert DeferralRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"explanation": "  "}, "Explain"),
        ({"hours": -1}, "in the future"),
        ({"hours": 1}, "later than the current deadline"),
    ],
)
def test_a_request_needs_an_explanation_and_a_later_date(worked, engineer, change, message):
    with pytest.raises(TicketError, match=message):
        ask(worked, engineer, **change)


def test_a_request_needs_a_cause(worked, engineer):
    with pytest.raises(TicketError, match="cause"):
        deferrals.deferral_request(worked, actor=engineer, cause=None, explanation="x",
                                   proposed_deadline=timezone.now() + 30 * HOUR)


def test_a_type_without_deferral_refuses_requests(worked, engineer):
    worked.ticket_type = TicketTypeFactory(slug="no-deferral", deferral_enabled=False)
    worked.save()
    with pytest.raises(TicketError, match="switched off"):
        ask(worked, engineer)


def test_a_closed_ticket_cannot_be_deferred(worked, engineer):
    Ticket.objects.filter(pk=worked.pk).update(status=Status.DONE, done_at=timezone.now())
    with pytest.raises(TicketError, match="closed"):
        ask(worked, engineer)


def test_only_the_performer_or_owner_may_ask(worked, queue, dispatcher, manager):
    colleague = UserFactory(username="colleague", role="engineer", profile__manager=manager)
    MembershipFactory(queue=queue, user=colleague)
    for outsider in (colleague, dispatcher, manager):
        with pytest.raises(TicketError, match="Only the performer or the owner"):
            ask(worked, outsider)
    owner = UserFactory(username="owner", role="engineer", profile__manager=manager)
    MembershipFactory(queue=queue, user=owner)
    Ticket.objects.filter(pk=worked.pk).update(owner=owner)
    worked.refresh_from_db()
    assert ask(worked, owner).requested_by == owner


# --- Deciding --------------------------------------------------------------------------------


def test_the_manager_rules_objective_and_the_deadline_moves_with_a_history_line(worked, engineer, manager):
    deferral = ask(worked, engineer)
    old = worked.deadline
    new = deferral.proposed_deadline + HOUR
    decided = deferrals.deferral_decide(deferral, actor=manager, verdict="objective", new_deadline=new,
                                        comment="Fine, supplier issue.")
    worked.refresh_from_db()
    assert worked.deadline == new
    assert decided.status == "objective" and decided.decided_by == manager and decided.new_deadline == new
    event = worked.events.get(kind="ticket.deadline_deferred")
    assert event.actor == manager
    assert event.data["requester"]["id"] == engineer.pk and event.data["decider"]["id"] == manager.pk
    assert event.data["verdict"] == "objective"
    assert event.data["previous"] == old.isoformat() and event.data["to"] == new.isoformat()
    assert Notification.objects.filter(recipient=engineer, kind="deferral.decided").count() == 1


def test_a_deferral_never_moves_the_customer_sla_clocks(request, dispatcher, queue, engineer, manager):
    from sla.models import SLAClock
    from tickets import services

    request.getfixturevalue("make_policy")(name="Standard")
    ticket = services.ticket_create(actor=dispatcher, title="Clocked", customer=TicketFactory().customer,
                                    queue=queue, performer=engineer)
    sla_clocks = SLAClock.objects.filter(ticket=ticket, kind__in=SLAClock.SLA_KINDS)  # not the deadline clock
    clocks = list(sla_clocks.values_list("pk", "due_at", "target", "state"))
    assert clocks and ticket.deadline is not None
    deferral = ask(ticket, engineer, hours=24 * 5)
    deferrals.deferral_decide(deferral, actor=manager, verdict="subjective", new_deadline=deferral.proposed_deadline)
    assert list(sla_clocks.values_list("pk", "due_at", "target", "state")) == clocks


def test_the_new_deadline_must_be_later_than_the_current_one_and_in_the_future(worked, engineer, manager):
    deferral = ask(worked, engineer)
    for value in (worked.deadline, worked.deadline - HOUR, None):
        with pytest.raises(TicketError):
            deferrals.deferral_decide(deferral, actor=manager, verdict="objective", new_deadline=value)
    with pytest.raises(TicketError, match="verdict"):
        deferrals.deferral_decide(deferral, actor=manager, verdict="declined", new_deadline=worked.deadline + HOUR)
    assert DeferralRequest.objects.get().is_pending


def test_the_performer_can_never_decide(worked, engineer):
    deferral = ask(worked, engineer)
    with pytest.raises(TicketError, match="your own"):
        deferrals.deferral_decide(deferral, actor=engineer, verdict="objective",
                                  new_deadline=deferral.proposed_deadline)
    with pytest.raises(TicketError, match="your own"):
        deferrals.deferral_decline(deferral, actor=engineer, comment="no")


def test_a_manager_outside_the_team_cannot_decide_but_an_admin_can(worked, engineer, other_manager, admin_user):
    deferral = ask(worked, engineer)
    with pytest.raises(TicketError, match="manager"):
        deferrals.deferral_decide(deferral, actor=other_manager, verdict="objective",
                                  new_deadline=deferral.proposed_deadline)
    deferrals.deferral_decide(deferral, actor=admin_user, verdict="subjective", new_deadline=deferral.proposed_deadline)
    assert DeferralRequest.objects.get().status == "subjective"


def test_nobody_decides_their_own_request_not_even_an_admin(queue, admin_user, head):
    Profile.objects.filter(user=admin_user).update(manager=head)
    admin_user.refresh_from_db()
    ticket = TicketFactory(queue=queue, performer=admin_user, owner=admin_user, status=Status.IN_PROGRESS,
                           deadline=timezone.now() + HOUR)
    deferral = ask(ticket, admin_user)
    with pytest.raises(TicketError, match="your own"):
        deferrals.deferral_decide(deferral, actor=admin_user, verdict="objective",
                                  new_deadline=deferral.proposed_deadline)
    assert deferral.addressed_to == head


def test_the_team_manager_may_decide_a_request_that_went_to_the_substitute(worked, engineer, manager, head):
    away(manager, head)
    deferral = ask(worked, engineer)
    assert deferral.addressed_to == head
    deferrals.deferral_decide(deferral, actor=manager, verdict="objective", new_deadline=deferral.proposed_deadline)


def test_the_substitute_may_decide_while_the_manager_is_away(worked, engineer, manager, head):
    deferral = ask(worked, engineer)  # addressed to the manager, who then goes away
    away(manager, head)
    assert deferral_access.can_decide(head, deferral)
    deferrals.deferral_decide(deferral, actor=head, verdict="objective", new_deadline=deferral.proposed_deadline)


def test_declining_keeps_the_deadline_and_needs_a_reason(worked, engineer, manager):
    deferral = ask(worked, engineer)
    before = worked.deadline
    with pytest.raises(TicketError, match="why"):
        deferrals.deferral_decline(deferral, actor=manager, comment=" ")
    deferrals.deferral_decline(deferral, actor=manager, comment="Finish it today.")
    worked.refresh_from_db()
    assert worked.deadline == before
    assert DeferralRequest.objects.get().status == "declined"
    assert worked.events.filter(kind="ticket.deferral_declined").count() == 1


# --- Immutability ------------------------------------------------------------------------------


def test_a_decision_is_final(worked, engineer, manager, admin_user):
    deferral = ask(worked, engineer)
    deferrals.deferral_decide(deferral, actor=manager, verdict="objective", new_deadline=deferral.proposed_deadline)
    with pytest.raises(TicketError, match="final"):
        deferrals.deferral_decide(deferral, actor=admin_user, verdict="subjective",
                                  new_deadline=deferral.proposed_deadline + HOUR)
    with pytest.raises(TicketError, match="final"):
        deferrals.deferral_decline(deferral, actor=admin_user, comment="changed my mind")
    stored = DeferralRequest.objects.get()
    stored.status = "subjective"
    with pytest.raises(TypeError):
        stored.save()
    assert DeferralRequest.objects.filter(pk=stored.pk).update(status="subjective") == 0
    with pytest.raises(TypeError):
        DeferralRequest.objects.get().delete()
    assert DeferralRequest.objects.get().status == "objective"


def test_the_database_refuses_a_half_decided_or_self_decided_row(worked, engineer, manager):
    with pytest.raises(IntegrityError), transaction.atomic():
        DeferralRequest.objects.create(ticket=worked, requested_by=engineer, addressed_to=manager,
                                       old_deadline=worked.deadline, status="objective", decided_by=manager,
                                       decided_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        DeferralRequest.objects.create(ticket=worked, requested_by=engineer, addressed_to=manager,
                                       old_deadline=worked.deadline, status="declined", decided_by=engineer,
                                       decided_at=timezone.now())


# --- Automatic start -------------------------------------------------------------------------


@pytest.fixture
def auto_type(db):
    return TicketTypeFactory(slug="auto", deferral_auto_start=True)


@pytest.fixture
def missed(queue, engineer, auto_type):
    return TicketFactory(queue=queue, ticket_type=auto_type, performer=engineer, owner=engineer,
                         status=Status.IN_PROGRESS, deadline=timezone.now() + HOUR)


def test_a_passed_deadline_opens_one_automatic_request_addressed_to_the_substitute(missed, engineer, manager, head):
    away(manager, head)
    assert deferrals.deferrals_open_automatic() == 0  # not due yet
    later = timezone.now() + 2 * HOUR
    assert deferrals.deferrals_open_automatic(later) == 1
    assert deferrals.deferrals_open_automatic(later) == 0
    assert deferrals.deferrals_open_automatic(later + HOUR) == 0
    deferral = DeferralRequest.objects.get()
    assert deferral.automatic and deferral.addressed_to == head and deferral.requested_by == engineer
    assert deferral.cause is None and deferral.old_deadline == missed.deadline
    assert Notification.objects.filter(recipient=head, kind="deferral.requested").count() == 1
    assert Notification.objects.filter(recipient=engineer, kind="deferral.cause_needed").count() == 1
    assert missed.events.filter(kind="ticket.deferral_requested", actor=None).count() == 1


def test_the_scheduled_task_runs_the_sweep(missed):
    with time_machine.travel(timezone.now() + 2 * HOUR):
        assert deferrals.open_automatic_task() == 1


def test_the_sweep_ignores_types_without_auto_start_and_tickets_with_a_pending_request(worked, missed, engineer):
    manual_only = TicketTypeFactory(slug="manual-only", deferral_auto_start=False)
    Ticket.objects.filter(pk=worked.pk).update(deadline=timezone.now() - HOUR, ticket_type=manual_only)
    ask(missed, engineer)
    assert deferrals.deferrals_open_automatic(timezone.now() + 2 * HOUR) == 0


def test_after_a_decision_the_next_missed_deadline_opens_a_new_request(missed, engineer, manager, cause):
    later = timezone.now() + 2 * HOUR
    deferrals.deferrals_open_automatic(later)
    deferral = DeferralRequest.objects.get()
    with time_machine.travel(later):
        deferrals.deferral_provide_cause(deferral, actor=engineer, cause=cause, explanation="Parts late",
                                         proposed_deadline=later + 3 * HOUR)
        deferral.refresh_from_db()
        assert deferral.cause == cause and deferral.explanation == "Parts late"
        deferrals.deferral_decide(deferral, actor=manager, verdict="objective", new_deadline=later + 3 * HOUR)
    assert deferrals.deferrals_open_automatic(later + HOUR) == 0
    assert deferrals.deferrals_open_automatic(later + 4 * HOUR) == 1
    assert DeferralRequest.objects.filter(automatic=True).count() == 2


def test_only_the_performer_gives_the_cause_of_an_automatic_request(missed, manager, cause):
    deferrals.deferrals_open_automatic(timezone.now() + 2 * HOUR)
    deferral = DeferralRequest.objects.get()
    with pytest.raises(TicketError, match="Only the performer"):
        deferrals.deferral_provide_cause(deferral, actor=manager, cause=cause, explanation="x",
                                         proposed_deadline=timezone.now() + 9 * HOUR)


def test_a_closed_ticket_or_one_without_performer_opens_nothing(missed):
    Ticket.objects.filter(pk=missed.pk).update(status=Status.DONE, done_at=timezone.now())
    assert deferrals.deferrals_open_automatic(timezone.now() + 2 * HOUR) == 0
    Ticket.objects.filter(pk=missed.pk).update(status=Status.NEW, done_at=None, performer=None)
    assert deferrals.deferrals_open_automatic(timezone.now() + 2 * HOUR) == 0


def test_the_header_count_is_the_pending_part_of_each_desk(queue, engineer, manager, head, other_manager):
    """``pending_count`` (the badge of every page, a statement compiled once) counts what ``desk(user).pending()``
    lists: addressed to the person, of their team, of a manager they stand in for today; never their own, never
    decided ones, never an absence that is over."""
    tickets = [
        TicketFactory(queue=queue, performer=engineer, owner=engineer, status=Status.IN_PROGRESS,
                      deadline=timezone.now() + 2 * HOUR)
        for _ in range(3)
    ]
    first, second = ask(tickets[0], engineer), ask(tickets[1], engineer)  # to the manager, the engineer's manager
    deferrals.deferral_decide(second, actor=manager, verdict="objective", new_deadline=second.proposed_deadline)
    ask(tickets[2], engineer)
    people = (engineer, manager, head, other_manager)

    def counts():
        return [deferral_selectors.pending_count(person) for person in people]

    def listed():
        return [deferral_selectors.desk(person).pending().count() for person in people]

    assert counts() == listed() == [0, 2, 0, 0]
    away(manager, head)  # the head stands in for the manager today
    assert counts() == listed() == [0, 2, 2, 0]
    Absence.objects.update(ends_on=deferral_selectors.organisation_today() - timedelta(days=1))  # over yesterday
    assert counts() == listed() == [0, 2, 0, 0]
    deferrals.deferral_decide(first, actor=manager, verdict="objective", new_deadline=first.proposed_deadline)
    assert counts() == listed() == [0, 1, 0, 0]
