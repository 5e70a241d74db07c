"""Links between tickets (``tickets.links``): kinds, both ends, history, and every refusal changing nothing."""

from __future__ import annotations

import pytest

from tests.factories import TicketFactory
from tickets import links, merge
from tickets.errors import TicketError
from tickets.models import LinkKind, Status, Ticket, TicketEvent, TicketLink


@pytest.fixture
def three(queue):
    return [TicketFactory(queue=queue, title=name) for name in ("Outage", "Site A down", "Site B down")]


def _state():
    return list(TicketLink.objects.values_list("source", "target", "kind")), TicketEvent.objects.count()


def test_a_link_reads_from_both_ends_and_leaves_history_on_both(three, engineer):
    outage, site_a, _site_b = three
    links.ticket_link(site_a, other=outage, kind=LinkKind.RELATED, actor=engineer)
    [here] = links.ticket_links(site_a, engineer)
    [there] = links.ticket_links(outage, engineer)
    assert (here.other, str(here.label)) == (outage, "Related to")
    assert (there.other, str(there.label)) == (site_a, "Related to")
    rows = TicketEvent.objects.filter(kind="ticket.linked").order_by("ticket_id")
    assert [(r.ticket_id, r.data["other"], r.data["direction"]) for r in rows] == [
        (outage.pk, site_a.pk, "in"),
        (site_a.pk, outage.pk, "out"),
    ]


def test_child_of_writes_a_parent_link_and_the_parent_sees_its_childrens_status(three, engineer):
    outage, site_a, site_b = three
    links.ticket_link(site_a, other=outage, kind=links.CHILD, actor=engineer)
    links.ticket_link(outage, other=site_b, kind=LinkKind.PARENT, actor=engineer)
    Ticket.objects.filter(pk=site_b.pk).update(status=Status.DONE)
    shown = links.ticket_links(outage, engineer)
    assert {(item.other.pk, item.other.status) for item in shown if item.is_child} == {
        (site_a.pk, Status.NEW),
        (site_b.pk, Status.DONE),
    }
    assert [str(item.label) for item in links.ticket_links(site_a, engineer)] == ["Child of"]


def test_unlinking_leaves_history_on_both_tickets(three, engineer):
    outage, site_a, _ = three
    links.ticket_link(outage, other=site_a, kind=LinkKind.DUPLICATE, actor=engineer)
    links.ticket_unlink(site_a, other=outage, actor=engineer)
    assert not TicketLink.objects.exists()
    assert set(TicketEvent.objects.filter(kind="ticket.unlinked").values_list("ticket_id", flat=True)) == {
        outage.pk,
        site_a.pk,
    }


@pytest.mark.parametrize("case", ["self", "twice", "reverse", "cycle", "kind", "foreign", "none"])
def test_every_refused_link_says_why_and_changes_nothing(case, three, engineer, other_queue):
    outage, site_a, site_b = three
    links.ticket_link(outage, other=site_a, kind=LinkKind.PARENT, actor=engineer)
    links.ticket_link(site_a, other=site_b, kind=LinkKind.PARENT, actor=engineer)
    ticket, other, kind = site_b, outage, LinkKind.RELATED
    expected = {
        "self": "cannot be linked to itself",
        "twice": "already linked",
        "reverse": "already linked",
        "cycle": "cannot go round in a circle",
        "kind": "Unknown kind of link",
        "foreign": "does not exist or you may not open it",
        "none": "Choose the ticket to link",
    }[case]
    if case == "self":
        other = site_b
    elif case == "twice":
        ticket, other, kind = outage, site_a, LinkKind.PARENT
    elif case == "reverse":
        ticket, other, kind = site_a, outage, LinkKind.RELATED
    elif case == "cycle":
        kind = LinkKind.PARENT  # site_b would become the parent of its grandparent
    elif case == "kind":
        kind = "sibling"
    elif case == "foreign":
        other = TicketFactory(queue=other_queue)
    elif case == "none":
        other = None
    before = _state()
    with pytest.raises(TicketError, match=expected):
        links.ticket_link(ticket, other=other, kind=kind, actor=engineer)
    assert _state() == before


def test_unlinking_tickets_that_are_not_linked_is_refused(three, engineer):
    outage, site_a, _ = three
    with pytest.raises(TicketError, match="are not linked"):
        links.ticket_unlink(outage, other=site_a, actor=engineer)


def test_the_link_a_merge_wrote_stays(dispatcher, queue):
    first, second = TicketFactory(queue=queue), None
    second = TicketFactory(queue=queue, customer=first.customer)
    merge.ticket_merge(second, into=first, actor=dispatcher)
    before = _state()
    with pytest.raises(TicketError, match="records a merge"):
        links.ticket_unlink(first, other=Ticket.objects.get(pk=second.pk), actor=dispatcher)
    assert _state() == before


def test_the_database_refuses_a_self_link_and_a_second_link_in_the_same_direction(three):
    from django.db import IntegrityError, transaction

    outage, site_a, _ = three
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketLink.objects.create(source=outage, target=outage, kind=LinkKind.RELATED)
    TicketLink.objects.create(source=outage, target=site_a, kind=LinkKind.RELATED)
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketLink.objects.create(source=outage, target=site_a, kind=LinkKind.PARENT)


def test_links_to_tickets_the_viewer_may_not_open_are_not_shown(three, engineer, other_queue, admin_user):
    outage, _site_a, _ = three
    hidden = TicketFactory(queue=other_queue, title="Elsewhere")
    links.ticket_link(outage, other=hidden, kind=LinkKind.RELATED, actor=admin_user)
    assert links.ticket_links(outage, engineer) == []
    assert [item.other for item in links.ticket_links(outage, admin_user)] == [hidden]
