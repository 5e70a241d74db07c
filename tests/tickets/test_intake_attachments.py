"""Files through the intake API: ``attachments: [{filename, content_type, data_base64}]``."""

from __future__ import annotations

import base64

import pytest

from tests.tickets.intake_helpers import assert_refused, counts, message, send
from tickets.models import Attachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def file(name="photo.png", data=PNG, content_type="image/png"):
    return {"filename": name, "content_type": content_type, "data_base64": b64(data)}


def files_count():
    return {**counts(), "attachments": Attachment.objects.count()}


@pytest.fixture
def small_limits(settings):
    settings.ATTACHMENT_MAX_FILE_BYTES = 100
    settings.ATTACHMENT_MAX_MESSAGE_BYTES = 150
    settings.ATTACHMENT_MAX_FILES = 2


def test_a_new_ticket_arrives_with_its_files(client, mail):
    response = send(client, mail.token, message(attachments=[file(), file("Счёт.pdf", b"%PDF-1.4", "application/pdf")]))
    assert response.status_code == 201, response.content
    stored = Attachment.objects.filter(message_id=response.json()["message"]).order_by("pk")
    assert [(a.filename, a.content_type, a.size) for a in stored] == [
        ("photo.png", "image/png", len(PNG)),
        ("Счёт.pdf", "application/pdf", 8),
    ]
    with stored[0].file.open("rb") as fh:
        assert fh.read() == PNG
    assert stored[0].uploaded_by is None


def test_an_appended_customer_message_carries_files(client, mail, anna, annas_ticket):
    payload = message(ticket=annas_ticket.pk, attachments=[{"filename": "scan.pdf", "data_base64": b64(b"%PDF")}])
    response = send(client, mail.token, payload)
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    assert attachment.ticket_id == annas_ticket.pk and attachment.content_type == "application/pdf"
    assert annas_ticket.events.get(kind="ticket.customer_wrote").data["attachments"] == ["scan.pdf"]


def test_base64_with_line_breaks_is_accepted(client, mail):
    wrapped = base64.encodebytes(PNG * 3).decode("ascii")  # MIME style, 76 characters a line
    response = send(client, mail.token, message(attachments=[{"filename": "a.png", "data_base64": wrapped}]))
    assert response.status_code == 201
    assert Attachment.objects.get().size == len(PNG) * 3


def test_a_duplicate_delivery_stores_the_files_once(client, mail):
    payload = message(attachments=[file()])
    assert send(client, mail.token, payload).status_code == 201
    assert send(client, mail.token, payload).status_code == 200
    assert Attachment.objects.count() == 1


@pytest.mark.usefixtures("small_limits")
@pytest.mark.parametrize(
    ("attachments", "field", "words"),
    [
        (
            [{"filename": "a.png", "data_base64": "not base64!"}],
            "attachments[0].data_base64",
            "“a.png”: not valid base64",
        ),
        ([file("ok.png"), {"filename": "b.png", "data_base64": "QUJDRA"}], "attachments[1].data_base64", "“b.png”"),
        ([file("big.bin", b"x" * 101)], "attachments[0]", "“big.bin” is 101"),
        ([file("a.bin", b"x" * 80), file("b.bin", b"x" * 80)], "attachments", "add up to 160"),
        ([file("1.png"), file("2.png"), file("3.png")], "attachments", "At most 2 files"),
        ([file("empty.txt", b"")], "attachments[0]", "“empty.txt” is empty"),
        ([file("invoice.pdf.exe", b"MZ")], "attachments[0]", "“.exe”"),
        ([{"content_type": "image/png", "data_base64": b64(PNG)}], "attachments[0].filename", "file name"),
        ([{"filename": "a.png"}], "attachments[0].data_base64", "“a.png”"),
        ([{"filename": "a.png", "content_type": 5, "data_base64": b64(PNG)}], "attachments[0].content_type", "“a.png”"),
        (["a.png"], "attachments[0]", "Must be an object"),
        ({"filename": "a.png"}, "attachments", "Must be a list"),
    ],
    ids=[
        "bad-base64",
        "bad-padding",
        "file-too-big",
        "message-too-big",
        "too-many",
        "empty",
        "forbidden",
        "no-name",
        "no-data",
        "bad-type",
        "not-an-object",
        "not-a-list",
    ],
)
@pytest.mark.parametrize("target", ["new", "append"])
def test_refused_files_are_a_422_naming_the_field_and_the_file(
    target, attachments, field, words, client, mail, anna, annas_ticket
):
    extra = {"ticket": annas_ticket.pk} if target == "append" else {}
    before, files_before = counts(), files_count()
    response = send(client, mail.token, message(attachments=attachments, **extra))
    error = assert_refused(response, 422, "validation_error", before)
    assert words in error["fields"][field].replace("\xa0", " ")
    assert files_count() == files_before


def test_a_body_above_djangos_upload_limit_but_within_the_intake_limit_is_accepted(client, mail, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024  # Django's limit for request.body and forms: not this API's
    response = send(client, mail.token, message(attachments=[file("big.png", PNG * 100)]))
    assert response.status_code == 201, response.content


def test_a_body_above_the_intake_limit_is_a_413_in_json_not_a_500(client, mail, settings):
    settings.INTAKE_MAX_BODY_BYTES = 2048
    before, files_before = counts(), files_count()
    response = send(client, mail.token, message(attachments=[file("big.png", PNG * 100)]))
    assert_refused(response, 413, "payload_too_large", before)
    assert files_count() == files_before


def test_by_default_the_body_can_carry_the_largest_message_in_base64(settings):
    assert settings.INTAKE_MAX_BODY_BYTES >= settings.ATTACHMENT_MAX_MESSAGE_BYTES * 4 / 3 + 64 * 1024
