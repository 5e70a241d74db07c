"""``manage.py email_receive`` (the MTA pipe) and ``manage.py email_fetch`` against a real Dovecot."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from channels.inbound import imap
from channels.models import InboundEmail, Mailbox
from tests.channels.inbound import corpus
from tickets.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def pipe(monkeypatch, raw: bytes, name: str = "Support mailbox") -> tuple[int, dict]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("email_receive", "--channel", name, stdout=out, stderr=io.StringIO())
    return exit_info.value.code, json.loads(out.getvalue())


def fetch(name: str | None = None) -> list[dict]:
    out = io.StringIO()
    call_command("email_fetch", *(["--channel", name] if name else []), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


# --- email_receive -------------------------------------------------------------------------


def test_a_piped_email_is_taken_and_printed_as_one_json_line(channel, monkeypatch):
    code, line = pipe(monkeypatch, corpus.nested_inline_image())
    assert code == 0
    ticket = Ticket.objects.get()
    message = ticket.messages.get()
    ids = list(Attachment.objects.exclude(filename="original.eml").order_by("pk").values_list("pk", flat=True))
    assert line == {"ticket": ticket.pk, "message": message.pk, "created": True, "attachments": ids}


def test_piping_the_same_email_twice_creates_it_once(channel, monkeypatch):
    pipe(monkeypatch, corpus.koi8r())
    code, line = pipe(monkeypatch, corpus.koi8r())
    assert code == 0
    assert line["duplicate"] is True and line["created"] is False
    assert (Ticket.objects.count(), Message.objects.count()) == (1, 1)


def test_an_ignored_email_exits_0_with_its_reason(channel, monkeypatch):
    assert pipe(monkeypatch, corpus.out_of_office()) == (0, {"ignored": "auto_submitted"})
    assert pipe(monkeypatch, corpus.bounce("<x@opsdesk.example>")) == (0, {"ignored": "bounce"})
    assert not Ticket.objects.exists()


def test_something_that_is_not_an_email_exits_65_and_is_recorded(channel, monkeypatch):
    code, line = pipe(monkeypatch, b"\x00\x01garbage without any header")
    assert code == 65
    assert "error" in line
    record = InboundEmail.objects.get()
    assert (record.outcome, record.reason) == (InboundEmail.Outcome.FAILED, InboundEmail.Reason.UNPARSEABLE)
    assert record.raw.read() == b"\x00\x01garbage without any header"


def test_an_unknown_or_switched_off_channel_exits_75_so_the_mta_retries(channel, monkeypatch):
    assert pipe(monkeypatch, corpus.plain(), name="No such channel")[0] == 75
    channel.is_active = False
    channel.save()
    assert pipe(monkeypatch, corpus.plain())[0] == 75
    assert not InboundEmail.objects.exists()


def test_an_unavailable_database_exits_75(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsdesk.test_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/db.sqlite3",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "email_receive", "--channel", "Support mailbox"],
        input=corpus.plain(),
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 75, done.stderr.decode()[-2000:]
    assert "database unavailable" in json.loads(done.stdout.decode().strip().splitlines()[-1])["error"]


# --- email_fetch against Dovecot -------------------------------------------------------------


def test_fetch_takes_new_mail_threads_replies_and_a_second_fetch_creates_nothing(mailbox, dovecot):
    dovecot.deliver(corpus.plain(), corpus.nested_inline_image(), corpus.out_of_office())

    assert fetch() == [
        {"channel": "Support mailbox", "fetched": 3, "created": 2, "appended": 0, "ignored": 1, "failed": 0}
    ]
    assert dovecot.count(criteria="UNSEEN") == 0 and dovecot.count() == 3  # marked read, left in place
    printer = Ticket.objects.get(title="Printer jam")
    assert printer.messages.get().body == "The printer on floor 3 jams."
    assert Attachment.objects.filter(content_id="shot1@customer.example").exists()

    reply = corpus.plain(
        subject="Re: Printer jam",
        body="Still jams.\n\nOn Sun, Ivan wrote:\n> The printer",
        message_id="<m2@customer.example>",
        headers="In-Reply-To: <m1@customer.example>",
    )
    dovecot.deliver(reply)
    assert fetch("Support mailbox") == [
        {"channel": "Support mailbox", "fetched": 1, "created": 0, "appended": 1, "ignored": 0, "failed": 0}
    ]
    assert [m.body for m in printer.messages.order_by("pk")] == ["The printer on floor 3 jams.", "Still jams."]

    assert fetch()[0]["fetched"] == 0
    assert Ticket.objects.count() == 2
    mailbox.refresh_from_db()
    assert mailbox.last_result["fetched"] == 0 and mailbox.last_polled_at is not None and not mailbox.last_error


def test_mail_fetched_again_after_its_flag_was_lost_is_not_taken_twice(mailbox, dovecot):
    dovecot.deliver(corpus.plain(), corpus.koi8r())
    fetch()
    client = dovecot.client()
    client.select_folder("INBOX")
    client.remove_flags(client.search(["ALL"]), [b"\\Seen"])
    client.logout()

    assert fetch()[0] == {
        "channel": "Support mailbox",
        "fetched": 2,
        "created": 0,
        "appended": 0,
        "ignored": 2,
        "failed": 0,
    }
    assert (Ticket.objects.count(), Message.objects.count()) == (2, 2)


def test_fetch_can_move_read_mail_to_a_folder(mailbox, dovecot):
    Mailbox.objects.filter(pk=mailbox.pk).update(after_read=Mailbox.AfterRead.MOVE, move_to="Processed")
    dovecot.deliver(corpus.plain(), corpus.html_only())

    assert fetch()[0]["created"] == 2
    assert dovecot.count("INBOX") == 0
    assert dovecot.count("Processed") == 2


def test_inactive_mailboxes_are_skipped_unless_named(mailbox, dovecot):
    Mailbox.objects.filter(pk=mailbox.pk).update(is_active=False)
    dovecot.deliver(corpus.plain())
    assert fetch() == []
    assert fetch("Support mailbox")[0]["created"] == 1


def test_a_mailbox_that_cannot_be_read_reports_the_error(mailbox, dovecot, monkeypatch):
    monkeypatch.setenv(mailbox.password_env, "wrong")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("email_fetch", stdout=out)
    line = json.loads(out.getvalue())
    assert line["fetched"] == 0 and "error" in line
    mailbox.refresh_from_db()
    assert mailbox.last_error

    monkeypatch.delenv(mailbox.password_env)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("email_fetch", stdout=out)
    assert mailbox.password_env in json.loads(out.getvalue())["error"]


def test_fetch_of_an_unknown_channel_is_an_error(db):
    with pytest.raises(CommandError):
        call_command("email_fetch", "--channel", "Nope", stdout=io.StringIO())


@pytest.mark.parametrize("chunk", [50, 1])  # 1: the next email is being fetched when the database fails
def test_when_the_database_fails_mid_poll_the_rest_stays_unread_for_the_next_poll(mailbox, dovecot, monkeypatch, chunk):
    monkeypatch.setattr(imap, "FETCH_CHUNK", chunk)
    dovecot.deliver(corpus.plain(), corpus.koi8r(), corpus.html_only())
    real = imap.email_receive
    calls = []

    def flaky(channel, raw, **kwargs):
        calls.append(raw)
        if len(calls) == 2:
            raise OperationalError("database is locked")
        return real(channel, raw, **kwargs)

    monkeypatch.setattr(imap, "email_receive", flaky)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("email_fetch", stdout=out)
    line = json.loads(out.getvalue())
    assert (line["created"], line["failed"]) == (1, 1) and "database unavailable" in line["error"]
    assert dovecot.count(criteria="UNSEEN") == 2  # the first is filed away, the rest waits

    monkeypatch.setattr(imap, "email_receive", real)
    assert fetch()[0]["created"] == 2
    assert Ticket.objects.count() == 3


def test_a_poll_of_several_fetches_takes_each_email_once_and_files_each_away(mailbox, dovecot, monkeypatch):
    # Each fetch after the first runs while the emails before it are stored (imap._read).
    monkeypatch.setattr(imap, "FETCH_CHUNK", 2)
    dovecot.deliver(corpus.plain(), corpus.koi8r(), corpus.html_only(), corpus.out_of_office(), corpus.outlook_cp1251())
    assert fetch()[0] | {"channel": ""} == {
        "channel": "",
        "fetched": 5,
        "created": 4,
        "appended": 0,
        "ignored": 1,
        "failed": 0,
    }
    assert dovecot.count(criteria="UNSEEN") == 0 and Ticket.objects.count() == 4
    assert fetch()[0]["fetched"] == 0


def test_imaplib_builds_no_debug_lines_unless_its_logger_wants_them(mailbox, dovecot):
    # imaplib formats a repr() of every response (each fetched email whole) before its logger may drop it.
    client = imap.connect(mailbox)
    try:
        assert client._imap.debug == 0
    finally:
        client.logout()
    logger = logging.getLogger("imapclient.imaplib")
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        client = imap.connect(mailbox)
        assert client._imap.debug == 5  # someone debugging the connection still gets every line
        client.logout()
    finally:
        logger.setLevel(previous)
