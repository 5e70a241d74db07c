"""``core.auth.ModelBackend``: Django's permissions, read in one query instead of two."""

from __future__ import annotations

import pytest
from django.contrib.auth import backends
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.auth import ModelBackend
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permission cache


def test_the_same_permissions_as_djangos_backend_in_one_query(engineer):
    own = Permission.objects.get(codename="view_all_tickets")
    group = Group.objects.create(name="Auditors")
    group.permissions.add(Permission.objects.get(codename="assign_ticket"), own)  # one also held directly
    engineer.groups.add(group)
    engineer.user_permissions.add(own)
    expected = backends.ModelBackend().get_all_permissions(_fresh(engineer))
    assert {"tickets.view_all_tickets", "tickets.assign_ticket"} <= expected
    user = _fresh(engineer)
    with CaptureQueriesContext(connection) as queries:
        assert ModelBackend().get_all_permissions(user) == expected
        assert user.has_perm("tickets.assign_ticket") and not user.has_perm("tickets.no_such_permission")
    assert len(queries) == 1  # and Django's backend, listed after it, answered from the same cache


def test_no_permissions_for_an_inactive_person_or_an_object(engineer):
    engineer.user_permissions.add(Permission.objects.get(codename="view_all_tickets"))
    assert ModelBackend().get_all_permissions(_fresh(engineer), obj=object()) == set()
    engineer.is_active = False
    assert ModelBackend().get_all_permissions(engineer) == set()


def test_a_session_signed_in_through_djangos_backend_stays_signed_in(client, engineer):
    client.force_login(engineer, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/tickets/my/").status_code == 200
    client.force_login(UserFactory(role="engineer"))  # the default: the first backend that loads people
    assert client.session["_auth_user_backend"] == "core.auth.ModelBackend"


def test_the_signed_in_person_is_read_with_their_profile_in_one_query(engineer):
    with CaptureQueriesContext(connection) as queries:
        user = ModelBackend().get_user(engineer.pk)
        assert user == engineer and user.profile.user_id == engineer.pk
    assert len(queries) == 1


def test_nobody_for_an_unknown_inactive_or_impossible_key(engineer):
    backend = ModelBackend()
    assert backend.get_user(engineer.pk + 1000) is None
    assert backend.get_user(2**70) is None and backend.get_user("x") is None
    engineer.is_active = False
    engineer.save()
    assert backend.get_user(engineer.pk) is None
    assert backends.ModelBackend().get_user(engineer.pk) is None  # as Django's backend answers


def test_a_person_without_a_profile_is_read_and_served(client, db):
    from django.contrib.auth import get_user_model

    from tickets.models import Profile

    person = get_user_model().objects.create_user("noprofile", password="x" * 12)
    Profile.objects.filter(user=person).delete()
    user = ModelBackend().get_user(person.pk)
    assert user == person and getattr(user, "profile", None) is None
    client.force_login(person)
    response = client.get("/tickets/")
    assert response.status_code == 200 and response.wsgi_request.user == person  # signed in, page drawn
