"""Escalation-case pages, per role: who sees what, who may do what, bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from escalations import cases
from escalations.models import CaseMember, CaseStatus, CaseUpdate, EscalationCase
from tests.escalations.case_helpers import open_case, outage_tickets
from tests.factories import UserFactory
from tickets.models import Message, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db, queue):
    """The escalation manager manages the outage's queue: they may open and answer its tickets."""
    user = UserFactory(username="owner", role="manager")
    queue.manager = user
    queue.save(update_fields=["manager"])
    return user


@pytest.fixture
def outage(queue, engineer):
    return outage_tickets(queue, 3, performer=engineer)


@pytest.fixture
def case(manager, owner, outage):
    return open_case(manager, owner, outage)


def as_user(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


URLS = ["cases:detail", "cases:update", "cases:add_member", "cases:close"]


# --- Anonymous and role-less -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cases:list", "cases:create", "cases:report"])
def test_anonymous_users_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", URLS)
def test_anonymous_users_are_sent_to_login_from_a_case(client, case, name):
    method = client.get if name == "cases:detail" else client.post
    response = method(reverse(name, args=[case.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_user_without_a_role_is_refused(client, case):
    as_user(client, UserFactory(username="nobody"))
    assert client.get(reverse("cases:list")).status_code == 403
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 403


# --- List ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "dispatcher", "admin_user"])
def test_managers_dispatchers_and_admins_see_every_case(request, client, case, who):
    response = as_user(client, request.getfixturevalue(who)).get(reverse("cases:list"))
    assert response.status_code == 200
    assert case.title in response.content.decode()
    assert reverse("cases:create") in response.content.decode()


def test_an_engineer_sees_only_cases_linked_to_tickets_they_see(client, case, engineer, other_engineer):
    assert case.title in as_user(client, engineer).get(reverse("cases:list")).content.decode()
    page = as_user(client, other_engineer).get(reverse("cases:list")).content.decode()
    assert case.title not in page and reverse("cases:create") not in page


def test_the_list_puts_open_cases_first_then_severity_and_marks_missed_updates(client, manager, owner):
    with time_machine.travel("2026-03-16 10:00 +05:00", tick=False) as traveller:
        minor = open_case(manager, owner, title="Minor", severity="sev4")
        major = open_case(manager, owner, title="Major", severity="sev1")
        done = open_case(manager, owner, title="Done", severity="sev1")
        cases.case_announce_resolution(done, actor=owner, summary="ok")
        traveller.move_to("2026-03-16 11:30 +05:00")
        response = as_user(client, manager).get(reverse("cases:list"))
        only_missed = client.get(reverse("cases:list"), {"missed": "on"})
    rows = [c.pk for c in response.context["page"]]
    assert rows == [major.pk, minor.pk, done.pk]
    html = response.content.decode()
    assert f'data-case="{major.pk}" class="case-row case-open is-missed"' in html
    assert f'data-case="{minor.pk}" class="case-row case-open"' in html
    assert [c.pk for c in only_missed.context["page"]] == [major.pk]


# --- Opening ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["engineer", "other_engineer"])
def test_engineers_cannot_open_cases(request, client, who, outage):
    as_user(client, request.getfixturevalue(who))
    assert client.get(reverse("cases:create")).status_code == 403
    response = client.post(reverse("cases:create"), {"title": "x", "severity": "sev1", "owner": outage[0].pk})
    assert response.status_code == 403
    assert not EscalationCase.objects.exists()


def test_the_new_case_form_is_prefilled_from_the_tickets(client, manager, outage):
    url = reverse("cases:create") + f"?ticket={outage[0].pk}&ticket={outage[1].pk}"
    form = as_user(client, manager).get(url).context["form"]
    assert form.initial["tickets"] == [outage[0].pk, outage[1].pk]
    assert form.initial["title"] == outage[0].title
    assert outage[0].customer.name in form.initial["triggering_criteria"]
    assert list(form.fields["tickets"].queryset) == outage[:2]


def test_a_dispatcher_opens_a_case_with_three_tickets(client, dispatcher, owner, outage):
    response = as_user(client, dispatcher).post(reverse("cases:create"), {
        "title": "Outage", "severity": "sev1", "owner": owner.pk, "triggering_criteria": "3 customers",
        "tickets": [t.pk for t in outage],
    })
    case = EscalationCase.objects.get()
    assert response.status_code == 302 and response.url == reverse("cases:detail", args=[case.pk])
    assert case.owner == owner and case.customers.count() == 3


def test_a_case_without_a_title_is_not_opened(client, manager, owner):
    response = as_user(client, manager).post(reverse("cases:create"), {"title": "", "severity": "sev1",
                                                                       "owner": owner.pk})
    assert response.status_code == 200 and not EscalationCase.objects.exists()
    assert "The case was not opened" in " ".join(messages_of(response))


def test_a_ticket_the_opener_cannot_see_is_not_linked(client, dispatcher, owner, other_queue):
    hidden = outage_tickets(other_queue, 1)[0]
    as_user(client, dispatcher).post(reverse("cases:create"), {
        "title": "Outage", "severity": "sev1", "owner": owner.pk, "tickets": [hidden.pk]})
    assert not EscalationCase.objects.exists()


# --- The case page ----------------------------------------------------------------------------------------------


def test_the_owner_sees_every_action(client, case, owner):
    html = as_user(client, owner).get(reverse("cases:detail", args=[case.pk])).content.decode()
    for marker in ("data-update-form", "data-task-form", "data-member-form", "data-resolve-form",
                   "data-escalate-form", "data-rca-form"):
        assert marker in html


def test_an_engineer_on_a_linked_ticket_reads_the_case_but_cannot_act(client, case, engineer):
    as_user(client, engineer)
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert case.title in html and "data-update-form" not in html and "data-resolve-form" not in html
    response = client.post(reverse("cases:update", args=[case.pk]), {"body": "x", "token": "t"})
    assert response.status_code == 403 and not CaseUpdate.objects.exists()


def test_an_engineer_without_a_linked_ticket_gets_404(client, case, other_engineer):
    as_user(client, other_engineer)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert client.post(reverse("cases:update", args=[case.pk]), {"body": "x", "token": "t"}).status_code == 404


@pytest.mark.parametrize("who", ["manager", "dispatcher", "admin_user"])
def test_managers_who_are_not_members_read_but_may_not_post(request, client, case, who):
    as_user(client, request.getfixturevalue(who))
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert client.post(reverse("cases:update", args=[case.pk]), {"body": "x", "token": "t"}).status_code == 403
    assert client.post(reverse("cases:close", args=[case.pk]), {}).status_code == 403


def test_a_member_posts_a_public_update_once_even_when_the_form_is_sent_twice(client, case, owner, engineer,
                                                                              outage):
    cases.case_add_member(case, user=engineer, actor=owner)
    as_user(client, engineer)
    data = {"body": "Failover in progress", "public": "on", "token": "form-1"}
    for _ in range(2):
        response = client.post(reverse("cases:update", args=[case.pk]), data)
        assert response.status_code == 302
    assert CaseUpdate.objects.count() == 1
    assert Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY, body="Failover in progress").count() == 3


def test_an_empty_update_shows_a_message_and_changes_nothing(client, case, owner):
    due = case.next_update_due
    response = as_user(client, owner).post(reverse("cases:update", args=[case.pk]), {"body": " ", "token": "t"},
                                           follow=True)
    assert messages_of(response)
    case.refresh_from_db()
    assert case.next_update_due == due and not CaseUpdate.objects.exists()


def test_a_missed_update_turns_the_case_page_red(client, case, owner):
    page = as_user(client, owner).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "data-missed" not in page
    with time_machine.travel(case.next_update_due + timedelta(seconds=1)):
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "data-missed" in page and "case-head is-missed" in page
    assert f'data-due="{case.next_update_due.isoformat(timespec="seconds")}"' in page


def test_adding_a_task_with_a_past_due_time_shows_an_error(client, case, owner, queue, engineer):
    response = as_user(client, owner).post(reverse("cases:add_task", args=[case.pk]), {
        "title": "Patch", "performer": engineer.pk, "queue": queue.pk,
        "due": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }, follow=True)
    assert "The due time must be in the future." in messages_of(response)
    assert not case.ticket_links.filter(role="task").exists()


def test_the_owner_adds_and_removes_a_member(client, case, owner, engineer):
    as_user(client, owner)
    client.post(reverse("cases:add_member", args=[case.pk]), {"user": engineer.pk})
    assert CaseMember.objects.filter(case=case, user=engineer).exists()
    client.post(reverse("cases:remove_member", args=[case.pk]), {"user": engineer.pk})
    assert not CaseMember.objects.filter(case=case).exists()


def test_closing_through_the_page_closes_the_chosen_ticket(client, case, owner, outage):
    as_user(client, owner)
    client.post(reverse("cases:resolve", args=[case.pk]), {"summary": "Restored"})
    response = client.post(reverse("cases:close", args=[case.pk]), {
        f"ticket_{outage[0].pk}": "close", f"ticket_{outage[1].pk}": "hand_back",
        f"ticket_{outage[2].pk}": "hand_back", "no_rca_reason": "Vendor outage, vendor RCA attached",
    }, follow=True)
    assert "The case is closed." in messages_of(response)
    case.refresh_from_db()
    outage[0].refresh_from_db()
    assert case.status == CaseStatus.CLOSED and outage[0].status == Status.DONE


def test_closing_without_rca_or_reason_is_refused_with_a_message(client, case, owner):
    as_user(client, owner)
    client.post(reverse("cases:resolve", args=[case.pk]), {"summary": "Restored"})
    response = client.post(reverse("cases:close", args=[case.pk]), {}, follow=True)
    assert any("root-cause analysis" in m for m in messages_of(response))
    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED


def test_actions_are_post_only(client, case, owner):
    assert as_user(client, owner).get(reverse("cases:resolve", args=[case.pk])).status_code == 405


# --- Ticket page and report ----------------------------------------------------------------------------------


def test_the_ticket_page_shows_its_cases_and_offers_to_open_one(client, case, outage, manager, engineer):
    html = as_user(client, manager).get(reverse("tickets:detail", args=[outage[0].pk])).content.decode()
    assert reverse("cases:detail", args=[case.pk]) in html
    assert f'{reverse("cases:create")}?ticket={outage[0].pk}' in html
    html = as_user(client, engineer).get(reverse("tickets:detail", args=[outage[0].pk])).content.decode()
    assert case.reference in html and "data-open-case" not in html
    assert "linked this ticket to escalation case" in html


@pytest.mark.parametrize("who,status", [("manager", 200), ("dispatcher", 200), ("admin_user", 200),
                                        ("engineer", 403)])
def test_the_report_is_for_managers_dispatchers_and_admins(request, client, who, status):
    assert as_user(client, request.getfixturevalue(who)).get(reverse("cases:report")).status_code == status


def test_the_report_counts_first_updates_missed_updates_and_shows_the_rcas(client, manager, owner, outage):
    with time_machine.travel("2026-03-16 10:00 +05:00", tick=False) as traveller:
        case = open_case(manager, owner, outage)
        traveller.move_to("2026-03-16 10:30 +05:00")
        cases.case_post_update(case, actor=owner, body="First", public=False, token="a")
        traveller.move_to("2026-03-16 12:00 +05:00")
        from escalations import case_rules

        case_rules.signal_missed_updates()
        cases.case_announce_resolution(case, actor=owner, summary="Fixed")
        cases.case_write_rca(case, actor=owner, internal="Disk full on the gateway", customer="We are sorry",
                             cause="software")
        cases.case_approve_customer_rca(case, actor=owner)
        cases.case_close(case, actor=owner, ticket_actions={}, no_rca_reason="")
        response = as_user(client, manager).get(reverse("cases:report"), {"start": "2026-03-01",
                                                                          "end": "2026-03-31"})
    report = response.context["report"]
    assert report["total"] == 1 and report["missed_updates"] == 1
    assert report["first_update_avg"] == timedelta(minutes=30)
    assert report["resolution_avg"] == timedelta(hours=2)
    assert "Disk full on the gateway" in response.content.decode()


@pytest.mark.parametrize("model", ["caserule", "affectedservice", "caseseveritypolicy"])
def test_admins_keep_the_case_catalogues_in_django_admin(client, admin_user, model):
    as_user(client, admin_user)
    assert client.get(reverse(f"admin:escalations_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:escalations_{model}_add")).status_code == 200
