"""The conversation services take files: checked before anything is written, stored with the message."""

from __future__ import annotations

import pytest

from tests.factories import CustomerFactory
from tickets import services
from tickets.attachments import IncomingFile
from tickets.models import Attachment, Channel, Message, Ticket, TicketEvent

PNG = IncomingFile("фото.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"x" * 20)
PDF = IncomingFile("act.pdf", "application/pdf", b"%PDF-1.4 data")


def _counts():
    return Ticket.objects.count(), Message.objects.count(), Attachment.objects.count(), TicketEvent.objects.count()


@pytest.fixture
def small_limits(settings):
    settings.ATTACHMENT_MAX_FILE_BYTES = 100
    settings.ATTACHMENT_MAX_MESSAGE_BYTES = 150
    settings.ATTACHMENT_MAX_FILES = 3


def test_a_reply_carries_its_files_and_its_history_names_them(ticket, engineer):
    message = services.ticket_reply(ticket, body="Here is the act", actor=engineer, attachments=[PDF, PNG])
    assert [a.filename for a in message.attachments.all()] == ["act.pdf", "фото.png"]
    assert {a.ticket_id for a in message.attachments.all()} == {ticket.pk}
    assert message.attachments.first().uploaded_by == engineer
    row = ticket.events.get(kind="ticket.replied")
    assert row.data["attachments"] == ["act.pdf", "фото.png"]


def test_a_note_and_a_customer_message_carry_files(ticket, engineer):
    note = services.ticket_add_note(ticket, body="Scan", actor=engineer, attachments=[PDF])
    inbound = services.ticket_receive_customer_message(ticket, body="Photo", channel=Channel.EMAIL, attachments=[PNG])
    assert note.attachments.get().filename == "act.pdf"
    assert inbound.attachments.get().uploaded_by is None
    assert ticket.events.get(kind="ticket.noted").data["attachments"] == ["act.pdf"]
    assert ticket.events.get(kind="ticket.customer_wrote").data["attachments"] == ["фото.png"]


def test_a_new_ticket_puts_the_files_on_its_first_message(queue, dispatcher):
    ticket = services.ticket_create(
        actor=dispatcher,
        title="Broken door",
        customer=CustomerFactory(),
        queue=queue,
        channel=Channel.PHONE,
        description="See the photo",
        attachments=[PNG],
    )
    first = ticket.messages.get()
    assert first.attachments.get().filename == "фото.png"
    assert ticket.events.get(kind="ticket.created").data["attachments"] == ["фото.png"]


def test_files_without_a_description_still_make_a_first_message(queue, dispatcher):
    ticket = services.ticket_create(
        actor=dispatcher, title="Photo only", customer=CustomerFactory(), queue=queue, attachments=[PNG]
    )
    assert ticket.messages.get().attachments.count() == 1


def test_without_files_the_history_says_nothing_of_them(ticket, engineer):
    services.ticket_reply(ticket, body="Plain", actor=engineer)
    assert "attachments" not in ticket.events.get(kind="ticket.replied").data


@pytest.mark.usefixtures("small_limits")
@pytest.mark.parametrize(
    "files",
    [
        [IncomingFile("big.bin", "", b"x" * 101)],
        [IncomingFile("a.bin", "", b"x" * 80), IncomingFile("b.bin", "", b"x" * 80)],
        [IncomingFile(f"{i}.txt", "", b"x") for i in range(4)],
        [IncomingFile("empty.txt", "", b"")],
        [IncomingFile("setup.exe", "", b"MZ")],
    ],
    ids=["file too big", "message too big", "too many", "empty", "forbidden"],
)
def test_a_refused_file_refuses_the_whole_message_everywhere(files, ticket, engineer, queue, dispatcher):
    before = _counts()
    status = ticket.status
    calls = [
        lambda: services.ticket_reply(ticket, body="x", actor=engineer, attachments=files),
        lambda: services.ticket_add_note(ticket, body="x", actor=engineer, attachments=files),
        lambda: services.ticket_receive_customer_message(ticket, body="x", channel=Channel.EMAIL, attachments=files),
        lambda: services.ticket_create(
            actor=dispatcher, title="T", customer=ticket.customer, queue=queue, description="x", attachments=files
        ),
    ]
    for call in calls:
        with pytest.raises(services.AttachmentsRefused) as refused:
            call()
        assert refused.value.reasons
        assert isinstance(refused.value, services.TicketError)
    assert _counts() == before
    ticket.refresh_from_db()
    assert ticket.status == status and ticket.first_public_reply_at is None


def test_the_refusal_names_the_file(small_limits, ticket, engineer):
    with pytest.raises(services.AttachmentsRefused, match=r"“big\.bin”"):
        services.ticket_reply(ticket, body="x", actor=engineer, attachments=[IncomingFile("big.bin", "", b"x" * 101)])
