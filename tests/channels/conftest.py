"""Fixtures for receiving email: an email intake channel, its mailbox, a private Dovecot server."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from channels.models import Mailbox
from tests.channels import dovecot as dovecot_server
from tickets.models import Channel, IntakeChannel

PASSWORD_ENV = "OPSDESK_TEST_MAILBOX_PASSWORD"


@pytest.fixture
def channel(db, queue):
    intake = IntakeChannel(name="Support mailbox", channel=Channel.EMAIL, default_queue=queue)
    intake.set_token()
    intake.save()
    return intake


@pytest.fixture
def dovecot():
    """A private Dovecot for one test; skipped where it is not installed, except under CI=true."""
    if dovecot_server.DOVECOT is None:
        if os.environ.get("CI") == "true":
            pytest.fail("dovecot is not installed (make test installs dovecot-imapd)")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    # Not under tmp_path: when run as root, Dovecot's login user must traverse every parent directory.
    root = Path(tempfile.mkdtemp(prefix="opsdesk-dovecot-"))
    server = dovecot_server.start(root)
    try:
        yield server
    finally:
        dovecot_server.stop(server)
        shutil.rmtree(root, ignore_errors=True)


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
