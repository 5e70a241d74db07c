"""GET /attachments/<id>/ and the signed link: who gets a file, and with which headers."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse

from portal.attachment_views import content_disposition
from tests.factories import UserFactory
from tickets import services
from tickets.attachments import IncomingFile, download_token
from tickets.models import Channel

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n<html><script>alert(1)</script>"


@pytest.fixture
def worked_ticket(ticket, engineer):
    services.ticket_assign(ticket, performer=engineer, actor=engineer)
    return ticket


@pytest.fixture
def reply_file(worked_ticket, engineer):
    message = services.ticket_reply(
        worked_ticket,
        body="The act",
        actor=engineer,
        attachments=[IncomingFile("Акт сверки №5.pdf", "application/pdf", PDF)],
    )
    return message.attachments.get()


@pytest.fixture
def image_file(worked_ticket):
    message = services.ticket_receive_customer_message(
        worked_ticket, body="Photo", channel=Channel.EMAIL, attachments=[IncomingFile("door.png", "image/png", PNG)]
    )
    return message.attachments.get()


@pytest.fixture
def note_file(worked_ticket, engineer):
    message = services.ticket_add_note(
        worked_ticket, body="Internal scan", actor=engineer, attachments=[IncomingFile("scan.pdf", "", PDF)]
    )
    return message.attachments.get()


def _url(attachment, **query):
    url = reverse("attachments:download", args=[attachment.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.mark.parametrize("role", ["admin_user", "manager", "dispatcher", "engineer"])
def test_everyone_who_sees_the_ticket_downloads_its_file(role, request, client, reply_file):
    client.force_login(request.getfixturevalue(role))
    response = client.get(_url(reply_file))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF


@pytest.mark.parametrize("role", ["admin_user", "manager", "dispatcher", "engineer"])
def test_staff_who_see_the_ticket_download_note_files(role, request, client, note_file):
    client.force_login(request.getfixturevalue(role))
    assert client.get(_url(note_file)).status_code == 200


def test_an_engineer_of_another_queue_gets_404(client, other_engineer, reply_file, note_file):
    client.force_login(other_engineer)
    assert client.get(_url(reply_file)).status_code == 404
    assert client.get(_url(note_file)).status_code == 404


def test_a_missing_attachment_is_404_like_a_hidden_one(client, engineer, reply_file):
    client.force_login(engineer)
    assert client.get(reverse("attachments:download", args=[reply_file.pk + 1000])).status_code == 404


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, reply_file):
    response = client.get(_url(reply_file))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_observer_without_a_role_sees_public_files_but_not_note_files(client, worked_ticket, reply_file, note_file):
    observer = UserFactory(username="watcher")
    worked_ticket.observers.add(observer)
    client.force_login(observer)
    assert client.get(_url(reply_file)).status_code == 200
    assert client.get(_url(note_file)).status_code == 404


def test_a_post_is_refused(client, engineer, reply_file):
    client.force_login(engineer)
    assert client.post(_url(reply_file)).status_code == 405


def test_the_headers_keep_the_file_from_acting_as_a_page(client, engineer, reply_file):
    client.force_login(engineer)
    response = client.get(_url(reply_file))
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("Акт сверки №5.pdf", safe="") in disposition
    assert int(response["Content-Length"]) == len(PDF)


def test_cyrillic_names_get_an_ascii_fallback_and_the_real_name():
    value = content_disposition("Счёт №5.xlsx")
    assert value.startswith('attachment; filename="')
    fallback = value.split('"')[1]
    assert fallback.isascii() and fallback.endswith(".xlsx")
    assert value.endswith("; filename*=UTF-8''" + quote("Счёт №5.xlsx", safe=""))
    assert content_disposition('a"b;c.txt', inline=True).startswith('inline; filename="a_b_c.txt"')


def test_images_show_inline_on_request_other_files_never_do(client, engineer, image_file, reply_file):
    client.force_login(engineer)
    image = client.get(_url(image_file, inline=1))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["Content-Disposition"].startswith("inline;")
    assert client.get(_url(image_file))["Content-Disposition"].startswith("attachment;")
    assert client.get(_url(reply_file, inline=1))["Content-Disposition"].startswith("attachment;")


def test_an_svg_is_never_shown_inline(client, engineer, worked_ticket):
    svg = services.ticket_receive_customer_message(
        worked_ticket,
        body="x",
        channel=Channel.EMAIL,
        attachments=[IncomingFile("x.svg", "image/svg+xml", b"<svg onload='alert(1)'/>")],
    ).attachments.get()
    client.force_login(engineer)
    assert client.get(_url(svg, inline=1))["Content-Disposition"].startswith("attachment;")


def test_a_file_lost_from_storage_is_404_not_500(client, engineer, reply_file):
    reply_file.file.storage.delete(reply_file.file.name)
    client.force_login(engineer)
    assert client.get(_url(reply_file)).status_code == 404


# --- The signed link -------------------------------------------------------------------------


def test_a_fresh_signed_link_serves_the_file_without_a_login(client, reply_file):
    response = client.get(reverse("attachments:signed", args=[download_token(reply_file)]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")


def test_an_expired_signed_link_is_404(client, settings, reply_file):
    token = download_token(reply_file)
    settings.ATTACHMENT_LINK_MAX_AGE = -1
    assert client.get(reverse("attachments:signed", args=[token])).status_code == 404


@pytest.mark.parametrize(
    "tamper", [lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), lambda t: "1" + t, lambda t: "x"]
)
def test_a_tampered_signed_link_is_404(tamper, client, reply_file):
    assert client.get(reverse("attachments:signed", args=[tamper(download_token(reply_file))])).status_code == 404


def test_a_signed_link_for_a_deleted_file_row_is_404(client, reply_file):
    token = download_token(reply_file)
    reply_file.delete()
    assert client.get(reverse("attachments:signed", args=[token])).status_code == 404
