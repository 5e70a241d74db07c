"""Serving attachments: only to people who can see the ticket, or to a holder of a fresh signed link.

``GET /attachments/<id>/`` answers 404 to anyone who cannot see the file's ticket (and for a note's file,
to anyone who does not read notes: ``tickets.selectors.attachment_for``). ``GET /attachments/s/<token>/``
serves the file a signed, expiring token names (``tickets.attachments.download_token``), without a login:
the links gateway callbacks carry. Files stream from the storage (``FileResponse``), never whole in memory.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from tickets.attachments import attachment_for_token
from tickets.models import Attachment
from tickets.selectors import attachment_for

# The file is never a page: no script, no plugin, no form; sandboxed even if a browser renders it.
FILE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''…`` (RFC 6266 and 5987): every browser gets the real name."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in fallback).strip() or "file"
    if "." in filename and "." not in fallback:
        fallback += "." + filename.rpartition(".")[2].encode("ascii", "ignore").decode("ascii")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def serve(attachment: Attachment, *, inline: bool = False) -> FileResponse:
    """Stream the stored file with its name, its stored type and headers that keep it from acting as a page."""
    inline = inline and attachment.is_image
    try:
        stream = attachment.file.open("rb")
    except OSError:  # the row outlived its file (restored backup, lost volume): nothing to serve
        raise Http404 from None
    response = FileResponse(stream, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition(attachment.filename, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_POLICY
    response["Cache-Control"] = "private, no-store" if not inline else "private, max-age=3600"
    return response


@login_required
@require_GET
def download(request, pk: int):
    """A file of a ticket the user can see; ``?inline=1`` shows an image in the page (previews)."""
    attachment = attachment_for(request.user, pk)
    if attachment is None:
        raise Http404
    return serve(attachment, inline=request.GET.get("inline") == "1")


@require_GET
def signed(request, token: str):
    """A file by a signed, expiring link (gateway callbacks); 404 when the token is expired or forged."""
    attachment = attachment_for_token(token)
    if attachment is None:
        raise Http404
    response = serve(attachment)
    response["Referrer-Policy"] = "no-referrer"
    return response
