"""Text of an email for the conversation: bytes in any charset, HTML as plain text, quoted history cut off.

Pure functions (standard library only). Nothing here ever raises on bad input: a broken charset
falls back to a guess, broken HTML is read as far as it goes.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

FALLBACK_CHARSETS = ("utf-8", "windows-1251", "koi8-r")
# Names mail programs use that Python's codecs do not know.
CHARSET_ALIASES = {
    "x-unknown": "",
    "unknown-8bit": "",
    "x-user-defined": "",
    "windows-874": "cp874",
    "ks_c_5601-1987": "euc-kr",
    "x-mac-cyrillic": "mac-cyrillic",
    "ansi_x3.4-1968": "ascii",
    "cp-850": "cp850",
    "utf8": "utf-8",
}


def known_charset(charset: str | None) -> str:
    """A codec name Python knows for ``charset``, or "" when it is unknown or missing."""
    name = (charset or "").strip().strip('"').lower()
    name = CHARSET_ALIASES.get(name, name)
    if not name:
        return ""
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return ""


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """``data`` as text: in its declared charset when that fits, else UTF-8, Windows-1251, KOI8-R; never raises."""
    declared = known_charset(charset)
    candidates = [declared] if declared else []
    if declared in ("", "ascii"):
        candidates += [name for name in FALLBACK_CHARSETS if name not in candidates]
    for name in candidates:
        try:
            return clean_text(data.decode(name))
        except (UnicodeDecodeError, LookupError):
            continue
    return clean_text(data.decode(declared or "utf-8", errors="replace"))


def clean_text(text: str) -> str:
    """No NUL characters or lone surrogates (no database stores them), ``\\n`` line ends."""
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        # Raw 8-bit bytes that the email package kept as surrogates: decode them as bytes.
        text = decode_bytes(text.encode("utf-8", "surrogateescape"))
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")


# --- HTML ---------------------------------------------------------------------------------------

_BLOCK = {
    "p",
    "div",
    "br",
    "tr",
    "table",
    "ul",
    "ol",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
    "address",
    "dl",
    "dt",
    "dd",
    "center",
}
_SKIP = {"script", "style", "head", "title", "template", "noscript", "object", "iframe", "svg", "math"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "area", "base", "col", "embed", "source", "track"}


class _TextRenderer(HTMLParser):
    """Collects the visible text; ``blockquote`` contents become ``>`` quoted lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.quote_depth = 0
        self.pre_depth = 0
        self.links: list[str | None] = []

    def _flush(self, force: bool = False) -> None:
        text = "".join(self.current)
        if not self.pre_depth:
            text = re.sub(r"[ \t\u00a0]+", " ", text).strip()
        if not text and not force:
            self.current = []
            return
        for line in text.split("\n") if self.pre_depth else [text]:
            self.lines.append(("> " * self.quote_depth) + line if self.quote_depth and line else line)
        self.current = []

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if tag == "br":
            self._flush(force=True)
        elif tag in _BLOCK or tag == "blockquote":
            self._flush()
        if tag == "p" and self.lines and self.lines[-1]:
            self.lines.append("")  # a paragraph stands apart
        if tag == "blockquote":
            self.quote_depth += 1
        elif tag == "pre":
            self.pre_depth += 1
        elif tag == "li":
            self.current.append("- ")
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")
        if tag in ("td", "th") and self.current:
            self.current.append(" ")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if tag == "a" and self.links:
            href = self.links.pop()
            shown = "".join(self.current)
            if (
                href
                and href.startswith(("http://", "https://", "mailto:"))
                and href.removeprefix("mailto:") not in shown
            ):
                self.current.append(f" ({href})")
        if tag in _BLOCK or tag == "blockquote":
            self._flush()
        if tag == "p":
            self.lines.append("")
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)

    def handle_data(self, data):
        if not self.skip_depth:
            self.current.append(data if self.pre_depth else data.replace("\n", " "))


def html_to_text(html: str) -> str:
    """The visible text of an HTML email, paragraphs kept, markup dropped (nothing of it is ever rendered)."""
    renderer = _TextRenderer()
    try:
        renderer.feed(html)
        renderer.close()
    except Exception:
        pass
    renderer._flush()
    return squeeze_blank_lines("\n".join(renderer.lines))


def squeeze_blank_lines(text: str) -> str:
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- Quoted history ---------------------------------------------------------------------------

# A line where the quoted earlier mail starts; everything from it down is history.
_SEPARATORS = [
    re.compile(
        r"^-{2,}\s*(original message|исходное сообщение|forwarded message|пересылаемое сообщение)\s*-{2,}", re.I
    ),
    re.compile(r"^_{10,}\s*$"),  # Outlook's rule above the quoted header block
    re.compile(r"^on\b.{0,300}\bwrote:\s*$", re.I),  # Gmail, Apple Mail, Thunderbird
    re.compile(r"^.{0,300}\b(написал|написала|написал\(а\)|пишет)\s*:\s*$", re.I),  # Gmail, Yandex, Mail.ru in Russian
    re.compile(r"^\d{1,2}[./]\d{1,2}[./]\d{2,4},? \d{1,2}:\d{2}.{0,200}:\s*$"),  # "06.12.2026, 10:00, Ivan <i@x>:"
    re.compile(
        r"^.{0,100}\d{4}\s*г\.,? в \d{1,2}:\d{2}.{0,200}:\s*$"
    ),  # Gmail: "пн, 7 дек. 2026 г. в 10:00, Ivan <i@x>:"
    re.compile(r"^(am|le|el)\b.{0,300}\b(schrieb|a écrit|escribió)\s*.{0,40}:\s*$", re.I),
]
# Outlook without a rule: "From: …" followed within two lines by "Sent: …" / "От: …" and "Отправлено: …".
_HEADER_FROM = re.compile(r"^\*?(from|от|de|von)\s*:\*?\s", re.I)
_HEADER_NEXT = re.compile(r"^\*?(sent|date|to|subject|отправлено|дата|кому|тема|envoyé|gesendet)\s*:", re.I)


def _is_separator(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if any(pattern.match(line) for pattern in _SEPARATORS):
        return True
    if _HEADER_FROM.match(line):
        following = [text.strip() for text in lines[index + 1 : index + 3]]
        return any(_HEADER_NEXT.match(text) for text in following)
    # "On Mon, 1 Dec 2026 at 10:00, Ivan <ivan@example.com>\nwrote:": the attribution wrapped.
    wrapped = index + 1 < len(lines) and lines[index + 1].strip().lower() == "wrote:"
    return wrapped and re.match(r"^on\b", line, re.I) is not None


def strip_quoted(text: str) -> str:
    """The new part of a reply: cut at the first reply separator and drop ``>`` quoted lines.

    When nothing would be left (a message that is all quote), the text is returned unchanged.
    """
    lines = text.split("\n")
    for index in range(len(lines)):
        if _is_separator(lines, index):
            lines = lines[:index]
            break
    kept = [line for line in lines if not line.lstrip().startswith(">")]
    result = squeeze_blank_lines("\n".join(kept))
    return result or squeeze_blank_lines(text)
