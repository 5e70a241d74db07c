"""Pure text helpers of receiving email: charsets, HTML as text, quoted history (no database)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from channels.inbound.parse import Unparseable, parse_email
from channels.inbound.text import decode_bytes, html_to_text, strip_quoted
from tests.channels.inbound import corpus


@pytest.mark.parametrize(
    ("data", "charset"),
    [
        ("Привет".encode("koi8-r"), "koi8-r"),
        ("Привет".encode("cp1251"), "windows-1251"),
        ("Привет".encode("iso-8859-5"), "ISO-8859-5"),
        ("Привет".encode(), "utf-8"),
        ("Привет".encode(), None),
        ("Привет".encode("cp1251"), "no-such-charset"),
        ("Привет".encode("cp1251"), "us-ascii"),  # a lie: the bytes are 8-bit
    ],
)
def test_bytes_are_decoded_in_their_charset_or_a_good_guess(data, charset):
    assert decode_bytes(data, charset) == "Привет"


def test_undecodable_bytes_never_raise_and_nul_is_dropped():
    assert decode_bytes(b"a\x00b\xff\xfe", "utf-8")  # replaced, not raised
    assert "\x00" not in decode_bytes(b"a\x00b", "ascii")


@pytest.mark.parametrize(
    "text",
    [
        "Thanks, it works now.\n\nOn Mon, 7 Dec 2026 at 10:00, Support <support@opsdesk.example> wrote:\n> Try again",
        "Thanks, it works now.\n\nOn Mon, 7 Dec 2026 at 10:00, Support <support@opsdesk.example>\nwrote:\n> Try",
        "Thanks, it works now.\n\nпн, 7 дек. 2026 г. в 10:00, Support <support@opsdesk.example>:\n> Попробуйте",
        "Thanks, it works now.\n\n7 дек. 2026 г., в 10:00, Служба поддержки написал(а):\n> Попробуйте",
        'Thanks, it works now.\n\n07.12.2026, 10:00, "Support" <support@opsdesk.example>:\n> Попробуйте ещё раз',
        "Thanks, it works now.\n\nИван пишет:\n> Попробуйте",
        "Thanks, it works now.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n\nTry again",
        "Thanks, it works now.\n\n-----Исходное сообщение-----\nОт: Support\nОтправлено: понедельник\n\nПопробуйте",
        "Thanks, it works now.\n\n________________________________\nFrom: Support\nSent: Monday\nTry again",
        "Thanks, it works now.\n\nFrom: Support <support@opsdesk.example>\nSent: Monday, 7 December 2026\nTry again",
        "Thanks, it works now.\n\nОт: Support <support@opsdesk.example>\nДата: 7 декабря 2026\nПопробуйте",
        "> Try again\n> and tell us\nThanks, it works now.",
    ],
    ids=[
        "gmail",
        "gmail-wrapped",
        "gmail-ru",
        "yandex-wrote",
        "yandex-date",
        "pishet",
        "outlook",
        "outlook-ru",
        "outlook-rule",
        "outlook-headers",
        "outlook-headers-ru",
        "quotes-on-top",
    ],
)
def test_quoted_history_below_the_usual_separators_is_dropped(text):
    assert strip_quoted(text) == "Thanks, it works now."


def test_a_message_that_is_all_quote_is_kept_whole():
    assert strip_quoted("> only a quote") == "> only a quote"


def test_a_signature_and_a_from_line_without_headers_are_kept():
    text = "From: the warehouse we ship daily.\nAll fine.\n--\nIvan"
    assert strip_quoted(text) == text


def test_html_becomes_readable_text_and_nothing_executable_survives():
    html = (
        "<html><head><title>T</title><style>b{}</style></head><body><script>alert(1)</script>"
        "<p>Line&nbsp;one &amp; <b>two</b></p><ul><li>first</li><li>second</li></ul>"
        '<p>See <a href="https://x.example/a">the page</a> and <a href="javascript:alert(1)">this</a>.</p>'
        '<table><tr><td>a</td><td>b</td></tr></table><blockquote>quoted</blockquote><img alt="logo" src=x>'
        "<pre>  keep\n  spacing</pre></body></html>"
    )
    assert html_to_text(html) == (
        "Line one & two\n\n- first\n- second\n\nSee the page (https://x.example/a) and this.\n\na b\n> quoted\n[logo]\n"
        "  keep\n  spacing"
    )


def test_broken_html_is_read_as_far_as_it_goes():
    assert html_to_text("<div><p>Hello <b>there</div></span><p>again") == "Hello there\n\nagain"


CORPUS = [
    corpus.koi8r(),
    corpus.outlook_cp1251(),
    corpus.attachments_rfc2231(),
    corpus.html_only(),
    corpus.nested_inline_image(),
    corpus.broken_mime(),
    corpus.bounce("<x@y>"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, len(CORPUS) - 1),
    cuts=st.lists(st.tuples(st.integers(0, 5000), st.binary(max_size=20)), max_size=6),
)
# Found by this test: a NUL byte in the charset parameter of a base64 part with 8-bit bytes made the email library's
# get_payload() raise ValueError ("embedded null character") while decoding with that charset.
@example(which=3, cuts=[(170, b"\x00"), (213, b"\x80")])
def test_a_mangled_email_never_crashes_the_parser(which, cuts):
    raw = bytearray(CORPUS[which])
    for position, junk in cuts:
        position = min(position, len(raw))
        raw[position : position + len(junk)] = junk
    try:
        parsed = parse_email(bytes(raw))
    except Unparseable:
        return
    for text in (parsed.subject, parsed.text, parsed.conversation_text, parsed.sender_name):
        text.encode("utf-8")  # storable: no lone surrogates
        assert "\x00" not in text


def test_an_address_header_the_standard_parser_crashes_on_is_read_as_plain_text():
    """Found by the mangling test above: a line break cut into the KOI8-R sample's From made the standard
    library's address parser raise IndexError ("<p" then the end of the headers). The email is read: no
    sender address (the service ignores it with a reason), the rest of the mail as its text."""
    raw = bytearray(corpus.koi8r())
    raw[37:38] = b"\n"
    parsed = parse_email(bytes(raw))
    assert parsed.sender == "" and parsed.subject == ""
    assert parsed.text.startswith("etr@customer.example>\nTo: support@opsdesk.example")
