"""The receiving service (``channels.inbound.receive.email_receive``): the corpus, threading, noise, limits."""

from __future__ import annotations

import pytest

from channels.inbound.parse import Unparseable
from channels.inbound.receive import email_receive
from channels.models import InboundEmail, Mailbox
from tests.channels.inbound import corpus
from tests.factories import CustomerFactory, TicketFactory
from tickets.models import Attachment, Customer, DeliveryStatus, Message, Status, Ticket

pytestmark = pytest.mark.django_db

Outcome, Reason = InboundEmail.Outcome, InboundEmail.Reason


def inbound(ticket):
    return list(ticket.messages.filter(kind=Message.Kind.INBOUND).order_by("pk"))


def test_a_first_email_opens_a_ticket_for_a_new_customer_with_the_original_kept(channel, queue):
    received = email_receive(channel, corpus.plain())

    assert received.outcome == Outcome.CREATED
    ticket = received.ticket
    assert ticket.title == "Printer jam"
    assert ticket.queue == queue
    assert ticket.channel == "email"
    customer = Customer.objects.get(email="ivan@customer.example")
    assert (ticket.customer, customer.name) == (customer, "Ivan Petrov")
    message = received.message
    assert message.body == "The printer on floor 3 jams."
    message.refresh_from_db()
    assert message.mail_message_id == "<m1@customer.example>"
    original = Attachment.objects.get(message=message)
    assert (original.filename, original.content_type) == ("original.eml", "message/rfc822")
    assert original.file.read() == corpus.plain()
    assert received.attachment_ids == []  # the original is not one of the customer's files
    assert received.as_json() == {"ticket": ticket.pk, "message": message.pk, "created": True, "attachments": []}
    record = InboundEmail.objects.get()
    assert (record.outcome, record.sender, record.message, bool(record.raw)) == (
        Outcome.CREATED,
        "ivan@customer.example",
        message,
        False,
    )


def test_the_sender_is_matched_to_an_existing_customer_case_insensitively(channel):
    customer = CustomerFactory(email="Ivan@Customer.example")
    received = email_receive(channel, corpus.plain(sender="IVAN@customer.EXAMPLE"))
    assert received.ticket.customer == customer


def test_reply_to_and_cc_are_kept(channel):
    raw = corpus.plain(headers="Reply-To: boss@customer.example\nCc: a@customer.example, B <b@customer.example>")
    email_receive(channel, raw)
    record = InboundEmail.objects.get()
    assert record.reply_to == "boss@customer.example"
    assert record.cc == "a@customer.example, b@customer.example"


@pytest.mark.parametrize(
    ("make", "subject", "text"),
    [
        (corpus.koi8r, "Не работает принтер", "Принтер на третьем этаже зажёвывает бумагу."),
        (corpus.outlook_cp1251, "RE: Принтер", "Добрый день! Проблема повторилась сегодня утром."),
        (corpus.iso8859_5_base64, "Сервер", "Сервер недоступен с 9 утра."),
        (corpus.broken_charset, "Авария", "Авария на складе."),
        (corpus.raw_8bit_subject, "Срочно", "Текст."),
    ],
    ids=["koi8-r", "cp1251-qp", "iso-8859-5-base64", "broken-charset", "raw-8bit-header"],
)
def test_every_charset_is_decoded(channel, make, subject, text):
    received = email_receive(channel, make())
    assert received.outcome == Outcome.CREATED
    assert received.ticket.title == subject
    assert received.message.body == text


def test_the_quoted_history_is_dropped_but_the_original_stays(channel):
    received = email_receive(channel, corpus.outlook_cp1251())
    assert "Исходное сообщение" not in received.message.body
    original = received.message.attachments.get(filename="original.eml")
    assert "Исходное сообщение".encode("cp1251") not in original.file.read()  # QP-encoded in the raw bytes
    assert original.size == len(corpus.outlook_cp1251())


def test_an_html_only_email_becomes_text_without_markup_or_script(channel):
    received = email_receive(channel, corpus.html_only())
    body = received.message.body
    assert body == "Hello,\nthe VPN is down again. See status (https://status.example/vpn)."
    assert "<" not in body and "alert" not in body and "restarted" not in body


def test_attachments_with_encoded_names_and_inline_images_are_stored(channel):
    received = email_receive(channel, corpus.attachments_rfc2231())
    files = Attachment.objects.filter(pk__in=received.attachment_ids).order_by("pk")
    assert [(f.filename, f.content_type) for f in files] == [
        ("Счёт.pdf", "application/pdf"),
        ("Протоkol.txt", "text/plain"),
        ("Скриншот.png", "image/png"),
    ]
    assert files[0].file.read() == b"%PDF-1.4 invoice"

    nested = email_receive(channel, corpus.nested_inline_image())
    files = Attachment.objects.filter(pk__in=nested.attachment_ids).order_by("pk")
    assert [(f.filename, f.content_id) for f in files] == [("part-1.png", "shot1@customer.example"), ("report.pdf", "")]
    assert nested.message.body == "The error is on the screenshot."


def test_an_email_without_text_and_one_with_broken_mime_are_taken(channel):
    empty = email_receive(channel, corpus.no_body())
    assert empty.outcome == Outcome.CREATED
    assert empty.message.body == "(The email has no text.)"
    broken = email_receive(channel, corpus.broken_mime())
    assert broken.outcome == Outcome.CREATED
    assert broken.message.body == "Hello, the disk is full."
    assert Attachment.objects.get(pk__in=broken.attachment_ids).filename == "dump.bin"


@pytest.mark.parametrize("raw", [b"", b"   \r\n", b"\x00\x01\x02 just bytes", b"no header line at all\r\n"])
def test_something_that_is_not_an_email_is_unparseable(channel, raw):
    with pytest.raises(Unparseable):
        email_receive(channel, raw)


# --- Threading -----------------------------------------------------------------------------


def test_a_reply_naming_an_opsdesk_message_in_in_reply_to_joins_that_ticket(channel):
    customer = CustomerFactory(email="anna@customer.example")
    ticket = TicketFactory(customer=customer, title="VPN", status=Status.IN_PROGRESS)
    reply = Message.objects.create(
        ticket=ticket, kind=Message.Kind.PUBLIC_REPLY, body="Restarted.", mail_message_id="<reply-1@opsdesk.example>"
    )
    raw = corpus.plain(
        sender="colleague@customer.example",
        subject="Re: VPN",
        message_id="<c2@customer.example>",
        headers=f"In-Reply-To: {reply.mail_message_id}",
    )

    received = email_receive(channel, raw)

    assert (received.outcome, received.ticket) == (Outcome.APPENDED, ticket)
    assert received.as_json()["created"] is False
    assert not Customer.objects.filter(email="colleague@customer.example").exists()
    assert InboundEmail.objects.get().sender == "colleague@customer.example"


def test_references_to_an_earlier_received_email_thread_too(channel):
    first = email_receive(channel, corpus.plain(message_id="<first@customer.example>"))
    raw = corpus.plain(
        subject="More",
        message_id="<second@customer.example>",
        headers="References: <unknown@elsewhere> <first@customer.example>",
    )
    second = email_receive(channel, raw)
    assert (second.outcome, second.ticket) == (Outcome.APPENDED, first.ticket)


def test_a_subject_tag_threads_only_for_the_same_customer(channel):
    first = email_receive(channel, corpus.plain())
    tag = f"Re: [#{first.ticket.pk}] Printer jam"

    same = email_receive(channel, corpus.plain(subject=tag, message_id="<t2@customer.example>"))
    assert (same.outcome, same.ticket) == (Outcome.APPENDED, first.ticket)

    other = email_receive(
        channel, corpus.plain(sender="mallory@other.example", subject=tag, message_id="<t3@other.example>")
    )
    assert other.outcome == Outcome.CREATED
    assert other.ticket != first.ticket
    assert other.ticket.title == "Re: Printer jam"  # the foreign tag is not carried over


def test_a_reply_resumes_a_ticket_that_was_done(channel):
    first = email_receive(channel, corpus.plain())
    Ticket.objects.filter(pk=first.ticket.pk).update(status=Status.DONE)
    email_receive(
        channel, corpus.plain(message_id="<again@customer.example>", headers="In-Reply-To: <m1@customer.example>")
    )
    first.ticket.refresh_from_db()
    assert first.ticket.status == Status.IN_PROGRESS


def test_the_same_email_twice_creates_nothing_twice(channel):
    first = email_receive(channel, corpus.attachments_rfc2231())
    again = email_receive(channel, corpus.attachments_rfc2231())

    assert again.outcome == Outcome.DUPLICATE
    assert (again.ticket, again.message) == (first.ticket, first.message)
    assert again.attachment_ids == first.attachment_ids
    assert again.as_json()["duplicate"] is True
    assert (Ticket.objects.count(), Message.objects.count(), Attachment.objects.count()) == (1, 1, 4)


def test_an_email_without_message_id_is_still_idempotent(channel):
    raw = b"From: ivan@customer.example\r\nSubject: No id\r\n\r\nHello\r\n"
    email_receive(channel, raw)
    assert email_receive(channel, raw).outcome == Outcome.DUPLICATE
    assert Ticket.objects.count() == 1


# --- Noise and loops -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ("Auto-Submitted: auto-replied", "ivan@customer.example", Reason.AUTO_SUBMITTED),
        ("Auto-Submitted: auto-generated; owner-email=x@y", "ivan@customer.example", Reason.AUTO_SUBMITTED),
        ("Precedence: bulk", "news@customer.example", Reason.BULK),
        ("Precedence: list", "list@customer.example", Reason.BULK),
        ("Precedence: junk", "spam@customer.example", Reason.BULK),
        ("List-Id: <users.lists.example>", "list@customer.example", Reason.BULK),
        ("Precedence: auto_reply", "ivan@customer.example", Reason.AUTO_REPLY),
        ("X-Autoreply: yes", "ivan@customer.example", Reason.AUTO_REPLY),
        ("Return-Path: <>", "ivan@customer.example", Reason.NULL_SENDER),
        ("", "mailer-daemon@mx.customer.example", Reason.BOUNCE),
        ("", "OpsDesk <opsdesk@localhost>", Reason.OWN_ADDRESS),
        ("", "Support <support@opsdesk.example>", Reason.OWN_ADDRESS),
        ("", "not an address", Reason.NO_SENDER),
    ],
)
def test_noise_creates_nothing_and_is_recorded_with_its_reason(channel, headers, sender, reason, settings):
    settings.EMAIL_INTAKE_OWN_ADDRESSES = ["support@opsdesk.example"]
    received = email_receive(channel, corpus.plain(sender=sender, headers=headers))

    assert (received.outcome, received.reason) == (Outcome.IGNORED, reason)
    assert received.as_json() == {"ignored": reason}
    assert not Ticket.objects.exists()
    record = InboundEmail.objects.get()
    assert (record.outcome, record.reason) == (Outcome.IGNORED, reason)
    assert record.raw.read() == corpus.plain(sender=sender, headers=headers)


def test_auto_submitted_no_is_a_person_writing(channel):
    assert email_receive(channel, corpus.plain(headers="Auto-Submitted: no")).outcome == Outcome.CREATED


def test_an_out_of_office_reply_does_not_reach_the_ticket(channel):
    first = email_receive(channel, corpus.plain())
    assert email_receive(channel, corpus.out_of_office()).reason == Reason.AUTO_SUBMITTED
    assert len(inbound(first.ticket)) == 1


def test_mail_from_a_mailbox_address_is_own_mail(channel):
    Mailbox.objects.create(
        intake_channel=channel, address="help@opsdesk.example", host="imap.example", username="help", password_env="X"
    )
    received = email_receive(channel, corpus.plain(sender="Help <HELP@opsdesk.example>"))
    assert received.reason == Reason.OWN_ADDRESS


def test_a_bounce_of_an_opsdesk_reply_marks_that_delivery_failed(channel):
    ticket = TicketFactory()
    reply = Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.PUBLIC_REPLY,
        body="Done.",
        delivery_status=DeliveryStatus.SENT,
        mail_message_id="<r1@opsdesk.example>",
    )
    received = email_receive(channel, corpus.bounce("<r1@opsdesk.example>"))

    assert (received.outcome, received.reason) == (Outcome.IGNORED, Reason.BOUNCE)
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED
    assert "could not be delivered" in reply.delivery_error
    assert Message.objects.count() == 1


def test_a_runaway_sender_is_stopped_by_the_rate_limit(channel, settings):
    settings.EMAIL_INTAKE_RATE_LIMIT = 3
    outcomes = [
        email_receive(channel, corpus.plain(message_id=f"<loop{n}@customer.example>")).outcome for n in range(5)
    ]
    assert outcomes == [Outcome.CREATED] * 3 + [Outcome.IGNORED] * 2  # no tag, no In-Reply-To: new tickets
    assert InboundEmail.objects.filter(reason=Reason.RATE_LIMITED).count() == 2
    other = email_receive(channel, corpus.plain(sender="anna@customer.example", message_id="<anna@x>"))
    assert other.outcome == Outcome.CREATED


# --- Limits ------------------------------------------------------------------------------


def test_files_over_the_limits_are_left_out_but_the_text_arrives(channel, settings):
    settings.ATTACHMENT_MAX_FILE_BYTES = 40  # the PDF and the text file fit, the PNG (69 B) and the original do not
    received = email_receive(channel, corpus.attachments_rfc2231())

    assert received.outcome == Outcome.CREATED
    assert received.message.body == "See the files."
    names = set(Attachment.objects.filter(message=received.message).values_list("filename", flat=True))
    assert names == {"Счёт.pdf", "Протоkol.txt"}
    note = received.ticket.messages.get(kind=Message.Kind.INTERNAL_NOTE)
    assert "Скриншот.png (69 B)" in note.body
    record = InboundEmail.objects.get()
    assert record.raw.read() == corpus.attachments_rfc2231()  # the whole email stays available


def test_forbidden_file_types_are_left_out(channel, settings):
    settings.ATTACHMENT_FORBIDDEN_EXTENSIONS = ["pdf"]
    received = email_receive(channel, corpus.attachments_rfc2231())
    names = set(Attachment.objects.filter(pk__in=received.attachment_ids).values_list("filename", flat=True))
    assert names == {"Протоkol.txt", "Скриншот.png"}


def test_a_reply_to_a_canceled_ticket_opens_a_new_one_that_continues_it(channel):
    first = email_receive(channel, corpus.plain())
    Ticket.objects.filter(pk=first.ticket.pk).update(status=Status.CANCELED)
    raw = corpus.plain(subject="", message_id="<late@customer.example>", headers="In-Reply-To: <m1@customer.example>")

    late = email_receive(channel, raw)

    assert late.outcome == Outcome.CREATED
    assert late.ticket != first.ticket
    assert late.ticket.title == "Printer jam"  # no subject: the canceled ticket's title
    note = late.ticket.messages.get(kind=Message.Kind.INTERNAL_NOTE)
    assert first.ticket.reference in note.body
