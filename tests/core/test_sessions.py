"""``core.sessions``: Django's database sessions, read by a statement compiled once per process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_session_reads_back_what_was_stored():
    store = SessionStore()
    store["answer"] = 42
    store.save()
    again = SessionStore(session_key=store.session_key)
    assert again["answer"] == 42
    assert again.session_key == store.session_key


def test_a_session_stored_by_djangos_engine_is_read_and_the_other_way_round():
    theirs = db.SessionStore()
    theirs["from"] = "django"
    theirs.save()
    assert SessionStore(session_key=theirs.session_key)["from"] == "django"
    ours = SessionStore()
    ours["from"] = "opsdesk"
    ours.save()
    assert db.SessionStore(session_key=ours.session_key)["from"] == "opsdesk"


def test_an_expired_or_unknown_session_is_empty_and_its_key_forgotten():
    store = SessionStore()
    store["answer"] = 42
    store.save()
    Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    for key in (store.session_key, "nosuchsessionkeyatall"):
        again = SessionStore(session_key=key)
        assert again.load() == {}
        assert again.session_key is None


def test_it_is_the_configured_engine(settings):
    assert settings.SESSION_ENGINE == "core.sessions"


def test_the_nightly_task_deletes_expired_sessions_only():
    from django_q.models import Schedule

    from core.sessions import clear_expired_task

    live, expired = SessionStore(), SessionStore()
    for store in (live, expired):
        store["answer"] = 42
        store.save()
    Session.objects.filter(session_key=expired.session_key).update(expire_date=timezone.now() - timedelta(days=1))
    assert clear_expired_task() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    assert Schedule.objects.get(name="sessions.clear_expired").func == "core.sessions.clear_expired_task"
