"""Reading a mailbox over implicit TLS and STARTTLS, with the certificate checked (a private CA here)."""

from __future__ import annotations

import pytest

from channels.inbound.imap import mailbox_poll
from channels.models import Mailbox
from tests.channels.inbound import corpus
from tests.channels.inbound.conftest import PASSWORD_ENV
from tickets.models import Ticket


@pytest.fixture
def tls_mailbox(channel, dovecot_tls_server, monkeypatch, settings):
    monkeypatch.setenv(PASSWORD_ENV, dovecot_tls_server.password)
    settings.EMAIL_FETCH_CA_FILE = str(dovecot_tls_server.ca_file)
    return Mailbox(
        intake_channel=channel,
        host="127.0.0.1",
        username=dovecot_tls_server.user,
        password_env=PASSWORD_ENV,
    )


@pytest.mark.parametrize(("security", "port"), [("tls", "tls_port"), ("starttls", "port")])
def test_a_mailbox_is_read_over_tls(tls_mailbox, dovecot_tls_server, security, port):
    tls_mailbox.security = security
    tls_mailbox.port = getattr(dovecot_tls_server, port)
    tls_mailbox.save()
    dovecot_tls_server.deliver(corpus.plain(message_id=f"<tls-{security}@customer.example>"))

    result = mailbox_poll(tls_mailbox)

    assert (result["created"], result.get("error")) == (1, None)
    assert Ticket.objects.count() == 1


def test_an_untrusted_certificate_is_refused(tls_mailbox, dovecot_tls_server, settings):
    settings.EMAIL_FETCH_CA_FILE = ""  # the system's CAs do not know the self-signed certificate
    tls_mailbox.security = Mailbox.Security.TLS
    tls_mailbox.port = dovecot_tls_server.tls_port
    tls_mailbox.save()

    result = mailbox_poll(tls_mailbox)

    assert "CERTIFICATE_VERIFY_FAILED" in result["error"]
    tls_mailbox.refresh_from_db()
    assert "CERTIFICATE_VERIFY_FAILED" in tls_mailbox.last_error
