"""One RFC 5322 message read into plain values: who, what, which conversation, which files, which noise.

Python's ``email`` package with ``policy.default`` does the MIME work; every header and part is read
defensively (a header the package cannot parse is decoded from its raw form, an unknown charset
falls back to a guess), so any message that has headers at all gives a ``ParsedEmail``. Only a
message with no header at all raises ``Unparseable``.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.header
import email.utils
import functools
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import BaseHeader, UnstructuredHeader
from email.message import EmailMessage, Message
from email.policy import EmailPolicy

from channels.inbound.text import clean_text, decode_bytes, html_to_text, strip_quoted

MAX_DEPTH = 20  # nested multiparts deeper than this are hostile
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,250})>")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:", re.M)
_LINE_BREAK = re.compile(r"\n|\r")
_BASE64_CTE = re.compile(rb"content-transfer-encoding:[ \t]*base64[ \t]*\r?", re.I)
_BLANK_LINE = re.compile(rb"\n\r?\n")
_BASE64_LINES = re.compile(rb"(?:[A-Za-z0-9+/=]+\r?\n){16,}")  # a body of at least 16 lines of base64
_BASE64_LINE_RUN = re.compile(rb"(?:[A-Za-z0-9+/=]+\r?\n)*")
_BASE64_AND_BREAKS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n"
_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # what ``str.split()`` splits on among ASCII characters


_UNSTRUCTURED = type("_UnstructuredHeader", (UnstructuredHeader, BaseHeader), {})


@functools.lru_cache(maxsize=512)
def _header(factory, name: str, value: str):
    try:
        return factory(name, value)
    except Exception:
        # The standard library's structured parsers (addresses, dates, parameters) crash on some broken
        # values (an IndexError on a cut "<" in From): keep such a header as plain text instead.
        return _UNSTRUCTURED(name, value)


class _ParsedHeadersPolicy(EmailPolicy):
    """``policy.default`` that parses each distinct header value once.

    The default policy keeps headers as source text and parses one again on every read: the parser itself
    reads a part's ``Content-Type`` several times, and so does ``_walk``. Header objects are immutable
    strings, so handing out the same one for the same (name, value) changes nothing but the time spent.
    """

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return value
        value = "".join(_LINE_BREAK.split(value))  # as EmailPolicy.header_fetch_parse does
        return _header(self.header_factory, name, value)


READ_POLICY = _ParsedHeadersPolicy()


class Unparseable(Exception):
    """Not an email at all (no header): the MTA should bounce it (``EX_DATAERR``)."""


@dataclass(frozen=True)
class MailFile:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""


@dataclass
class ParsedEmail:
    message_id: str  # "<id@host>" as sent, or a digest of the raw bytes when the sender gave none
    sender: str  # the From address, lower-case; "" when there is none
    sender_name: str
    subject: str
    text: str  # the whole text of the mail (HTML rendered as text)
    conversation_text: str  # ``text`` without the quoted history
    in_reply_to: list[str] = field(default_factory=list)  # "<id>" values of In-Reply-To, then References
    reply_to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    return_path: str | None = None  # None: no Return-Path header; "": the null sender "<>"
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name -> decoded value (first only)
    files: list[MailFile] = field(default_factory=list)
    is_delivery_report: bool = False
    reported_message_ids: list[str] = field(default_factory=list)  # a bounce's original Message-ID(s)
    html_only: bool = False


def header_text(message: Message, name: str) -> str:
    """The decoded value of the first ``name`` header, "" when absent; never raises."""
    try:
        value = message.get(name)
        if value is None:
            return ""
        text = clean_text(str(value)).strip()
        if "\ufffd" not in text:
            return text
    except Exception:
        pass
    for key, raw in getattr(message, "raw_items", lambda: [])():
        if key.lower() == name.lower():
            return decode_raw_header(raw)
    return ""


def decode_raw_header(raw: str) -> str:
    """An RFC 2047 header value decoded by hand, whatever charsets its words claim."""
    try:
        parts = email.header.decode_header(raw)
    except Exception:
        return clean_text(raw).strip()
    out = []
    for chunk, charset in parts:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else clean_text(chunk))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs of an address header; bad entries are dropped."""
    values = []
    for raw in message.get_all(name, []) if _safe_get_all(message) else []:
        try:
            values.append(str(raw))
        except Exception:
            continue
    pairs = []
    for display, address in email.utils.getaddresses([clean_text(v) for v in values]):
        address = address.strip().lower()
        if address and "@" in address and len(address) <= 254 and not re.search(r"[\s<>]", address):
            pairs.append((decode_raw_header(display) if "=?" in display else display.strip(), address))
    return pairs


def _safe_get_all(message: Message) -> bool:
    return hasattr(message, "get_all")


def message_ids(value: str) -> list[str]:
    return [f"<{found}>" for found in _MESSAGE_ID.findall(value or "")]


def parse_email(raw: bytes) -> ParsedEmail:
    if not raw or not raw.strip() or not _HEADER_LINE.search(raw[:65536].split(b"\n\n", 1)[0]):
        raise Unparseable("no header")
    try:
        message = _parsed(raw)
    except Exception as error:
        raise Unparseable(str(error)) from error
    if not list(message.keys()):
        raise Unparseable("no header")

    senders = addresses(message, "From") or addresses(message, "Sender")
    sender_name, sender = senders[0] if senders else ("", "")
    own_ids = message_ids(header_text(message, "Message-ID"))
    message_id = own_ids[0] if own_ids else f"<sha256-{hashlib.sha256(raw).hexdigest()}@opsdesk.invalid>"
    thread_ids = message_ids(header_text(message, "In-Reply-To"))
    thread_ids += [mid for mid in reversed(message_ids(header_text(message, "References"))) if mid not in thread_ids]

    return_path = None
    if "Return-Path" in message:
        found = re.search(r"<([^>]*)>", header_text(message, "Return-Path"))
        return_path = (found.group(1) if found else header_text(message, "Return-Path")).strip().lower()

    parsed = ParsedEmail(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name[:200],
        subject=header_text(message, "Subject"),
        text="",
        conversation_text="",
        in_reply_to=thread_ids,
        reply_to=[address for _name, address in addresses(message, "Reply-To")],
        cc=[address for _name, address in addresses(message, "Cc")],
        to=[address for _name, address in addresses(message, "To")],
        return_path=return_path,
        headers={
            name: header_text(message, name)
            for name in (
                "auto-submitted",
                "precedence",
                "x-autoreply",
                "x-autorespond",
                "list-id",
                "x-auto-response-suppress",
                "x-failed-recipients",
            )
            if name in message
        },
    )
    plain: list[str] = []
    html: list[str] = []
    _walk(message, parsed, plain, html, depth=0)
    if plain:
        parsed.text = "\n\n".join(part.strip() for part in plain if part.strip())
    elif html:
        parsed.html_only = True
        parsed.text = "\n\n".join(html_to_text(part) for part in html)
    parsed.text = parsed.text.strip()
    parsed.conversation_text = strip_quoted(parsed.text) if parsed.text else ""
    return parsed


def _parsed(raw: bytes) -> Message:
    """``raw`` read by the standard library's parser, its long base64 bodies set aside while it runs.

    The parser handles a body line by line in Python and then searches the whole body for its last line
    break: a 100 KB attachment is 1,800 lines, most of the parse. Each base64 body of a part (the lines right
    after headers that say ``Content-Transfer-Encoding: base64``) is replaced by a one-line token for the
    parse and put back into its part after it: the same tree, for a fraction of the time. Whenever that is
    not plainly so (a token not found as a whole body, an attached message), the message is parsed again as
    it came.
    """
    fed, bodies = _set_aside_base64(raw)
    if not bodies:
        return email.message_from_bytes(raw, policy=READ_POLICY)
    message = email.message_from_bytes(fed, policy=READ_POLICY)
    restored = 0
    for part in message.walk():
        if part.get_content_maintype() == "message":
            return email.message_from_bytes(raw, policy=READ_POLICY)
        payload = _get_payload(part) if not part.is_multipart() else None
        if isinstance(payload, str) and payload.strip() in bodies:
            part.set_payload(bodies[payload.strip()])
            restored += 1
    if restored != len(bodies):
        return email.message_from_bytes(raw, policy=READ_POLICY)
    return message


def _set_aside_base64(raw: bytes) -> tuple[bytes, dict[str, str]]:
    """``raw`` with each long base64 body replaced by a token line, and the bodies by token."""
    if len(raw) < 16384:
        return raw, {}
    found = sorted({*_positions(raw, b"ase64"), *_positions(raw, b"ASE64")})
    nonce = secrets.token_hex(8)
    pieces, bodies, done = [], {}, 0
    for at in found:
        line_start = raw.rfind(b"\n", 0, at) + 1
        line_end = raw.find(b"\n", at)
        if line_start < done or line_end < 0 or not _BASE64_CTE.fullmatch(raw, line_start, line_end):
            continue
        head_start = raw.rfind(b"\n--", 0, line_start) + 1  # the part's boundary line; 0: the message itself
        if _BLANK_LINE.search(raw, head_start, line_start + 1):
            continue  # not in a header block
        blank = _BLANK_LINE.search(raw, line_end)
        if blank is None:
            continue
        start = blank.end()
        end = _base64_lines_end(raw, start)
        if end is None:
            continue
        body = raw[start:end]
        token = f"opsdesk-base64-{nonce}-{len(bodies)}"
        bodies[token] = body.decode("ascii")
        pieces += [raw[done:start], token.encode("ascii"), b"\r\n" if body.endswith(b"\r\n") else b"\n"]
        done = end
    if not bodies:
        return raw, {}
    pieces.append(raw[done:])
    return b"".join(pieces), bodies


def _base64_lines_end(raw: bytes, start: int) -> int | None:
    """Where ``_BASE64_LINES`` matching at ``start`` ends, or None when it does not match.

    The regex walks the body line by line. When everything up to the next boundary line is base64 characters
    and line breaks (one ``translate``, in C) and written as encoders write it, :func:`_even_lines_end` finds
    the same end without it; otherwise the regex decides.
    """
    boundary = raw.find(b"\n--", start)
    run = raw[start : len(raw) if boundary < 0 else boundary + 1]
    end = None if run.translate(None, _BASE64_AND_BREAKS) else _even_lines_end(raw, start, run)
    if end is not None:
        return end
    body = _BASE64_LINES.match(raw, start)
    return body.end() if body is not None else None


def _even_lines_end(raw: bytes, start: int, run: bytes) -> int | None:
    """Where ``_BASE64_LINES`` matching ``raw`` at ``start`` ends, when ``run`` (the base64 characters and line
    breaks from ``start``) begins with at least 16 lines as encoders write them: of one length, each ending
    alike (``\\n`` or ``\\r\\n``) and holding no other line break. Else None (the regex decides).

    Those lines are checked by slicing out every line end at once and counting line breaks, in C; the regex
    only reads what follows them (a shorter last line). A scan for empty lines or lone ``\\r`` would read the
    whole body several more times.
    """
    first = run.find(b"\n")
    crlf = first > 0 and run[first - 1] == 13  # "\r"
    if first < 1 + crlf:
        return None  # an empty first line
    width = first + 1
    full = len(run) // width
    if full < 16 or run[width - 1 :: width][:full] != b"\n" * full:
        return None
    if crlf and run[width - 2 :: width][:full] != b"\r" * full:
        return None
    even = full * width
    if run.count(b"\n", 0, even) != full or run.count(b"\r", 0, even) != (full if crlf else 0):
        return None
    return _BASE64_LINE_RUN.match(raw, start + even).end()


def _positions(raw: bytes, needle: bytes):
    at = raw.find(needle)
    while at >= 0:
        yield at
        at = raw.find(needle, at + 1)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    if not name:
        try:
            name = part.get_param("name", header="content-type") or ""
            if isinstance(name, tuple):  # RFC 2231 (charset, language, value)
                name = email.utils.collapse_rfc2231_value(name)
        except Exception:
            name = ""
    name = str(name)
    return decode_raw_header(name) if "=?" in name else clean_text(name).strip()


def _payload(part: Message) -> bytes:
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() == "base64":
        raw = _raw_payload(part)
        if raw is not None:
            return _lenient_base64(raw)
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = _raw_payload(part)
    return raw.encode("utf-8", "surrogateescape") if raw is not None else b""


def _raw_payload(part: Message) -> str | None:
    """The part's payload as undecoded text, or None (not text, or the library could not give it)."""
    raw = _get_payload(part)
    return raw if isinstance(raw, str) else None


def _get_payload(part: Message):
    """``part.get_payload()``, or None where the email library cannot give it: with 8-bit bytes in a text payload it
    decodes them with the part's charset parameter, and a mangled one (a NUL byte in it) makes that raise
    ``ValueError`` instead of the ``LookupError`` it handles."""
    try:
        return part.get_payload()
    except Exception:
        return None


def _lenient_base64(text: str) -> bytes:
    """Base64 up to the first character that does not belong (a broken sender's garbage is dropped)."""
    try:  # the whitespace dropped in C (for ASCII text, the same as ``"".join(text.split())``)
        compact = text.encode("ascii").translate(None, _ASCII_SPACE)
    except UnicodeEncodeError:
        compact = "".join(text.split()).encode("utf-8", "surrogateescape")
    try:
        # The usual case, well-formed base64, decoded in one C call: the same bytes as the lenient path below.
        return binascii.a2b_base64(compact, strict_mode=True)
    except (ValueError, binascii.Error):
        pass
    valid = re.match(rb"[A-Za-z0-9+/]*={0,2}", compact).group(0)
    valid = valid[: len(valid) - len(valid) % 4]
    try:
        return base64.b64decode(valid)
    except (ValueError, binascii.Error):
        return b""


def _part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(_payload(part), charset)


def _content_id(part: Message) -> str:
    return header_text(part, "Content-ID").strip().strip("<>")[:255]


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _walk(part: Message, parsed: ParsedEmail, plain: list[str], html: list[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    ctype = _content_type(part)
    if part.is_multipart() and ctype.startswith("multipart/"):
        subparts = part.get_payload()
        if not isinstance(subparts, list):
            return
        if ctype == "multipart/report":
            parsed.is_delivery_report = True
            _report(subparts, parsed)
        if ctype == "multipart/alternative":
            # The richest text the sender wrote once: the plain one when present, else the HTML one.
            plains = [p for p in subparts if _content_type(p) == "text/plain" and _disposition(p) != "attachment"]
            others = [p for p in subparts if p not in plains] if plains else subparts
            for sub in plains[:1] + [p for p in others if _content_type(p) != "text/html" or not plains]:
                _walk(sub, parsed, plain, html, depth + 1)
            return
        for sub in subparts:
            _walk(sub, parsed, plain, html, depth + 1)
        return
    filename = _filename(part)
    disposition = _disposition(part)
    if ctype in ("text/plain", "text/html") and not filename and disposition != "attachment":
        (plain if ctype == "text/plain" else html).append(_part_text(part))
        return
    if ctype == "message/rfc822" or ctype.startswith("message/"):
        content = _attached_message(part)
        if ctype in ("message/delivery-status", "message/rfc822-headers", "text/rfc822-headers"):
            return
        subject = _attached_subject(part)
        filename = filename or f"{(subject or 'message')[:80]}.eml"
        ctype = "message/rfc822"
    else:
        content = _payload(part)
    if not content:
        return
    if not filename:
        extension = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "text/calendar": "ics"}.get(ctype)
        filename = f"part-{len(parsed.files) + 1}.{extension or 'bin'}"
    parsed.files.append(MailFile(filename=filename, content_type=ctype, content=content, content_id=_content_id(part)))


def _attached_message(part: Message) -> bytes:
    inner = _get_payload(part)
    if isinstance(inner, list) and inner:
        try:
            return inner[0].as_bytes(policy=policy.default.clone(linesep="\r\n"))
        except Exception:
            return b""
    return _payload(part)


def _attached_subject(part: Message) -> str:
    inner = _get_payload(part)
    if isinstance(inner, list) and inner and isinstance(inner[0], EmailMessage | Message):
        return re.sub(r'[\\/:*?"<>|]+', "_", header_text(inner[0], "Subject"))
    return ""


def _report(subparts: list, parsed: ParsedEmail) -> None:
    """A delivery status notification: the Message-ID of the mail that bounced."""
    for sub in subparts:
        ctype = _content_type(sub)
        if ctype in ("message/rfc822", "message/rfc822-headers", "text/rfc822-headers"):
            inner = _get_payload(sub)
            if isinstance(inner, list) and inner:
                parsed.reported_message_ids += message_ids(header_text(inner[0], "Message-ID"))
            else:
                text = _part_text(sub)
                found = re.search(r"^message-id:\s*(<[^>]+>)", text, re.I | re.M)
                if found:
                    parsed.reported_message_ids.append(found.group(1))
