"""Settings for the test suite: the normal settings with fast, deterministic tweaks."""

import os

os.environ.setdefault("DEBUG", "true")
# pytest-django imports settings before conftest.py: Playwright's sync API needs this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from opsdesk.settings import *  # noqa: F403
from opsdesk.settings import Q_CLUSTER

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
LANGUAGE_CODE = "en"
SLA_ENSURE_CATCH_ALL = False  # tests start without SLA policies; tests/sla/test_catch_all.py turns it on
AXES_ENABLED = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
