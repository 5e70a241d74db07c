"""``core.rowcache.Precompiled`` keeps no connection: a statement compiled on one thread's connection runs on any
other's, and the compiling connection can go away."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest
from django.db import connections

from core.rowcache import Precompiled
from tests.factories import TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_a_statement_compiled_on_another_threads_connection_keeps_none_of_it():
    statement = Precompiled(
        lambda pk: Ticket.objects.select_related("customer", "queue").filter(pk=pk), -7_100_999
    )
    compiled_with = []

    def compile_elsewhere():
        statement._compile("default")  # compiling asks this thread's connection (its operations, its features)
        compiled_with.append(weakref.ref(connections["default"]))
        connections["default"].close()

    thread = threading.Thread(target=compile_elsewhere)
    thread.start()
    thread.join()
    del thread
    gc.collect()
    assert compiled_with and compiled_with[0]() is None  # that thread's connection is gone, nothing kept it

    ticket = TicketFactory()
    [found] = statement.objects(ticket.pk)  # run on this thread's connection: converters bound to it
    assert (found, found.customer, found.queue) == (ticket, ticket.customer, ticket.queue)
    assert found.created_at == Ticket.objects.get(pk=ticket.pk).created_at  # a converted column (datetimes)
