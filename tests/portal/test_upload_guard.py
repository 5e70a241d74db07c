"""The upload guard keeps no more of an ``attachments`` field than a message may carry (core/uploads.py)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from core.uploads import OversizedUpload
from tests.portal.test_attachment_uploads import upload
from tickets.models import Attachment, Message


@pytest.fixture
def limits(settings):
    settings.ATTACHMENT_MAX_FILE_BYTES = 100
    settings.ATTACHMENT_MAX_MESSAGE_BYTES = 150
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # Django would write anything bigger to a temporary file


def parse(files: dict) -> dict:
    request = RequestFactory().post("/x/", {"body": "text", **files})
    return request.FILES


def test_a_file_over_the_limit_arrives_as_its_name_and_size_only(limits):
    got = parse({"attachments": [upload("big.bin", b"x" * 5000)], "other": upload("import.csv", b"y" * 5000)})
    big = got["attachments"]
    assert isinstance(big, OversizedUpload)
    assert (big.name, big.size, big.read()) == ("big.bin", 5000, b"")
    assert got["other"].size == 5000 and got["other"].read() == b"y" * 5000  # other fields: untouched


def test_files_past_the_message_limit_are_not_kept_either(limits):
    files = parse({"attachments": [upload("a.bin", b"a" * 90), upload("b.bin", b"b" * 90)]}).getlist("attachments")
    assert files[0].read() == b"a" * 90 and not isinstance(files[0], OversizedUpload)
    assert isinstance(files[1], OversizedUpload) and files[1].size == 90


def test_files_within_the_limits_are_whole(limits):
    (kept,) = parse({"attachments": [upload("ok.txt", b"z" * 99)]}).getlist("attachments")
    assert kept.read() == b"z" * 99


def test_an_oversized_upload_is_refused_by_the_form_naming_the_file(client, engineer, ticket, limits):
    client.force_login(engineer)
    response = client.post(
        reverse("tickets:note", args=[ticket.pk]), {"body": "x", "attachments": [upload("huge.iso", b"x" * 5000)]}
    )
    assert response.status_code == 422
    assert "“huge.iso” is 4.9\xa0KB" in response.content.decode()
    assert not Message.objects.exists() and not Attachment.objects.exists()
