"""What receiving one email costs in queries: the same whether OpsDesk holds one ticket or many.

Every lookup of the email path (duplicate Message-ID, threading headers, the sender's customer) goes
through an index, and nothing is read per email that a poll can read once. These tests pin the count
per email; ``bench/bench_email.py`` measures the time.
"""

from __future__ import annotations

import base64
import binascii
import re
from email.message import EmailMessage

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels.inbound.imap import mailbox_poll
from channels.inbound.parse import _lenient_base64
from channels.inbound.receive import email_receive
from channels.models import InboundEmail
from tests.channels.inbound import corpus
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

Outcome = InboundEmail.Outcome
# A new customer's email with a file: duplicate check, threading, rate limit, customer, ticket, SLA clocks,
# the file and the original .eml, the received-email record. Lower it when the path gets cheaper.
NEW_TICKET_QUERIES = 19  # 21 before ticket_create stopped opening a savepoint inside the caller's transaction
REPLY_QUERIES = 17  # 21 before the customer message, its next-reply clock and its notice stopped opening savepoints


def email_with_file(n: int, *, in_reply_to: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {n} <customer{n}@load.example>"
    message["To"] = "support@opsdesk.example"
    message["Subject"] = f"Request {n}"
    message["Message-ID"] = f"<load-{n}@load.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    message.set_content(f"Hello, request number {n}.")
    message.add_attachment(b"x" * 2048, maintype="application", subtype="octet-stream", filename=f"data-{n}.bin")
    return message.as_bytes()


def queries(channel, raw: bytes, *, outcome: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert email_receive(channel, raw).outcome == outcome
    return len(captured)


def test_a_new_ticket_by_email_costs_the_same_queries_however_many_exist(channel):
    email_receive(channel, email_with_file(0))  # first use: the channel's caches, the internal records
    first = queries(channel, email_with_file(1), outcome=Outcome.CREATED)
    CustomerFactory.create_batch(15)
    for n in range(2, 17):
        email_receive(channel, email_with_file(n))
    later = queries(channel, email_with_file(99), outcome=Outcome.CREATED)

    assert first == later == NEW_TICKET_QUERIES


def test_a_threaded_reply_costs_the_same_queries_however_many_messages_exist(channel):
    for n in range(3):
        email_receive(channel, email_with_file(n))
    first = queries(channel, email_with_file(50, in_reply_to="<load-1@load.example>"), outcome=Outcome.APPENDED)
    for n in range(3, 15):
        email_receive(channel, email_with_file(n))
    later = queries(channel, email_with_file(51, in_reply_to="<load-2@load.example>"), outcome=Outcome.APPENDED)

    assert first == later == REPLY_QUERIES


def test_a_duplicate_costs_the_same_queries_however_many_exist(channel):
    email_receive(channel, email_with_file(1))
    first = queries(channel, email_with_file(1), outcome=Outcome.DUPLICATE)
    for n in range(2, 12):
        email_receive(channel, email_with_file(n))
    assert queries(channel, email_with_file(1), outcome=Outcome.DUPLICATE) == first


def test_a_poll_reads_its_own_addresses_once_not_per_email(mailbox, dovecot):
    def poll_queries(count: int, start: int) -> int:
        dovecot.deliver(
            *[corpus.plain(sender=f"p{start + n}@load.example", message_id=f"<p{start + n}@x>") for n in range(count)]
        )
        with CaptureQueriesContext(connection) as captured:
            assert mailbox_poll(mailbox)["created"] == count
        own_reads = [
            q
            for q in captured
            if re.search(r'FROM "channels_mailbox"', q["sql"]) and '"address"' in q["sql"] and "UPDATE" not in q["sql"]
        ]
        assert len(own_reads) == 1
        return len(captured)

    mailbox_poll(mailbox)  # warm up
    two = poll_queries(2, 0)
    four = poll_queries(4, 10)
    six = poll_queries(6, 20)
    assert six - four == four - two  # a fixed cost per email, whatever came before


@pytest.mark.parametrize(
    "text",
    [
        base64.encodebytes(b"\x00\x01binary data of some length" * 40).decode(),  # well formed, in lines
        "aGVsbG8=",
        "aGVs\r\nbG8=\n",
        "aGVsbG8gd29ybGQ=!!garbage after the end",  # a broken sender's garbage is dropped
        "aGVsbG8gd29ybGQ",  # cut short: the whole groups of four are kept
        "=aGVsbG8=",
        "aGVs*bG8=",
        "",
    ],
)
def test_lenient_base64_gives_what_the_character_by_character_reading_gives(text):
    compact = re.sub(r"\s+", "", text)
    valid = re.match(r"[A-Za-z0-9+/]*={0,2}", compact).group(0)
    valid = valid[: len(valid) - len(valid) % 4]
    try:
        expected = base64.b64decode(valid)
    except (ValueError, binascii.Error):
        expected = b""
    assert _lenient_base64(text) == expected
