"""The one writer of attachments: checks the limits, stores the files, links them to a message.

Every way a file arrives (portal upload, intake API, mailbox) builds ``IncomingFile`` values and
calls ``check`` before it saves anything of the message, then ``attach`` inside the same
transaction. A refused file refuses the whole message: nothing is half saved.

Limits (settings, docs/channels.md): ``ATTACHMENT_MAX_FILE_BYTES`` per file,
``ATTACHMENT_MAX_MESSAGE_BYTES`` and ``ATTACHMENT_MAX_FILES`` per message, and
``ATTACHMENT_FORBIDDEN_EXTENSIONS`` (executables and scripts).
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from core import fastinsert
from tickets.models import Attachment, Message

MAX_NAME = 200
SIGNING_SALT = "opsdesk.attachment-link"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True)
class IncomingFile:
    """A file on its way in, whatever brought it."""

    filename: str
    content_type: str
    content: bytes
    content_id: str = ""

    @classmethod
    def from_upload(cls, upload) -> IncomingFile:
        """From a Django ``UploadedFile`` (the portal's multipart field ``attachments``)."""
        return cls(filename=upload.name or "", content_type=upload.content_type or "", content=upload.read())


def clean_filename(name: str) -> str:
    """A file name safe to show and to put in a header: no path, no control characters, not too long."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:MAX_NAME]
    return name or "file"


def content_type_of(file: IncomingFile) -> str:
    """The declared type when it is a plain ``type/subtype``, else guessed from the name."""
    declared = (file.content_type or "").split(";", 1)[0].strip().lower()
    if re.fullmatch(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*", declared) and len(declared) <= 100:
        return declared
    guessed, _encoding = mimetypes.guess_type(clean_filename(file.filename))
    return guessed or "application/octet-stream"


def _extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def check(files: Sequence[IncomingFile]) -> None:
    """Raise ``ValidationError`` naming every file that breaks a limit; return quietly otherwise."""
    check_sizes([(file.filename, len(file.content)) for file in files])


def check_sizes(files: Sequence[tuple[str, int]]) -> None:
    """``check`` on ``(file name, size)`` pairs: an upload or a base64 string is judged before it is read."""
    errors: list[str] = []
    max_files = int(settings.ATTACHMENT_MAX_FILES)
    max_file = int(settings.ATTACHMENT_MAX_FILE_BYTES)
    max_message = int(settings.ATTACHMENT_MAX_MESSAGE_BYTES)
    forbidden = {ext.lower().lstrip(".") for ext in settings.ATTACHMENT_FORBIDDEN_EXTENSIONS}
    if len(files) > max_files:
        errors.append(_("At most %(count)d files can be attached to one message.") % {"count": max_files})
    total = 0
    for filename, size in files:
        name = clean_filename(filename)
        total += size
        if size == 0:
            errors.append(_("“%(name)s” is empty.") % {"name": name})
        elif size > max_file:
            errors.append(
                _("“%(name)s” is %(size)s; a file may be at most %(limit)s.")
                % {"name": name, "size": filesizeformat(size), "limit": filesizeformat(max_file)}
            )
        if _extension(name) in forbidden:
            errors.append(_("Files of type “.%(ext)s” cannot be attached.") % {"ext": _extension(name)})
    if total > max_message:
        errors.append(
            _("The files add up to %(size)s; one message may carry at most %(limit)s.")
            % {"size": filesizeformat(total), "limit": filesizeformat(max_message)}
        )
    if errors:
        raise ValidationError(errors, code="attachment")


def limits_text() -> str:
    """The limits in a sentence, shown beside every file field and in the API's documentation."""
    return _("Up to %(count)d files, %(file)s each, %(total)s in all.") % {
        "count": int(settings.ATTACHMENT_MAX_FILES),
        "file": filesizeformat(int(settings.ATTACHMENT_MAX_FILE_BYTES)),
        "total": filesizeformat(int(settings.ATTACHMENT_MAX_MESSAGE_BYTES)),
    }


def history_names(files: Sequence[IncomingFile]) -> dict:
    """What the history row of a message says of its files: ``{"attachments": [stored names]}``, or nothing."""
    return {"attachments": [clean_filename(f.filename) for f in files]} if files else {}


def attach(message: Message, files: Iterable[IncomingFile], *, by=None) -> list[Attachment]:
    """Store ``files`` and link them to ``message``; call ``check`` first (inside the same transaction).

    The files are written first, then their rows in one ``INSERT`` (one query however many files).
    """
    stored = []
    for file in files:
        attachment = Attachment(
            ticket_id=message.ticket_id,
            message=message,
            filename=clean_filename(file.filename),
            content_type=content_type_of(file),
            size=len(file.content),
            sha256=hashlib.sha256(file.content).hexdigest(),
            content_id=(file.content_id or "")[:255],
            uploaded_by=by,
        )
        attachment.file.save(attachment.filename, ContentFile(file.content), save=False)
        stored.append(attachment)
    return fastinsert.insert(stored)


def download_token(attachment: Attachment) -> str:
    """A signed token for a download link without a login (gateway callbacks); see ``attachment_for_token``."""
    return signing.TimestampSigner(salt=SIGNING_SALT).sign(f"{attachment.pk}:{attachment.sha256[:16]}")


def attachment_for_token(token: str) -> Attachment | None:
    """The attachment a token names while it is fresh (``ATTACHMENT_LINK_MAX_AGE`` seconds), else ``None``."""
    try:
        value = signing.TimestampSigner(salt=SIGNING_SALT).unsign(token, max_age=settings.ATTACHMENT_LINK_MAX_AGE)
        pk, digest = value.split(":", 1)
        return Attachment.objects.filter(pk=int(pk), sha256__startswith=digest).first()
    except (signing.BadSignature, ValueError):
        return None
