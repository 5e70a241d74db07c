"""Shared fixtures: the four roles in one queue, plus an outsider, as in every access test."""

from __future__ import annotations

import pytest
from django.utils import timezone, translation
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from channels import outbox
from tests.factories import MembershipFactory, QueueFactory, TicketFactory, UserFactory
from tickets import delivery
from tickets.models import BlockingReason, QueueMembership

# CI runs the SQLite and the PostgreSQL passes side by side on two cores: how long an example takes says
# nothing about the code under test, so no property test fails for being slow (the examples still run).
hypothesis_settings.register_profile("opsdesk", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("opsdesk")


@pytest.fixture(autouse=True)
def _no_leaking_locale():
    """Requests activate the user's language and zone in the thread: keep them inside each test."""
    with translation.override("en"), timezone.override(None):
        yield


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploaded files go to the test's own directory, never to var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def queue(db):
    return QueueFactory(name="Service", slug="service")


@pytest.fixture
def other_queue(db):
    return QueueFactory(name="Sales", slug="sales")


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role="manager")


@pytest.fixture
def engineer(db, queue, manager):
    user = UserFactory(username="engineer", role="engineer", profile__manager=manager)
    MembershipFactory(queue=queue, user=user)
    return user


@pytest.fixture
def other_engineer(db, other_queue):
    user = UserFactory(username="outsider", role="engineer")
    MembershipFactory(queue=other_queue, user=user)
    return user


@pytest.fixture
def dispatcher(db, queue):
    user = UserFactory(username="dispatcher", role="dispatcher")
    MembershipFactory(queue=queue, user=user, role=QueueMembership.Role.DISPATCHER)
    return user


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def ticket(db, queue):
    return TicketFactory(queue=queue)


@pytest.fixture
def waiting_reason(db):
    return BlockingReason.objects.get(code="customer")


@pytest.fixture
def no_stock(db):
    return BlockingReason.objects.get(code="no-stock")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need real row locks: skip them on SQLite. Tests marked ``once`` run in
    CI's SQLite pass only: they judge the HTML (axe, the Nu validator), which no database changes, or repeat
    for more roles what one role already proves on PostgreSQL (the fuzz of every form), or migrate what the
    PostgreSQL pass migrates from the real old release anyway (tests/upgrade)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        skip = pytest.mark.skip(reason="runs in the SQLite pass only (.ci/run)")
        marker = "once"
    else:
        skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
        marker = "postgres"
    for item in items:
        if marker in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def replies_delivered_at_once(monkeypatch):
    """Every public message reaches the customer the instant it is written (no outbox pass, nothing sent).

    For tests about what follows a delivered reply (clocks, reports); the outbox itself is tested in
    tests/channels/, where a reply stays "sending" until a delivery pass.
    """

    def deliver_now(message, *, counts_as_response=True):
        delivery.message_delivered(message, at=timezone.now(), route="email", counts_as_response=counts_as_response)

    monkeypatch.setattr(outbox, "queue", deliver_now)
