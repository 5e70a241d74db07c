"""Django's database sessions, with the session read by a statement compiled once per process.

Every signed-in request reads its session first. Django compiles that lookup anew each time; this engine
(``SESSION_ENGINE = "core.sessions"``) runs the same ``SELECT`` compiled once (``core.rowcache.Precompiled``).
Sessions are stored in Django's own table and format: switching the engine signs nobody out. Expired sessions
are deleted every night (:func:`clear_expired_task`, a django-q2 schedule in ``opsdesk.schedules``), what
Django's ``clearsessions`` command does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import router
from django.utils import timezone

from core.rowcache import Precompiled


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        """Django's lookup (the key, not yet expired); ``None`` and the key forgotten when there is none."""
        found = _SESSION.objects(self.session_key, timezone.now(), using=router.db_for_read(self.model))
        if found:
            return found[0]
        self._session_key = None
        return None


# Stand for the session key and the time while the SQL is compiled: no session has them.
_SESSION = Precompiled(
    lambda key, now: Session.objects.filter(session_key=key, expire_date__gt=now),
    "opsdesk-placeholder-session-key",
    datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC),
    prepare=True,
)


def clear_expired_task() -> int:
    """Delete the sessions that have expired (a nightly schedule); returns how many."""
    deleted, _by_model = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
