"""The one writer of attachments: limits, names, types, storage."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError

from tests.factories import TicketFactory
from tickets.attachments import IncomingFile, attach, check, clean_filename, content_type_of
from tickets.models import Message


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\ivan\\scan.jpg", "scan.jpg"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\nc.txt", "a_b_c.txt"),
        ("", "file"),
        ("...", "file"),
        ("Счёт №5.xlsx", "Счёт №5.xlsx"),
    ],
)
def test_clean_filename(raw, clean):
    assert clean_filename(raw) == clean


def test_long_names_keep_their_extension():
    name = clean_filename("x" * 500 + ".pdf")
    assert len(name) <= 200 and name.endswith(".pdf")


def test_content_type_declared_or_guessed():
    assert content_type_of(IncomingFile("a.pdf", "application/pdf; name=a.pdf", b"x")) == "application/pdf"
    assert content_type_of(IncomingFile("a.png", "", b"x")) == "image/png"
    assert content_type_of(IncomingFile("a", "<script>", b"x")) == "application/octet-stream"


def test_limits_name_each_offending_file(settings):
    settings.ATTACHMENT_MAX_FILE_BYTES = 10
    settings.ATTACHMENT_MAX_MESSAGE_BYTES = 15
    settings.ATTACHMENT_MAX_FILES = 2
    files = [
        IncomingFile("big.txt", "text/plain", b"x" * 11),
        IncomingFile("empty.txt", "", b""),
        IncomingFile("run.EXE", "", b"MZ"),
    ]
    with pytest.raises(ValidationError) as refused:
        check(files)
    text = " ".join(refused.value.messages)
    assert "At most 2 files" in text
    assert "“big.txt” is 11\xa0bytes" in text
    assert "“empty.txt” is empty" in text
    assert "“.exe”" in text
    check([IncomingFile("ok.txt", "text/plain", b"hello")])


@pytest.mark.django_db
def test_attach_stores_under_a_random_name():
    ticket = TicketFactory()
    message = Message.objects.create(ticket=ticket, kind=Message.Kind.INBOUND, body="see file")
    (stored,) = attach(message, [IncomingFile("../scan.png", "image/png", b"\x89PNG data")])
    stored.refresh_from_db()
    assert stored.ticket_id == ticket.pk and stored.filename == "scan.png" and stored.is_image
    assert stored.size == 9 and stored.sha256 == hashlib.sha256(b"\x89PNG data").hexdigest()
    assert "scan" not in stored.file.name
    with stored.file.open("rb") as fh:
        assert fh.read() == b"\x89PNG data"


@pytest.mark.django_db
def test_download_tokens_name_one_attachment_and_expire(settings):
    from tickets.attachments import attachment_for_token, download_token

    message = Message.objects.create(ticket=TicketFactory(), kind=Message.Kind.INBOUND, body="x")
    (stored,) = attach(message, [IncomingFile("a.txt", "text/plain", b"abc")])
    token = download_token(stored)
    assert attachment_for_token(token) == stored
    assert attachment_for_token(token + "x") is None
    assert attachment_for_token("garbage") is None
    settings.ATTACHMENT_LINK_MAX_AGE = -1
    assert attachment_for_token(token) is None
