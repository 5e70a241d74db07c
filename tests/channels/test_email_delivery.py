"""Replies by email through a real SMTP server (aiosmtpd on 127.0.0.1): language, threading, parts, files, retries."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from channels import outbox
from channels.models import OutboundMessage
from sla.models import SLAClock, SLAPolicy
from sla.selectors import first_reply_sending_delay
from tests.factories import CustomerFactory, IntakeChannelFactory
from tests.reports.helpers import page_sections
from tests.sla.conftest import make_calendar
from tickets import services
from tickets.attachments import IncomingFile, attach
from tickets.models import Channel, DeliveryStatus, Message, TicketEvent

T0 = datetime(2027, 3, 2, 6, 0, tzinfo=UTC)  # after the fixtures (created now)


@pytest.fixture
def policy(db):
    calendar = make_calendar("24/7", {d: [("00:00", "24:00")] for d in range(7)})
    return SLAPolicy.objects.create(
        name="Standard",
        precedence=100,
        calendar=calendar,
        first_response_target=timedelta(hours=2),
        resolution_target=timedelta(hours=24),
    )


@pytest.fixture
def mail_ticket(db, queue, dispatcher, engineer):
    """A Russian-speaking customer wrote twice through the mail bridge (support@shop.example)."""
    bridge = IntakeChannelFactory(
        name="Shop support", channel=Channel.EMAIL, default_queue=queue, email_address="support@shop.example"
    )
    customer = CustomerFactory(name="Алма", email="alma@client.example", language="ru")
    ticket = services.ticket_create(
        actor=None,
        title="Принтер замял бумагу",
        customer=customer,
        queue=queue,
        description="Замяло бумагу",
        channel=Channel.EMAIL,
        intake_channel=bridge,
        external_id="<first@client.example>",
    )
    services.ticket_assign(ticket, performer=engineer, actor=dispatcher)
    second = services.ticket_receive_customer_message(
        ticket,
        body="Фото во вложении",
        channel=Channel.EMAIL,
        intake_channel=bridge,
        external_id="<second@client.example>",
    )
    Message.objects.filter(pk=second.pk).update(mail_message_id="<second@client.example>")
    return ticket


def parsed(raw) -> email.message.EmailMessage:
    return email.message_from_bytes(bytes(raw), policy=email.policy.default)


def first_response(ticket) -> SLAClock:
    return ticket.sla_clocks.get(kind=SLAClock.Kind.FIRST_RESPONSE)


def test_an_engineers_reply_arrives_in_the_customers_language_threaded_with_both_parts_and_the_file(
    smtp, mail_ticket, engineer
):
    reply = services.ticket_reply(mail_ticket, body="Здравствуйте!\n<b>Замените</b> картридж.", actor=engineer)
    attach(reply, [IncomingFile("счёт.pdf", "application/pdf", b"%PDF-1.4 invoice")], by=engineer)
    assert reply.delivery_status == DeliveryStatus.SENDING

    assert outbox.deliver_pending() == {"sent": 1, "failed": 0, "retrying": 0}

    [raw] = smtp.messages()
    mail = parsed(raw)
    assert mail["Subject"].strip() == f"Ваше обращение [#{mail_ticket.pk}] Принтер замял бумагу"
    assert mail["From"].addresses[0].addr_spec == "support@shop.example"
    assert mail["To"].addresses[0].addr_spec == "alma@client.example"
    assert mail["In-Reply-To"] == "<second@client.example>"
    assert mail["References"].split() == ["<first@client.example>", "<second@client.example>"]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "<b>Замените</b> картридж." in text and "Ваше обращение" in text
    assert "&lt;b&gt;Замените&lt;/b&gt;" in html and "<b>" not in html
    [file] = list(mail.iter_attachments())
    assert file.get_filename() == "счёт.pdf" and file.get_content() == b"%PDF-1.4 invoice"

    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT and reply.sent_at is not None
    assert reply.mail_message_id == mail["Message-ID"].strip() and mail["Message-ID"].endswith("@localhost>")
    assert len(f"Message-ID: {reply.mail_message_id}") < 78  # never folded
    assert TicketEvent.objects.filter(
        ticket=mail_ticket, kind="ticket.reply_delivered", data__route="email", data__first=True
    ).exists()


def test_an_english_customer_gets_english_words_and_the_default_sender_without_a_channel_address(
    smtp, queue, engineer, settings
):
    settings.DEFAULT_FROM_EMAIL = "Help <help@opsdesk.example>"
    settings.CHANNELS_MAIL_DOMAIN = "mail.opsdesk.example"
    customer = CustomerFactory(email="bob@client.example", language="en")
    ticket = services.ticket_create(actor=engineer, title="Invoice", customer=customer, queue=queue, performer=engineer)
    services.ticket_reply(ticket, body="Sent it again", actor=engineer)
    outbox.deliver_pending()
    [raw] = smtp.messages()
    mail = parsed(raw)
    assert mail["Subject"].strip() == f"Your request [#{ticket.pk}] Invoice"
    assert mail["From"].addresses[0].addr_spec == "help@opsdesk.example"
    assert mail["In-Reply-To"] is None
    assert mail["Message-ID"].endswith("@mail.opsdesk.example>")


def test_with_the_server_down_the_reply_stays_sending_is_retried_and_arrives_once_first_response_at_sending(
    smtp, policy, mail_ticket, engineer, client, admin_user
):
    with time_machine.travel(T0, tick=False) as clock:
        smtp.stop()
        reply = services.ticket_reply(mail_ticket, body="Мы разбираемся", actor=engineer)
        assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retrying": 1}
        reply.refresh_from_db()
        assert reply.delivery_status == DeliveryStatus.SENDING and reply.delivery_error
        assert first_response(mail_ticket).state == SLAClock.State.RUNNING
        mail_ticket.refresh_from_db()
        assert mail_ticket.first_public_reply_at is None

        clock.shift(timedelta(seconds=30))
        assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retrying": 0}  # not due yet (backoff 1 min)

        smtp.start()
        clock.shift(timedelta(minutes=1))
        sending_instant = datetime.now(UTC)
        out = StringIO()
        call_command("deliver_outbox", stdout=out)
        assert json.loads(out.getvalue()) == {"sent": 1, "failed": 0, "retrying": 0}
        clock.shift(timedelta(minutes=10))
        assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retrying": 0}

    assert len(smtp.messages()) == 1
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT and reply.delivery_error == ""
    assert reply.sent_at == sending_instant > reply.created_at
    fr = first_response(mail_ticket)
    assert fr.state == SLAClock.State.STOPPED and fr.stopped_at == sending_instant
    mail_ticket.refresh_from_db()
    assert mail_ticket.first_public_reply_at == sending_instant
    row = OutboundMessage.objects.get(message=reply)
    assert row.attempts == 2 and row.status == OutboundMessage.Status.SENT
    assert first_reply_sending_delay(mail_ticket) == timedelta(seconds=90)
    client.force_login(engineer)
    page = client.get(reverse("tickets:detail", args=[mail_ticket.pk])).content.decode()
    assert "The first reply left 1 min after it was written" in page
    client.force_login(admin_user)
    period = {"period": "custom", "date_from": "2027-03-01", "date_to": "2027-03-03"}
    sending = page_sections(client.get(reverse("reports:sla"), period))["sending"]
    assert sending == [["1", "1", "1 min", "1 min"]]


def test_the_status_moves_at_the_click_but_the_clock_only_at_delivery(policy, mail_ticket, engineer):
    services.ticket_reply(mail_ticket, body="Смотрю", actor=engineer)
    mail_ticket.refresh_from_db()
    assert mail_ticket.status == "in_progress"
    assert first_response(mail_ticket).state == SLAClock.State.RUNNING


def test_out_of_attempts_the_reply_fails_and_the_performer_is_told(smtp, mail_ticket, engineer, settings):
    settings.CHANNELS_MAX_ATTEMPTS = 2
    smtp.stop()
    with time_machine.travel(T0, tick=False) as clock:
        reply = services.ticket_reply(mail_ticket, body="Ответ", actor=engineer)
        assert outbox.deliver_pending()["retrying"] == 1
        clock.shift(timedelta(minutes=2))
        assert outbox.deliver_pending()["failed"] == 1
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.FAILED and "Connection" in reply.delivery_error
    assert engineer.notifications.filter(kind="channels.delivery_failed", ticket=mail_ticket).count() == 1
    assert TicketEvent.objects.filter(ticket=mail_ticket, kind="ticket.reply_failed").count() == 1


def test_an_automatic_apology_is_delivered_but_stops_no_clock(smtp, policy, mail_ticket):
    services.ticket_reply(mail_ticket, body="Извините за задержку", actor=None, counts_as_response=False)
    assert outbox.deliver_pending()["sent"] == 1
    assert len(smtp.messages()) == 1
    assert first_response(mail_ticket).state == SLAClock.State.RUNNING


def test_a_stuck_send_is_reclaimed_and_sent_once(smtp, mail_ticket, engineer, settings):
    settings.CHANNELS_SENDING_TIMEOUT = 60
    with time_machine.travel(T0, tick=False) as clock:
        services.ticket_reply(mail_ticket, body="Ответ", actor=engineer)
        assert outbox.claim_due(now=datetime.now(UTC))  # a worker claimed it and died
        assert outbox.deliver_pending()["sent"] == 0
        clock.shift(timedelta(minutes=2))
        assert outbox.deliver_pending()["sent"] == 1
    assert len(smtp.messages()) == 1


def test_a_reply_goes_to_the_customers_reply_to_and_copies_whom_they_copied(smtp, mail_ticket, engineer, settings):
    """The customer wrote from a shared mailbox, asked for answers at their own address and copied a colleague
    and the support address: the reply goes where they asked, keeps the colleague, never mails OpsDesk itself."""
    from channels.inbound.receive import email_receive

    settings.EMAIL_INTAKE_OWN_ADDRESSES = ["support@shop.example"]
    raw = (
        b"From: Alma <alma@client.example>\r\nTo: support@shop.example\r\n"
        b"Reply-To: Alma Personal <alma.personal@client.example>\r\n"
        b"Cc: Boris <boris@client.example>, support@shop.example, ALMA@client.example\r\n"
        b"Subject: Re: printer\r\nMessage-ID: <third@client.example>\r\nIn-Reply-To: <second@client.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nStill jammed.\r\n"
    )
    assert email_receive(mail_ticket.messages.first().intake_channel, raw).outcome == "appended"

    services.ticket_reply(mail_ticket, body="Меняем картридж.", actor=engineer)
    assert outbox.deliver_pending() == {"sent": 1, "failed": 0, "retrying": 0}

    [raw_sent] = smtp.messages()
    mail = parsed(raw_sent)
    assert [a.addr_spec for a in mail["To"].addresses] == ["alma.personal@client.example"]
    assert [a.addr_spec for a in mail["Cc"].addresses] == ["boris@client.example"]
    assert sorted(mail["X-RcptTo"].split(", ")) == ["alma.personal@client.example", "boris@client.example"]
    assert OutboundMessage.objects.get().result == "accepted for alma.personal@client.example, boris@client.example"


def test_without_reply_to_or_cc_the_reply_goes_to_the_customer_alone(smtp, mail_ticket, engineer):
    services.ticket_reply(mail_ticket, body="Готово.", actor=engineer)
    outbox.deliver_pending()
    [raw_sent] = smtp.messages()
    mail = parsed(raw_sent)
    assert [a.addr_spec for a in mail["To"].addresses] == ["alma@client.example"] and mail["Cc"] is None
    assert mail["X-RcptTo"] == "alma@client.example"


def test_the_ticket_page_shows_whom_an_email_named_and_where_the_reply_goes(client, mail_ticket, engineer, settings):
    from channels.inbound.receive import email_receive

    settings.EMAIL_INTAKE_OWN_ADDRESSES = ["support@shop.example"]
    services.ticket_assign(mail_ticket, performer=engineer, actor=engineer)
    client.force_login(engineer)
    url = reverse("tickets:detail", args=[mail_ticket.pk])
    page = client.get(url).content.decode()
    assert "msg-addressing" not in page and "data-reply-addressing" not in page  # no email received yet

    raw = (
        b"From: Alma <alma@client.example>\r\nTo: support@shop.example\r\n"
        b"Reply-To: Alma Personal <alma.personal@client.example>\r\n"
        b"Cc: Boris <boris@client.example>, support@shop.example\r\n"
        b"Subject: Re: printer\r\nMessage-ID: <fourth@client.example>\r\nIn-Reply-To: <second@client.example>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nStill jammed.\r\n"
    )
    assert email_receive(mail_ticket.messages.first().intake_channel, raw).outcome == "appended"
    page = client.get(url).content.decode()
    assert page.count('class="msg-addressing muted"') == 1  # on that email only
    assert "Reply-To: alma.personal@client.example" in page
    assert "Cc: boris@client.example, support@shop.example" in page  # as the email named them
    # As the reply will be addressed (test_a_reply_goes_to_the_customers_reply_to_and_copies_whom_they_copied).
    assert "The reply goes by email to alma.personal@client.example; copy to boris@client.example." in page
