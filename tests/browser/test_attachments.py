"""Files in a real browser: a dispatcher takes down a call with a photo, the engineer answers with a PDF."""

from __future__ import annotations

import re
import struct
import zlib

from playwright.sync_api import expect

from tests.factories import MembershipFactory, QueueFactory, UserFactory
from tickets.models import Attachment, QueueMembership, Ticket


def png(width: int = 96, height: int = 64) -> bytes:
    """A real PNG (a colour gradient), so the browser can decode and show the preview."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def drop_file(page, selector: str, name: str, content: bytes, mime: str) -> None:
    """Drop a file onto an element the way a file manager does (a DragEvent carrying a DataTransfer)."""
    page.evaluate(
        """([selector, name, bytes, mime]) => {
            const target = document.querySelector(selector);
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, {type: mime}));
            for (const type of ["dragenter", "dragover", "drop"]) {
                target.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
            }
        }""",
        [selector, name, list(content), mime],
    )


def test_a_photo_from_a_call_and_a_pdf_reply_are_listed_with_a_preview(page, live_server, login, screenshot):
    queue = QueueFactory(name="Service", slug="service")
    UserFactory(username="dana", role="dispatcher", profile__display_name="Dana Dispatcher")
    MembershipFactory(queue=queue, user=UserFactory(username="dana"), role=QueueMembership.Role.DISPATCHER)
    erlan = UserFactory(username="erlan", role="engineer", profile__display_name="Erlan Engineer")
    MembershipFactory(queue=queue, user=erlan)
    problems = []
    page.on("console", lambda msg: msg.type == "error" and problems.append(msg.text))

    # Desktop: the dispatcher takes down the call and attaches the photo the caller sent.
    page.set_viewport_size({"width": 1280, "height": 900})
    login("dana")
    page.goto(f"{live_server.url}/tickets/new/")
    page.fill("#id_customer_name", "Aigerim")
    page.fill("#id_customer_phone", "+7 701 555 11 22")
    page.fill("#id_title", "Boiler leaks in the basement")
    page.fill("#id_description", "Water under the boiler since the morning; photo by messenger.")
    page.select_option("#id_queue", label="Service")
    page.select_option("#id_performer", label="Erlan Engineer")
    expect(page.locator(".attach-field .help")).to_contain_text("Up to 10 files")
    page.set_input_files("#id_attachments", files=[{"name": "котёл.png", "mimeType": "image/png", "buffer": png()}])
    expect(page.locator(".create-form [data-chosen] li")).to_contain_text("котёл.png")
    page.click(".form-actions button[type=submit]")
    page.wait_for_url(re.compile(r"/tickets/\d+/$"))
    ticket = Ticket.objects.get()
    preview = page.locator(".msg-thumb img")
    expect(preview).to_have_attribute("alt", "Preview of котёл.png")
    expect(preview).to_be_visible()
    page.wait_for_function("() => document.querySelector('.msg-thumb img').naturalWidth === 96")
    screenshot("dispatcher-desktop")
    page.click(".logout-form button")
    page.wait_for_url(re.compile(r"/login/"))

    # Phone: the engineer drops the signed act onto the reply form and answers.
    page.set_viewport_size({"width": 390, "height": 844})
    login("erlan")
    page.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    drop_file(page, "form.compose-reply", "Акт выполненных работ.pdf", PDF, "application/pdf")
    expect(page.locator(".compose-reply [data-chosen] li")).to_contain_text("Акт выполненных работ.pdf")
    page.fill("#reply_body", "The technician comes at 15:00; the act is attached.")
    shot = screenshot("engineer-phone-chosen")
    page.locator("form.compose-reply").screenshot(path=str(shot.with_name(f"{shot.stem}-form.png")))
    page.click(".compose-reply button[type=submit]")
    expect(page.locator(".message-success")).to_be_visible()
    files = page.locator(".conversation .msg-file")
    expect(files).to_have_count(2)
    expect(files.nth(0)).to_contain_text("котёл.png")
    expect(files.nth(1)).to_contain_text("Акт выполненных работ.pdf")
    expect(files.nth(1)).to_contain_text("bytes")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot = screenshot("engineer-phone")
    page.locator(".conversation").screenshot(path=str(shot.with_name(f"{shot.stem}-conversation.png")))

    pdf = Attachment.objects.get(content_type="application/pdf")
    assert pdf.uploaded_by == erlan and pdf.message.body.startswith("The technician")
    with page.expect_download() as download:
        files.nth(1).locator("a[download]").click()
    assert download.value.suggested_filename == "Акт выполненных работ.pdf"
    assert not problems, problems
