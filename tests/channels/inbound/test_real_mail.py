"""Emails written by a real mail program (mutt, files in ``mail/``) through a real IMAP server: the issue's story.

A customer's KOI8-R email with a screenshot arrives through the mailbox; OpsDesk answers (a public reply
whose Message-ID outbound delivery records); the customer's Windows-1251 reply, threaded only by
``In-Reply-To`` (no tag in its subject), lands on the same ticket; their out-of-office reply does not.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command

from sla.models import SLAClock, SLAPolicy
from tests.sla.conftest import make_calendar
from tickets import services
from tickets.models import Attachment, Message, Status, Ticket

MAIL = Path(__file__).parent / "mail"


def mail(name: str) -> bytes:
    return (MAIL / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def fetch() -> dict:
    out = io.StringIO()
    call_command("email_fetch", stdout=out)
    return json.loads(out.getvalue())


def test_a_conversation_written_in_mutt_arrives_through_the_mailbox(mailbox, dovecot, engineer, waiting_reason):
    calendar = make_calendar("24/7", {day: [("00:00", "24:00")] for day in range(7)})
    SLAPolicy.objects.create(
        name="Standard",
        precedence=100,
        calendar=calendar,
        first_response_target=timedelta(hours=2),
        resolution_target=timedelta(hours=24),
    )
    dovecot.deliver(mail("mutt-koi8r.eml"))
    assert fetch()["created"] == 1
    ticket = Ticket.objects.get()
    assert ticket.title == "Принтер не печатает"
    assert ticket.customer.name == "Пётр Сидоров"
    first = ticket.messages.get()
    assert first.body == "Добрый день!\nПринтер снова не печатает, скриншот ошибки во вложении.\n\n--\nПётр"
    screenshot = Attachment.objects.get(message=first, content_type="image/png")
    assert screenshot.filename == "Скриншот ошибки.png"

    # The engineer answers and waits for the customer; outbound delivery records the email's Message-ID.
    services.ticket_assign(ticket, performer=engineer, actor=engineer)
    answer = services.ticket_reply(ticket, body="Мы заменили картридж, проверьте.", actor=engineer)
    Message.objects.filter(pk=answer.pk).update(mail_message_id="<reply-1@opsdesk.example>")
    ticket.refresh_from_db()
    services.ticket_change_status(ticket, status=Status.WAITING, reason=waiting_reason, actor=engineer)
    resolution = SLAClock.objects.get(ticket=ticket, kind=SLAClock.Kind.RESOLUTION)
    assert resolution.state == SLAClock.State.PAUSED
    dovecot.deliver(mail("mutt-reply-cp1251.eml"), mail("mutt-out-of-office.eml"))

    assert fetch() == {
        "channel": "Support mailbox",
        "fetched": 2,
        "created": 0,
        "appended": 1,
        "ignored": 1,
        "failed": 0,
    }
    reply = ticket.messages.filter(kind=Message.Kind.INBOUND).order_by("pk").last()
    assert reply.body == "Спасибо, заработало."
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS  # the customer wrote: back to work
    resolution.refresh_from_db()
    assert resolution.state == SLAClock.State.RUNNING  # and the resolution clock runs again
    assert Ticket.objects.count() == 1
