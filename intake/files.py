"""The ``attachments`` of an intake payload: ``[{filename, content_type, data_base64}]`` into ``IncomingFile`` values.

Pure shape checking (no database), part of step 1 of ``intake.services``: every problem goes into the
``errors`` mapping under the field it concerns (``attachments``, ``attachments[2].data_base64``…) with the
file's name in the message, so one 422 answer lists them all and nothing is saved. A file's size is
judged from the length of its base64 text before it is decoded.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.text import text_problem
from tickets.attachments import IncomingFile, check_sizes, clean_filename

MAX_CONTENT_TYPE = 100


def decoded_size(data: str) -> int:
    """The number of bytes a (whitespace-free) base64 text decodes to."""
    return len(data) * 3 // 4 - data[-2:].count("=") if data else 0


def _limit_problems(files: list[tuple[str, int]]) -> str:
    try:
        check_sizes(files)
    except ValidationError as error:
        return " ".join(error.messages)
    return ""


def parse_attachments(value: Any, errors: dict[str, str]) -> tuple[IncomingFile, ...]:
    """The files of a payload, or ``()`` with each problem added to ``errors``; ``None`` means no files."""
    problems: dict[str, str] = {}
    files = _parse(value, problems)
    errors.update(problems)
    return () if problems else files


def _parse(value: Any, problems: dict[str, str]) -> tuple[IncomingFile, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems["attachments"] = _("Must be a list of objects with “filename”, “content_type” and “data_base64”.")
        return ()
    items: list[tuple[int, str, str, str]] = []
    for index, item in enumerate(value):
        field = f"attachments[{index}]"
        if not isinstance(item, dict):
            problems[field] = _("Must be an object with “filename”, “content_type” and “data_base64”.")
            continue
        filename, content_type, data = item.get("filename"), item.get("content_type") or "", item.get("data_base64")
        if not isinstance(filename, str) or not filename.strip() or text_problem(filename):
            problems[f"{field}.filename"] = _("The file name is required (a string).")
            continue
        name = {"name": clean_filename(filename)}
        if not isinstance(content_type, str) or len(content_type) > MAX_CONTENT_TYPE:
            problems[f"{field}.content_type"] = (
                _("“%(name)s”: the content type must be a string like “image/png”.") % name
            )
        elif not isinstance(data, str):
            problems[f"{field}.data_base64"] = _("“%(name)s”: the content is required, as a base64 string.") % name
        else:
            items.append((index, filename, content_type, "".join(data.split())))
    for index, filename, _type, data in items:
        problem = _limit_problems([(filename, decoded_size(data))])
        if problem:
            problems[f"attachments[{index}]"] = problem
    if problems:
        return ()
    total = _limit_problems([(filename, decoded_size(data)) for _index, filename, _type, data in items])
    if total:
        problems["attachments"] = total
        return ()
    files = []
    for index, filename, content_type, data in items:
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            problems[f"attachments[{index}].data_base64"] = _("“%(name)s”: not valid base64.") % {
                "name": clean_filename(filename)
            }
            continue
        files.append(IncomingFile(filename=filename, content_type=content_type, content=content))
    if not problems:
        problem = _limit_problems([(f.filename, len(f.content)) for f in files])  # exact sizes, once decoded
        if problem:
            problems["attachments"] = problem
    return tuple(files)
