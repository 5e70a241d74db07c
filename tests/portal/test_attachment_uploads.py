"""Files through the portal: reply, internal note and new ticket take a multipart field ``attachments``."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import UserFactory
from tests.portal.html_checks import id_problems
from tests.tickets.test_views import create_data
from tickets import services
from tickets.attachments import IncomingFile
from tickets.models import Attachment, Message, Ticket, TicketEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(name: str, content: bytes = b"data", content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def counts():
    return Ticket.objects.count(), Message.objects.count(), Attachment.objects.count(), TicketEvent.objects.count()


@pytest.fixture
def small_limits(settings):
    settings.ATTACHMENT_MAX_FILE_BYTES = 100
    settings.ATTACHMENT_MAX_MESSAGE_BYTES = 150
    settings.ATTACHMENT_MAX_FILES = 2


@pytest.fixture
def worked_ticket(ticket, engineer):
    services.ticket_assign(ticket, performer=engineer, actor=engineer)
    return ticket


def test_a_reply_posted_like_the_browser_carries_several_files(client, engineer, worked_ticket):
    client.force_login(engineer)
    response = client.post(
        reverse("tickets:reply", args=[worked_ticket.pk]),
        {
            "body": "The act and a photo",
            "attachments": [upload("Акт.pdf", b"%PDF"), upload("door.png", PNG, "image/png")],
        },
    )
    assert response.status_code == 302
    message = worked_ticket.messages.get(kind=Message.Kind.PUBLIC_REPLY)
    assert [(a.filename, a.content_type, a.size) for a in message.attachments.all()] == [
        ("Акт.pdf", "application/octet-stream", 4),
        ("door.png", "image/png", len(PNG)),
    ]


def test_a_note_carries_files(client, engineer, worked_ticket):
    client.force_login(engineer)
    client.post(reverse("tickets:note", args=[worked_ticket.pk]), {"body": "Scan", "attachments": [upload("s.pdf")]})
    assert worked_ticket.messages.get(kind=Message.Kind.INTERNAL_NOTE).attachments.get().filename == "s.pdf"


@pytest.mark.usefixtures("small_limits")
@pytest.mark.parametrize(
    ("files", "reason"),
    [
        (lambda: [upload("big.bin", b"x" * 101)], "“big.bin” is 101"),
        (lambda: [upload("a.bin", b"x" * 80), upload("b.bin", b"x" * 80)], "add up to 160"),
        (lambda: [upload("1.txt"), upload("2.txt"), upload("3.txt")], "At most 2 files"),
        (lambda: [upload("empty.txt", b"")], "“empty.txt” is empty"),
        (lambda: [upload("setup.exe", b"MZ")], "“.exe”"),
    ],
    ids=["file too big", "message too big", "too many", "empty", "forbidden"],
)
@pytest.mark.parametrize("action", ["reply", "note"])
def test_a_refused_file_saves_nothing_and_keeps_the_text(action, files, reason, client, engineer, worked_ticket):
    client.force_login(engineer)
    before = counts()
    text = "Dear customer, the technician comes on Monday"
    response = client.post(
        reverse(f"tickets:{action}", args=[worked_ticket.pk]), {"body": text, "attachments": files()}
    )
    assert response.status_code == 422
    assert counts() == before
    html = response.content.decode()
    assert reason in html.replace("\xa0", " ")
    assert f">\n{text}</textarea>" in html
    assert "Nothing was saved" in html
    assert not id_problems(html)


def test_an_engineer_of_another_queue_cannot_post_files(client, other_engineer, worked_ticket):
    client.force_login(other_engineer)
    before = counts()
    response = client.post(
        reverse("tickets:reply", args=[worked_ticket.pk]), {"body": "x", "attachments": [upload("a.txt")]}
    )
    assert response.status_code == 404
    assert counts() == before


def test_a_dispatcher_takes_down_a_call_with_a_photo(client, dispatcher, queue):
    client.force_login(dispatcher)
    response = client.post(
        reverse("tickets:create"), {**create_data(queue), "attachments": [upload("leak.png", PNG, "image/png")]}
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    attachment = ticket.messages.get().attachments.get()
    assert attachment.filename == "leak.png" and attachment.uploaded_by == dispatcher
    assert ticket.events.get(kind="ticket.created").data["attachments"] == ["leak.png"]


def test_a_new_ticket_with_a_refused_file_is_not_created(client, dispatcher, queue, small_limits):
    client.force_login(dispatcher)
    response = client.post(reverse("tickets:create"), {**create_data(queue), "attachments": [upload("run.exe", b"MZ")]})
    assert response.status_code == 200
    assert not Ticket.objects.exists() and not Attachment.objects.exists()
    html = response.content.decode()
    assert "“.exe”" in html and 'value="Washing machine leaks"' in html


def test_the_forms_are_multipart_and_state_the_limits(client, engineer, dispatcher, worked_ticket, settings):
    settings.ATTACHMENT_MAX_FILES = 7
    client.force_login(engineer)
    html = client.get(reverse("tickets:detail", args=[worked_ticket.pk])).content.decode()
    assert html.count('enctype="multipart/form-data"') == 2
    assert html.count('name="attachments"') == 2 and "Up to 7 files" in html
    assert "js/attachments.js" in html and not id_problems(html)
    client.force_login(dispatcher)
    html = client.get(reverse("tickets:create")).content.decode()
    assert 'enctype="multipart/form-data"' in html and 'name="attachments" multiple' in html


def test_the_conversation_lists_files_with_sizes_and_image_previews(client, engineer, worked_ticket):
    services.ticket_receive_customer_message(
        worked_ticket, body="Photo", channel="email", attachments=[IncomingFile("door.png", "image/png", PNG)]
    )
    services.ticket_reply(
        worked_ticket, body="Act", actor=engineer, attachments=[IncomingFile("act.pdf", "", b"x" * 2048)]
    )
    client.force_login(engineer)
    html = client.get(reverse("tickets:detail", args=[worked_ticket.pk])).content.decode()
    png, pdf = Attachment.objects.get(filename="door.png"), Attachment.objects.get(filename="act.pdf")
    png_url, pdf_url = reverse("attachments:download", args=[png.pk]), reverse("attachments:download", args=[pdf.pk])
    assert f'<img src="{png_url}?inline=1" alt="Preview of door.png" loading="lazy"' in html
    assert f'<a href="{pdf_url}" download>act.pdf</a>' in html and "2.0\xa0KB" in html
    assert f'src="{pdf_url}?inline=1"' not in html


def test_note_files_are_not_listed_for_a_viewer_who_cannot_open_them(client, engineer, worked_ticket):
    services.ticket_add_note(
        worked_ticket, body="Internal", actor=engineer, attachments=[IncomingFile("n.pdf", "", b"x")]
    )
    observer = UserFactory(username="watcher")
    worked_ticket.observers.add(observer)
    note_file = reverse("attachments:download", args=[Attachment.objects.get().pk])
    client.force_login(observer)
    assert note_file not in client.get(reverse("tickets:detail", args=[worked_ticket.pk])).content.decode()
    client.force_login(engineer)
    assert note_file in client.get(reverse("tickets:detail", args=[worked_ticket.pk])).content.decode()


def test_the_ticket_page_costs_the_same_queries_with_many_files(
    client, engineer, worked_ticket, django_assert_num_queries
):
    client.force_login(engineer)
    url = reverse("tickets:detail", args=[worked_ticket.pk])
    services.ticket_reply(worked_ticket, body="one", actor=engineer, attachments=[IncomingFile("a.txt", "", b"a")])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for i in range(3):
        services.ticket_reply(
            worked_ticket,
            body=f"more {i}",
            actor=engineer,
            attachments=[IncomingFile(f"{i}.txt", "", b"a"), IncomingFile(f"{i}.png", "image/png", PNG)],
        )
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(url)


def test_the_file_field_and_the_refusals_speak_russian(client, engineer, worked_ticket, small_limits):
    engineer.profile.language = "ru"
    engineer.profile.save()
    client.force_login(engineer)
    response = client.post(
        reverse("tickets:reply", args=[worked_ticket.pk]), {"body": "Акт", "attachments": [upload("run.exe", b"MZ")]}
    )
    html = response.content.decode()
    assert "Файлы" in html and "До 2 файлов" in html
    assert "Файлы типа «.exe» прикладывать нельзя." in html and "Ничего не сохранено" in html


def test_a_new_ticket_refused_for_another_field_asks_for_the_files_again(client, dispatcher, queue):
    client.force_login(dispatcher)
    data = {**create_data(queue, title=""), "attachments": [upload("leak.png", PNG, "image/png")]}
    response = client.post(reverse("tickets:create"), data)
    assert response.status_code == 200 and not Ticket.objects.exists() and not Attachment.objects.exists()
    assert "Choose the files again" in response.content.decode()
