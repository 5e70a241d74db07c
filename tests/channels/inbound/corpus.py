"""Raw emails as mail programs write them, and hand-made hard cases, for the receiving tests."""

from __future__ import annotations

import base64
import quopri
from email.header import Header

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def crlf(text: str) -> bytes:
    return text.strip("\n").replace("\n", "\r\n").encode("ascii") + b"\r\n"


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii")


def plain(
    *,
    sender="Ivan Petrov <ivan@customer.example>",
    subject="Printer jam",
    body="The printer on floor 3 jams.",
    message_id="<m1@customer.example>",
    headers="",
) -> bytes:
    """A simple UTF-8 text email (like Thunderbird writes) with optional extra header lines."""
    encoded = Header(subject, "utf-8").encode()
    head = f"""From: {sender}
To: Support <support@opsdesk.example>
Subject: {encoded}
Date: Sun, 06 Dec 2026 10:00:00 +0300
Message-ID: {message_id}
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit
"""
    if headers:
        head += headers.strip("\n") + "\n"
    return crlf(head) + b"\r\n" + body.replace("\n", "\r\n").encode("utf-8") + b"\r\n"


def koi8r() -> bytes:
    """Thunderbird in KOI8-R: encoded-word subject, 8-bit body."""
    subject = Header("Не работает принтер", "koi8-r").encode()
    name = base64.b64encode("Пётр Сидоров".encode("koi8-r")).decode()
    head = crlf(f"""From: =?KOI8-R?B?{name}?= <petr@customer.example>
To: support@opsdesk.example
Subject: {subject}
Message-ID: <koi8@customer.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=KOI8-R
Content-Transfer-Encoding: 8bit
""")
    return head + b"\r\n" + "Принтер на третьем этаже зажёвывает бумагу.\r\n".encode("koi8-r")


def outlook_cp1251() -> bytes:
    """Outlook: multipart/alternative, Windows-1251 quoted-printable, the quoted history below its separator."""
    text = (
        "Добрый день! Проблема повторилась сегодня утром.\n\n"
        "-----Исходное сообщение-----\nОт: Support <support@opsdesk.example>\n"
        "Отправлено: 5 декабря 2026 г. 18:00\nТема: RE: Принтер\n\nМы заменили картридж.\n"
    )
    html = "<html><body><p>Добрый день! Проблема повторилась сегодня утром.</p></body></html>"
    qp_text = quopri.encodestring(text.encode("cp1251")).decode("ascii")
    qp_html = quopri.encodestring(html.encode("cp1251")).decode("ascii")
    subject = Header("RE: Принтер", "windows-1251").encode()
    name = Header("Сидорова Анна", "windows-1251").encode()
    return crlf(f"""From: "{name}" <anna@customer.example>
To: <support@opsdesk.example>
Subject: {subject}
Message-ID: <AM0PR01MB1234@eurprd01.prod.outlook.com>
MIME-Version: 1.0
X-Mailer: Microsoft Outlook 16.0
Content-Type: multipart/alternative; boundary="----=_NextPart_000_0001"

------=_NextPart_000_0001
Content-Type: text/plain; charset="windows-1251"
Content-Transfer-Encoding: quoted-printable

{qp_text}
------=_NextPart_000_0001
Content-Type: text/html; charset="windows-1251"
Content-Transfer-Encoding: quoted-printable

{qp_html}
------=_NextPart_000_0001--
""")


def iso8859_5_base64() -> bytes:
    body = b64("Сервер недоступен с 9 утра.\n".encode("iso-8859-5"))
    return crlf(f"""From: olga@customer.example
To: support@opsdesk.example
Subject: =?ISO-8859-5?Q?=C1=D5=E0=D2=D5=E0?=
Message-ID: <iso@customer.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=ISO-8859-5
Content-Transfer-Encoding: base64

{body}""")


def attachments_rfc2231() -> bytes:
    """Attachments whose names are encoded three ways: RFC 2231, RFC 2231 continuations, RFC 2047."""
    return crlf(f"""From: Ivan Petrov <ivan@customer.example>
To: support@opsdesk.example
Subject: Files
Message-ID: <files@customer.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

See the files.
--b1
Content-Type: application/pdf
Content-Disposition: attachment; filename*=UTF-8''%D0%A1%D1%87%D1%91%D1%82.pdf
Content-Transfer-Encoding: base64

{b64(b"%PDF-1.4 invoice")}
--b1
Content-Type: text/plain; charset=koi8-r
Content-Disposition: attachment;
 filename*0*=koi8-r''%F0%D2%CF%D4%CF;
 filename*1=kol.txt
Content-Transfer-Encoding: base64

{b64("протокол".encode("koi8-r"))}
--b1
Content-Type: image/png; name="=?UTF-8?B?{base64.b64encode("Скриншот.png".encode()).decode()}?="
Content-Disposition: attachment; filename="=?UTF-8?B?{base64.b64encode("Скриншот.png".encode()).decode()}?="
Content-Transfer-Encoding: base64

{b64(PNG)}
--b1--
""")


def broken_charset() -> bytes:
    """A body that claims a charset no one knows; its bytes are Windows-1251."""
    head = crlf("""From: ivan@customer.example
To: support@opsdesk.example
Subject: =?x-unknown-charset?Q?=C0=E2=E0=F0=E8=FF?=
Message-ID: <broken-charset@customer.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="x-broken-123"
Content-Transfer-Encoding: 8bit
""")
    return head + b"\r\n" + "Авария на складе.\r\n".encode("cp1251")


def raw_8bit_subject() -> bytes:
    """A careless program: the subject in raw Windows-1251 bytes, no encoded words."""
    return (
        b"From: ivan@customer.example\r\nTo: support@opsdesk.example\r\n"
        + "Subject: Срочно\r\n".encode("cp1251")
        + b"Message-ID: <raw8bit@customer.example>\r\nContent-Type: text/plain; charset=windows-1251\r\n\r\n"
        + "Текст.\r\n".encode("cp1251")
    )


def html_only() -> bytes:
    """Gmail's HTML-only reply: a script, a style, a link and the quoted history in a blockquote."""
    html = """<html><head><style>p{color:red}</style><script>alert('x')</script></head><body>
<div dir="ltr">Hello,<br>the <b>VPN</b> is down again. See <a href="https://status.example/vpn">status</a>.</div>
<img src="https://tracker.example/p.gif" onerror="alert(1)">
<div class="gmail_quote"><div class="gmail_attr">On Sat, 5 Dec 2026 at 18:00, Support &lt;support@opsdesk.example&gt;
 wrote:<br></div><blockquote class="gmail_quote">We restarted the VPN gateway.</blockquote></div>
</body></html>"""
    return crlf(f"""From: Maria <maria@customer.example>
To: support@opsdesk.example
Subject: VPN
Message-ID: <CAHTML@mail.gmail.com>
MIME-Version: 1.0
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: base64

{b64(html.encode())}""")


def nested_inline_image() -> bytes:
    """Apple Mail: mixed > related > alternative, an inline image by Content-ID and an attached PDF."""
    return crlf(f"""From: Ivan Petrov <ivan@customer.example>
To: support@opsdesk.example
Subject: Screenshot of the error
Message-ID: <nested@customer.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=us-ascii

The error is on the screenshot.

--alt
Content-Type: text/html; charset=us-ascii

<p>The error is on the screenshot.</p><img src="cid:shot1@customer.example">
--alt--

--rel
Content-Type: image/png
Content-ID: <shot1@customer.example>
Content-Disposition: inline
Content-Transfer-Encoding: base64

{b64(PNG)}
--rel--

--outer
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

{b64(b"%PDF-1.4 report")}
--outer--
""")


def bounce(original_message_id: str) -> bytes:
    """A Postfix delivery status notification for a reply OpsDesk sent."""
    return crlf(f"""Return-Path: <>
From: MAILER-DAEMON@mx.opsdesk.example (Mail Delivery System)
To: support@opsdesk.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce1@mx.opsdesk.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"

--dsn
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--dsn
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.opsdesk.example

Final-Recipient: rfc822; gone@customer.example
Action: failed
Status: 5.1.1

--dsn
Content-Type: text/rfc822-headers

From: support@opsdesk.example
To: gone@customer.example
Subject: [#1] Printer jam
Message-ID: {original_message_id}

--dsn--
""")


def out_of_office() -> bytes:
    return plain(
        sender="Ivan Petrov <ivan@customer.example>",
        subject="Automatic reply: [#1] Printer jam",
        body="I am out of the office until Monday.",
        message_id="<ooo@customer.example>",
        headers="Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All",
    )


def no_body() -> bytes:
    return (
        crlf("""From: ivan@customer.example
To: support@opsdesk.example
Subject: Call me
Message-ID: <nobody@customer.example>
""")
        + b"\r\n"
    )


def broken_mime() -> bytes:
    """A multipart without its closing boundary, a part with broken base64, a header with a bad encoded word."""
    return crlf("""From: ivan@customer.example
To: support@opsdesk.example
Subject: =?utf-8?B?broken=?= report
Message-ID: <brokenmime@customer.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="zz"

--zz
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

SGVsbG8sIHRoZSBkaXNrIGlzIGZ1bGwu!!!notbase64
--zz
Content-Type: application/octet-stream; name="dump.bin"
Content-Transfer-Encoding: base64

AAEC###
""")
