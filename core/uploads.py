"""An upload handler that never keeps more of an ``attachments`` field than a message may carry.

Django writes a multipart upload to memory or a temporary file before any view runs, so a 2 GB "photo"
would fill the disk before the form could refuse it. This handler (first in ``FILE_UPLOAD_HANDLERS``)
watches the files of the field named ``attachments``: once a file passes ``ATTACHMENT_MAX_FILE_BYTES``,
or the request's files together pass ``ATTACHMENT_MAX_MESSAGE_BYTES``, it stops handing the rest on to
Django's handlers and yields an ``OversizedUpload``: the name and the size actually received, no content.
The form's limit check then refuses it with the usual message naming the file. Other file fields (admin
imports) are left alone.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

FIELD = "attachments"


class OversizedUpload(UploadedFile):
    """A file the server did not keep because it broke a size limit: its name and size, no content."""

    def __init__(self, name: str, content_type: str, size: int, charset: str | None):
        super().__init__(io.BytesIO(), name, content_type, size, charset)


class AttachmentSizeGuard(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.total = 0  # bytes of every attachment of this request so far

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        self.received = 0
        self.over = False

    def receive_data_chunk(self, raw_data, start):
        if self.field_name != FIELD:
            return raw_data
        self.received += len(raw_data)
        self.total += len(raw_data)
        too_big = self.received > settings.ATTACHMENT_MAX_FILE_BYTES
        if too_big or self.total > settings.ATTACHMENT_MAX_MESSAGE_BYTES:
            self.over = True
        return None if self.over else raw_data

    def file_complete(self, file_size):
        if self.field_name == FIELD and self.over:
            return OversizedUpload(self.file_name, self.content_type, self.received, self.charset)
        return None
