"""Issue 19, points 7 and 8: a case shows and reaches only the linked tickets the viewer/author may open.

An engineer in the Service queue belongs to the task force of a case that also links two tickets of the
Sales queue: the case page names only the Service tickets (plus a count of the rest), the timeline does
not give the hidden titles away, and a public update of theirs reaches only the customers of the tickets
they may reply on; the others are skipped, and the page and the timeline say so.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from escalations import cases
from escalations.models import CaseEvent, CaseUpdate
from tests.escalations.case_helpers import open_case, outage_tickets
from tests.factories import CustomerFactory, TicketFactory, UserFactory
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db, queue, other_queue):
    """The escalation manager manages both queues: they may open and answer every linked ticket."""
    user = UserFactory(username="owner", role="manager")
    for q in (queue, other_queue):
        q.manager = user
        q.save(update_fields=["manager"])
    return user


@pytest.fixture
def mine(queue, engineer):
    return outage_tickets(queue, 2, performer=engineer)


@pytest.fixture
def hidden(other_queue):
    return [
        TicketFactory(queue=other_queue, title=f"Secret sales deal {i}",
                      customer=CustomerFactory(name=f"Hidden customer {i}"))
        for i in range(2)
    ]


@pytest.fixture
def case(manager, owner, mine, hidden, engineer):
    case = open_case(manager, owner, [*mine, *hidden])
    cases.case_add_member(case, user=engineer, actor=owner)
    return case


def test_the_case_page_lists_only_tickets_the_viewer_may_open_and_counts_the_rest(client, case, engineer, mine,
                                                                                  hidden, other_queue, owner):
    task = cases.case_add_task(case, actor=owner, title="Secret sales task", queue=other_queue, performer=owner,
                               due=timezone.now() + timedelta(hours=2))
    client.force_login(engineer)
    assert client.get(reverse("tickets:detail", args=[hidden[0].pk])).status_code == 404  # the premise
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    for ticket in mine:
        assert f'data-affected-ticket="{ticket.pk}"' in content and ticket.title in content
    for ticket in [*hidden, task]:
        assert f'data-affected-ticket="{ticket.pk}"' not in content
        assert f'data-task="{ticket.pk}"' not in content
        assert ticket.title not in content  # not on the lists, not in the timeline
        assert reverse("tickets:detail", args=[ticket.pk]) not in content
    assert "and 2 tickets you cannot open" in content
    assert "and 1 task you cannot open" in content
    listing = client.get(reverse("cases:list")).content.decode()  # the list counts, it names no ticket
    assert case.reference in listing and all(t.title not in listing for t in [*hidden, task])
    client.force_login(owner)  # a viewer who may open every ticket sees them all and no count
    content = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    for ticket in [*hidden, task]:
        assert ticket.title in content
    assert "you cannot open" not in content


def test_a_members_public_update_reaches_only_the_tickets_they_may_reply_on(case, engineer, mine, hidden):
    update = cases.case_post_update(case, actor=engineer, body="We are on it.", public=True, token="t1")
    assert update.replies == 2
    for ticket in mine:
        assert ticket.messages.filter(kind=Message.Kind.PUBLIC_REPLY, body="We are on it.").count() == 1
    for ticket in hidden:
        assert not ticket.messages.filter(kind=Message.Kind.PUBLIC_REPLY).exists()
        assert Ticket.objects.get(pk=ticket.pk).first_public_reply_at is None
    event = CaseEvent.objects.get(case=case, kind="case.update_posted")
    assert event.data["replies"] == 2 and event.data["skipped"] == 2
    assert sorted(update.skipped) == sorted(t.pk for t in hidden)


def test_the_page_and_the_timeline_say_which_tickets_were_skipped(client, case, engineer, hidden, owner):
    client.force_login(engineer)
    response = client.post(reverse("cases:update", args=[case.pk]),
                           {"body": "We are on it.", "public": "on", "token": "tok-1"}, follow=True)
    content = response.content.decode()
    assert response.status_code == 200 and CaseUpdate.objects.get().replies == 2
    assert "2 linked tickets did not get it: you may not reply on them." in content  # the message
    assert "2 linked tickets were skipped: the author may not reply on them." in content  # the timeline
    assert not Message.objects.filter(ticket__in=hidden, kind=Message.Kind.PUBLIC_REPLY).exists()


def test_the_owner_who_may_reply_everywhere_reaches_every_customer(case, owner, mine, hidden):
    update = cases.case_post_update(case, actor=owner, body="Fixed soon.", public=True, token="o1")
    assert update.replies == 4 and update.skipped == []
    assert Message.objects.filter(kind=Message.Kind.PUBLIC_REPLY, body="Fixed soon.").count() == 4


def test_the_approved_customer_rca_reaches_only_the_tickets_the_owner_may_reply_on(manager, queue, mine, hidden):
    owner = UserFactory(username="service-owner", role="manager")
    queue.manager = owner  # the Service queue only: the Sales tickets are not theirs to answer
    queue.save(update_fields=["manager"])
    case = open_case(manager, owner, [*mine, *hidden])
    cases.case_write_rca(case, actor=owner, internal="Relay down.", customer="A relay failed; it is fixed.")
    assert cases.case_approve_customer_rca(case, actor=owner) == 2
    assert Message.objects.filter(ticket__in=mine, kind=Message.Kind.PUBLIC_REPLY).count() == 2
    assert not Message.objects.filter(ticket__in=hidden, kind=Message.Kind.PUBLIC_REPLY).exists()
    event = CaseEvent.objects.get(case=case, kind="case.rca_approved")
    assert event.data["replies"] == 2 and sorted(event.data["skipped_tickets"]) == sorted(t.pk for t in hidden)
