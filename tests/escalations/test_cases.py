"""Escalation case services: opening, communication cadence, plan, escalation, closure."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from channels import outbox
from escalations import access as case_access
from escalations import case_rules, cases
from escalations.models import (
    CaseEscalation,
    CaseEvent,
    CaseSeverityPolicy,
    CaseStatus,
    CaseTicket,
    CaseUpdate,
    ContactRole,
    EscalationCase,
    QueueEscalationContact,
)
from notifications.models import Notification
from portal import selectors
from tests.escalations.case_helpers import open_case, outage_tickets
from tests.factories import UserFactory
from tickets.models import Message, Status
from tickets.services import TicketError, ticket_assign, ticket_change_status

pytestmark = pytest.mark.django_db



@pytest.fixture
def boss(db):
    return UserFactory(username="boss", role="manager")


@pytest.fixture
def owner(db, boss, queue):
    """The escalation manager manages the outage's queue: they may open and answer its tickets."""
    user = UserFactory(username="owner", role="manager", profile__manager=boss)
    queue.manager = user
    queue.save(update_fields=["manager"])
    return user


@pytest.fixture
def outage(queue, engineer):
    return outage_tickets(queue, 3, performer=engineer)


@pytest.fixture
def case(manager, owner, outage):
    return open_case(manager, owner, outage)


def recipients(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


# --- Opening -------------------------------------------------------------------------------------


def test_a_manager_opens_a_case_from_three_tickets_and_their_customers_become_affected(case, outage):
    assert case.status == CaseStatus.OPEN
    assert set(case.tickets.all()) == set(outage)
    assert set(case.customers.all()) == {t.customer for t in outage}
    assert set(CaseTicket.objects.filter(case=case).values_list("role", flat=True)) == {"affected"}
    assert list(case.events.values_list("kind", flat=True)[:1]) == ["case.opened"]
    assert all(t.events.filter(kind="ticket.case_linked").exists() for t in outage)


def test_opening_informs_owner_queue_manager_and_the_customers_account_managers(manager, owner, queue, outage):
    queue.manager = UserFactory(username="queue-boss", role="manager")
    queue.save()
    open_case(manager, owner, outage)
    assert recipients("case.opened") == {"owner", "queue-boss", "am0", "am1", "am2"}  # not the actor


def test_an_engineer_cannot_open_a_case(engineer, owner, outage):
    with pytest.raises(TicketError):
        open_case(engineer, owner, outage)
    assert not EscalationCase.objects.exists()


@pytest.mark.parametrize("fields", [{"title": "  "}, {"severity": "sev9"}])
def test_a_case_without_title_or_with_an_unknown_severity_is_refused(manager, owner, fields):
    with pytest.raises(TicketError):
        open_case(manager, owner, **fields)
    assert not EscalationCase.objects.exists()


def test_the_owner_must_have_a_role(manager, outage):
    stranger = UserFactory(username="stranger")
    with pytest.raises(TicketError):
        open_case(manager, stranger, outage)
    assert not EscalationCase.objects.exists()


# --- Cadence and the missed-update signal --------------------------------------------------------------


def test_the_first_update_is_due_one_cadence_after_opening(manager, owner):
    with time_machine.travel("2026-03-16 10:00 +05:00", tick=False):
        sev1 = open_case(manager, owner)
        CaseSeverityPolicy.objects.create(severity="sev3", update_every=timedelta(minutes=15),
                                          escalate_after=timedelta(hours=1))
        sev3 = open_case(manager, owner, severity="sev3")
        now = timezone.now()
    assert sev1.next_update_due == now + timedelta(minutes=60)
    assert sev3.next_update_due == now + timedelta(minutes=15)  # the admin's policy wins over the default


def test_the_update_is_missed_only_after_it_was_due_and_the_signal_fires_once(manager, owner, engineer):
    with time_machine.travel("2026-03-16 10:00 +05:00", tick=False) as traveller:
        case = open_case(manager, owner)
        cases.case_add_member(case, user=engineer, actor=owner)
        traveller.move_to("2026-03-16 11:00 +05:00")
        case.refresh_from_db()
        assert not case.update_missed()
        assert case_rules.signal_missed_updates() == 0
        traveller.move_to("2026-03-16 11:00:01 +05:00")
        assert case.update_missed()
        assert case_rules.signal_missed_updates() == 1
        assert case_rules.signal_missed_updates() == 0  # once per due instant
        case.refresh_from_db()
        assert case.missed_updates == 1
        assert recipients("case.update_missed") == {"owner", "engineer"}
        update = cases.case_post_update(case, actor=engineer, body="Still investigating", public=False, token="t1")
        assert update.late is True
        assert case.next_update_due == timezone.now() + timedelta(minutes=60)
        assert not case.update_missed()
        traveller.move_to("2026-03-16 12:30 +05:00")
        assert case_rules.signal_missed_updates() == 1  # the next due instant is missed too
    case.refresh_from_db()
    assert case.missed_updates == 2
    assert case.events.filter(kind="case.update_missed").count() == 2


def test_a_resolved_case_misses_no_update(case, owner):
    cases.case_announce_resolution(case, actor=owner, summary="Fixed")
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert case_rules.signal_missed_updates() == 0
        assert not case.update_missed()


# --- Updates -------------------------------------------------------------------------------------------


def test_a_public_update_is_a_public_reply_on_each_affected_ticket(case, owner, outage, queue, engineer):
    task = cases.case_add_task(case, actor=owner, title="Restart", queue=queue, performer=engineer,
                               due=timezone.now() + timedelta(hours=2))
    update = cases.case_post_update(case, actor=owner, body="We found the cause.", public=True, token="abc")
    assert update.replies == 3
    assert outbox.deliver_pending()["sent"] == 3  # delivered like any reply (channels.outbox)
    for ticket in outage:
        reply = ticket.messages.get(kind=Message.Kind.PUBLIC_REPLY)
        assert reply.body == "We found the cause." and reply.author == owner
        ticket.refresh_from_db()
        assert ticket.first_public_reply_at is not None  # delivered, it counts as a response
    assert not task.messages.filter(kind=Message.Kind.PUBLIC_REPLY).exists()  # tasks are internal


def test_an_internal_update_reaches_members_but_no_customer(case, owner, engineer, outage):
    cases.case_add_member(case, user=engineer, actor=owner)
    cases.case_post_update(case, actor=owner, body="Internal detail", public=False, token="x")
    assert not Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY).exists()
    assert recipients("case.update") == {"engineer"}  # the author is not told about their own update


def test_the_same_form_token_posts_one_update(case, owner, outage):
    first = cases.case_post_update(case, actor=owner, body="Once", public=True, token="same")
    again = cases.case_post_update(case, actor=owner, body="Once", public=True, token="same")
    assert first.pk == again.pk
    assert CaseUpdate.objects.count() == 1
    assert Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY).count() == 3


def test_a_canceled_ticket_gets_no_public_update(case, owner, outage):
    ticket_change_status(outage[0], status=Status.CANCELED, actor=owner)
    update = cases.case_post_update(case, actor=owner, body="News", public=True, token="n")
    assert update.replies == 2


@pytest.mark.parametrize("who", ["dispatcher", "other_engineer", "manager"])
def test_only_the_owner_and_members_post_updates(request, case, who):
    with pytest.raises(TicketError):
        cases.case_post_update(case, actor=request.getfixturevalue(who), body="Hi", public=True, token="t")
    assert not CaseUpdate.objects.exists() and not Message.objects.filter(kind="reply").exists()


def test_an_empty_update_is_refused(case, owner):
    with pytest.raises(TicketError):
        cases.case_post_update(case, actor=owner, body="  ", public=False, token="t")


# --- Plan and task force ---------------------------------------------------------------------------------


def test_a_task_is_a_ticket_in_the_performers_work_with_the_due_time_as_deadline(case, owner, queue, engineer):
    due = timezone.now() + timedelta(hours=3)
    task = cases.case_add_task(case, actor=owner, title="Fail over to the backup", queue=queue, performer=engineer,
                               due=due)
    assert task.performer == engineer and task.deadline == due and task.queue == queue
    assert CaseTicket.objects.get(case=case, ticket=task).role == "task"
    assert task in selectors.my_work(engineer)
    assert cases.plan(case) == [task]
    assert case.events.filter(kind="case.task_added").exists()


def test_a_task_due_in_the_past_is_refused(case, owner, queue, engineer):
    with pytest.raises(TicketError):
        cases.case_add_task(case, actor=owner, title="Late", queue=queue, performer=engineer,
                            due=timezone.now() - timedelta(minutes=1))
    assert not CaseTicket.objects.filter(role="task").exists()


def test_members_joining_and_leaving_are_on_the_timeline(case, owner, engineer):
    cases.case_add_member(case, user=engineer, actor=owner)
    assert recipients("case.member_added") == {"engineer"}
    with pytest.raises(TicketError):
        cases.case_add_member(case, user=engineer, actor=owner)
    cases.case_remove_member(case, user=engineer, actor=owner)
    assert list(case.events.filter(kind__startswith="case.member").values_list("kind", flat=True)) == [
        "case.member_added", "case.member_removed",
    ]
    assert not case_access.can_take_part(engineer, case)


def test_the_timeline_is_append_only(case):
    event = case.events.first()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        CaseEvent.objects.filter(case=case).update(kind="x")
    with pytest.raises(TypeError):
        CaseEvent.objects.filter(case=case).delete()


# --- Escalation up the hierarchy ---------------------------------------------------------------------------


def test_an_overdue_task_escalates_the_case_to_the_owners_manager_once(case, owner, queue, engineer):
    cases.case_add_task(case, actor=owner, title="Patch", queue=queue, performer=engineer,
                        due=timezone.now() + timedelta(minutes=10))
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert case_rules.escalate_overdue_cases() == 1
        assert case_rules.escalate_overdue_cases() == 0
    row = CaseEscalation.objects.get(case=case)
    assert (row.level, row.to_user.username) == (1, "boss")
    assert "boss" in recipients("case.escalated")


def test_a_case_open_too_long_climbs_to_head_then_director(case, queue):
    head = UserFactory(username="head", role="manager")
    director = UserFactory(username="director", role="manager")
    QueueEscalationContact.objects.create(queue=queue, role=ContactRole.HEAD, user=head)
    QueueEscalationContact.objects.create(queue=None, role=ContactRole.DIRECTOR, user=director)
    opened = case.opened_at
    with time_machine.travel(opened + timedelta(hours=4, minutes=1)):  # SEV1: escalate after 4 h
        assert case_rules.escalate_overdue_cases() == 1
    with time_machine.travel(opened + timedelta(hours=12, minutes=1)):  # a late run: both remaining levels
        assert case_rules.escalate_overdue_cases() == 2
        assert case_rules.escalate_overdue_cases() == 0
    rows = list(CaseEscalation.objects.filter(case=case).values_list("level", "to_user__username"))
    assert rows == [(1, "boss"), (2, "head"), (3, "director")]
    case.refresh_from_db()
    assert case.escalation_level == 3


def test_escalating_by_hand_needs_a_reason_and_goes_one_level_up(case, owner):
    with pytest.raises(TicketError):
        cases.case_escalate(case, actor=owner, reason=" ")
    row = cases.case_escalate(case, actor=owner, reason="Vendor does not answer")
    assert row.level == 1 and row.to_user.username == "boss"
    assert case.events.filter(kind="case.escalated").count() == 1


# --- Closure -----------------------------------------------------------------------------------------------


def test_closing_needs_the_announced_resolution(case, owner):
    with pytest.raises(TicketError):
        cases.case_close(case, actor=owner, ticket_actions={}, no_rca_reason="Trivial")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_closing_needs_the_rca_unless_the_owner_says_why_none_is_needed(case, owner):
    cases.case_announce_resolution(case, actor=owner, summary="Gateway restarted")
    with pytest.raises(TicketError):
        cases.case_close(case, actor=owner, ticket_actions={})
    cases.case_close(case, actor=owner, ticket_actions={}, no_rca_reason="A known vendor bug, RCA on file")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.no_rca_reason.startswith("A known")


def test_the_customer_rca_is_sent_only_after_the_owners_approval(case, owner, engineer, outage):
    cases.case_add_member(case, user=engineer, actor=owner)
    cases.case_announce_resolution(case, actor=owner, summary="Fixed")
    cases.case_write_rca(case, actor=engineer, internal="Expired certificate", customer="A certificate expired.",
                         cause="infrastructure")
    assert not Message.objects.filter(kind="reply").exists()  # written, not sent
    with pytest.raises(TicketError):
        cases.case_close(case, actor=owner, ticket_actions={})  # the customer part is not approved yet
    with pytest.raises(TicketError):
        cases.case_approve_customer_rca(case, actor=engineer)  # a member is not the owner
    assert cases.case_approve_customer_rca(case, actor=owner) == 3
    for ticket in outage:
        assert ticket.messages.filter(kind="reply", body="A certificate expired.").exists()
    with pytest.raises(TicketError):
        cases.case_write_rca(case, actor=owner, internal="Expired certificate", customer="Changed")
    cases.case_close(case, actor=owner, ticket_actions={})
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.no_rca_reason == ""


def test_changing_the_customer_rca_withdraws_an_approval_not_yet_sent(case, owner):
    cases.case_write_rca(case, actor=owner, internal="x", customer="First text")
    case.rca_customer_approved_by = owner
    case.save()
    cases.case_write_rca(case, actor=owner, internal="x", customer="Second text")
    case.refresh_from_db()
    assert case.rca_customer_approved_by is None


def test_closing_closes_the_chosen_tickets_and_hands_the_others_back(case, owner, outage):
    cases.case_announce_resolution(case, actor=owner, summary="Fixed")
    actions = {outage[0].pk: cases.CLOSE_TICKET, outage[1].pk: cases.HAND_BACK}
    cases.case_close(case, actor=owner, ticket_actions=actions, no_rca_reason="Duplicate of C-1")
    statuses = [t.__class__.objects.get(pk=t.pk).status for t in outage]
    assert statuses == [Status.DONE, Status.ASSIGNED, Status.ASSIGNED]
    event = case.events.get(kind="case.closed")
    assert event.data["closed"] == [outage[0].pk]
    assert set(event.data["handed_back"]) == {outage[1].pk, outage[2].pk}


def test_a_ticket_that_cannot_be_closed_stops_the_closure_and_changes_nothing(manager, owner, queue):
    unassigned = outage_tickets(queue, 1)[0]
    case = open_case(manager, owner, [unassigned])
    cases.case_announce_resolution(case, actor=owner, summary="Fixed")
    with pytest.raises(TicketError):
        cases.case_close(case, actor=owner, ticket_actions={unassigned.pk: cases.CLOSE_TICKET}, no_rca_reason="n/a")
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


@pytest.mark.parametrize("action", ["resolve", "approve", "close"])
def test_only_the_owner_resolves_approves_and_closes(case, manager, action):
    with pytest.raises(TicketError):
        if action == "resolve":
            cases.case_announce_resolution(case, actor=manager, summary="x")
        elif action == "approve":
            cases.case_approve_customer_rca(case, actor=manager)
        else:
            cases.case_close(case, actor=manager, ticket_actions={}, no_rca_reason="x")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_a_task_done_through_the_ticket_counts_in_the_plan(case, owner, queue, engineer):
    task = cases.case_add_task(case, actor=owner, title="Restart", queue=queue, performer=engineer,
                               due=timezone.now() + timedelta(hours=1))
    ticket_assign(task, performer=engineer, actor=owner)
    ticket_change_status(task, status=Status.DONE, actor=engineer)
    assert [t.status for t in cases.plan(case)] == [Status.DONE]
