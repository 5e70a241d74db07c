"""Long base64 bodies are set aside while the standard library parses a message (``parse._parsed``): the
result must be exactly the one of parsing the message as it came, for good mail and broken mail."""

from __future__ import annotations

import base64
import random
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.inbound import parse

FILE = bytes(random.Random(15).randrange(256) for _ in range(40_000))


def _as_it_came(raw: bytes) -> parse.ParsedEmail:
    original = parse._set_aside_base64
    parse._set_aside_base64 = lambda raw: (raw, {})
    try:
        return parse.parse_email(raw)
    finally:
        parse._set_aside_base64 = original


def _mail(*, attached_message: bool = False) -> bytes:
    message = EmailMessage()
    message["From"] = "Customer <customer@example.com>"
    message["To"] = "support@opsdesk.example"
    message["Subject"] = "Files"
    message["Message-ID"] = "<files@example.com>"
    message.set_content("Hello.\n\nSee the files.\n")
    message.add_attachment(FILE, maintype="application", subtype="octet-stream", filename="one.bin")
    message.add_attachment(FILE[::-1], maintype="image", subtype="png", filename="two.png")
    if attached_message:
        inner = EmailMessage()
        inner["Subject"] = "Inner"
        inner.set_content("inner")
        inner.add_attachment(FILE, maintype="application", subtype="octet-stream", filename="inner.bin")
        message.add_attachment(inner)
    return message.as_bytes()


LINES = base64.encodebytes(FILE)
FAKE_HEADERS_IN_TEXT = (
    b"From: a@example.com\nSubject: looks like MIME\nContent-Type: text/plain\n\n"
    b"Quoted by hand:\nContent-Transfer-Encoding: base64\n\n" + LINES + b"the end\n"
)
SINGLE_PART = b"From: a@example.com\nContent-Type: application/pdf\nContent-Transfer-Encoding: BASE64\n\n" + LINES


@pytest.mark.parametrize(
    "raw",
    [
        _mail(),
        _mail().replace(b"\n", b"\r\n"),
        _mail(attached_message=True),
        FAKE_HEADERS_IN_TEXT,
        SINGLE_PART,
        SINGLE_PART.replace(b"\n", b"\r\n"),
    ],
    ids=["multipart", "crlf", "attached-message", "fake-headers-in-text", "single-part", "single-part-crlf"],
)
def test_the_same_as_parsing_it_as_it_came(raw):
    fed, bodies = parse._set_aside_base64(raw)
    assert parse.parse_email(raw) == _as_it_came(raw)
    if raw is not FAKE_HEADERS_IN_TEXT:
        assert bodies and len(fed) < len(raw) / 10  # the fast path was taken


def test_a_fake_part_inside_a_text_keeps_its_text():
    assert "the end" in parse.parse_email(FAKE_HEADERS_IN_TEXT).text


def test_broken_mail_parses_as_it_would_have():
    raw = _mail()
    rng = random.Random(7)
    for _ in range(60):
        data = bytearray(raw)
        for _ in range(rng.randrange(1, 6)):
            at = rng.randrange(len(data))
            choice = rng.randrange(3)
            if choice == 0:
                data[at : at + rng.randrange(1, 200)] = b""
            elif choice == 1:
                data[at:at] = rng.choice(
                    [b"\n", b"\n\n", b"--", b"\r\n--", b"!@#$", b"\nContent-Transfer-Encoding: base64\n"]
                )
            else:
                data[at] = rng.randrange(256)
        mangled = bytes(data)
        try:
            expected = _as_it_came(mangled)
        except parse.Unparseable:
            with pytest.raises(parse.Unparseable):
                parse.parse_email(mangled)
            continue
        assert parse.parse_email(mangled) == expected


_LINE_PIECES = [b"QUJD", b"ZGVm", b"==", b"+/", b"\n", b"\r\n", b"\r", b"\n\n", b"\r\n\r\n", b"-", b" ", b"x" * 70]


@given(
    st.lists(st.sampled_from(_LINE_PIECES), max_size=80),
    st.integers(min_value=0, max_value=3),
)
def test_the_end_of_a_base64_body_is_where_the_line_by_line_regex_ends(pieces, lead):
    raw = b"Z" * lead + b"".join(pieces) + b"QUJD\n" * 16 * (lead % 2)
    for start in range(min(len(raw), 4)):
        regex = parse._BASE64_LINES.match(raw, start)
        assert parse._base64_lines_end(raw, start) == (regex.end() if regex else None)


@given(
    st.integers(min_value=2, max_value=80),  # characters per line
    st.integers(min_value=14, max_value=40),  # lines
    st.booleans(),  # CRLF
    st.lists(st.tuples(st.integers(min_value=0, max_value=4000), st.sampled_from(_LINE_PIECES)), max_size=3),
    st.sampled_from([b"", b"\n", b"\r\n", b"QUJD\n", b"QUJD\r\n\r\n", b"QU"]),
)
def test_bodies_as_encoders_write_them_end_where_the_regex_ends(width, lines, crlf, edits, tail):
    ending = b"\r\n" if crlf else b"\n"
    raw = bytearray((b"Q" * width + ending) * lines + tail + b"--boundary--\n")
    for at, piece in edits:  # an empty line, a lone \r, a space... anywhere
        raw[at % len(raw) : at % len(raw)] = piece
    raw = bytes(raw)
    regex = parse._BASE64_LINES.match(raw, 0)
    assert parse._base64_lines_end(raw, 0) == (regex.end() if regex else None)
