"""Migration sla.0005_deadline_in_force: who set each deadline, inferred from the history; the SLA's re-aligned."""

from __future__ import annotations

import importlib

from django.apps import apps

from sla.models import SLAClock
from tests.factories import CustomerFactory, TicketFactory
from tickets import history, services
from tickets.models import Status, Ticket

from .conftest import almaty

forwards = importlib.import_module("sla.migrations.0005_deadline_in_force").forwards


def create(actor, queue, **kwargs):
    return services.ticket_create(
        actor=actor, title="Printer jam", customer=CustomerFactory(), queue=queue, description="It jams.", **kwargs
    )


def test_the_migration_infers_who_set_each_deadline_and_realigns_the_sla_ones(
    make_policy, dispatcher, engineer, admin_user, queue, waiting_reason, at
):
    make_policy()  # resolution 24 business hours
    at(2026, 2, 16, 9, 0)
    given = create(dispatcher, queue, deadline=almaty(2026, 2, 20, 18, 0))
    defaulted = create(dispatcher, queue, performer=engineer)
    overridden = create(dispatcher, queue)
    services.ticket_override_deadline(overridden, deadline=almaty(2026, 2, 27, 18, 0), actor=admin_user, reason="x")
    paused = create(dispatcher, queue, performer=engineer)
    at(2026, 2, 16, 10, 0)
    services.ticket_change_status(paused, status=Status.WAITING, actor=engineer, reason=waiting_reason)
    # As before the upgrade: no flag, and the SLA's deadlines still where ticket_create put them.
    stale = almaty(2026, 2, 18, 18, 0)
    Ticket.objects.update(deadline_set_by_person=False)
    Ticket.objects.filter(pk__in=[defaulted.pk, paused.pk]).update(deadline=stale)
    # A ticket of the old bulk data with a deadline and no history at all: a person's, as far as anyone can tell.
    bulk = TicketFactory(queue=queue, deadline=stale)

    forwards(apps, None)

    flags = dict(Ticket.objects.values_list("pk", "deadline_set_by_person"))
    assert flags == {given.pk: True, defaulted.pk: False, overridden.pk: True, paused.pk: False, bulk.pk: True}
    deadlines = dict(Ticket.objects.values_list("pk", "deadline"))
    assert deadlines[defaulted.pk] == SLAClock.objects.get(ticket=defaulted, kind="resolution").due_at
    assert deadlines[paused.pk] is None  # on hold while it waits for the customer
    assert deadlines[given.pk] == almaty(2026, 2, 20, 18, 0) and deadlines[overridden.pk] == almaty(2026, 2, 27, 18)
    assert history.shape_of("ticket.deadline_followed")  # the kind the SLA writes from now on
