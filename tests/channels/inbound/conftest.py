"""Fixtures for receiving email: an email intake channel, its mailbox, a private Dovecot server."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from channels.models import Mailbox
from tests.channels.inbound import dovecot as dovecot_server_module
from tickets.models import Channel, IntakeChannel

PASSWORD_ENV = "OPSDESK_TEST_MAILBOX_PASSWORD"
MAX_USERS = 500  # one IMAP user per test, made when the server starts
_users = itertools.count(1)


def user_name(number: int) -> str:
    return f"support-{number}@opsdesk.example"


@pytest.fixture
def channel(db, queue):
    intake = IntakeChannel(name="Support mailbox", channel=Channel.EMAIL, default_queue=queue)
    intake.set_token()
    intake.save()
    return intake


@pytest.fixture(scope="session")
def dovecot_server():
    """A private Dovecot for the session; skipped where it is not installed, except under CI=true."""
    if dovecot_server_module.DOVECOT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot is not installed (make test installs dovecot-imapd)")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    # Not under tmp_path: when run as root, Dovecot's login user must traverse every parent directory.
    root = Path(tempfile.mkdtemp(prefix="opsdesk-dovecot-"))
    server = dovecot_server_module.start(root, extra_users=[user_name(n) for n in range(1, MAX_USERS + 1)])
    try:
        yield server
    finally:
        dovecot_server_module.stop(server)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server):
    """The session's Dovecot as a user of this test's own, so every test starts with an empty mailbox."""
    return dovecot_server.with_user(user_name(next(_users)))


@pytest.fixture
def mailbox(channel, dovecot, monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, dovecot.password)
    return Mailbox.objects.create(
        intake_channel=channel,
        address="support@opsdesk.example",
        host="127.0.0.1",
        port=dovecot.port,
        security=Mailbox.Security.NONE,
        username=dovecot.user,
        password_env=PASSWORD_ENV,
    )


@pytest.fixture(scope="session")
def dovecot_tls_server():
    """A second private Dovecot with a self-signed certificate: implicit TLS and STARTTLS."""
    if dovecot_server_module.DOVECOT is None or shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot or openssl is not installed")
        pytest.skip("dovecot or openssl is not installed")
    root = Path(tempfile.mkdtemp(prefix="opsdesk-dovecot-tls-"))
    server = dovecot_server_module.start(root, tls=True)
    try:
        yield server
    finally:
        dovecot_server_module.stop(server)
        shutil.rmtree(root, ignore_errors=True)
